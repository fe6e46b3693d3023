package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// renderer shows the library's events in the workflow log: a log group per
// step of the deployment, a line per event, warnings and errors as
// annotations. It is safe for concurrent use, as event.Sink requires.
type renderer struct {
	mu        sync.Mutex
	a         *githubactions.Action
	workspace string
	group     string // the open log group, "" if none
}

var _ event.Sink = (*renderer)(nil)

func newRenderer(a *githubactions.Action, workspace string) *renderer {
	return &renderer{a: a, workspace: workspace}
}

// stepOf names the log group an event belongs to; "" keeps the current one.
func stepOf(k event.Kind) string {
	switch k {
	case event.Plan:
		return "Plan"
	case event.TagMoved:
		return "Move floating tags"
	case event.TaskStarted, event.TaskProgress, event.TaskDone, event.TaskLog:
		return "Run pre-deploy tasks"
	case event.ServiceUpdated, event.Progress, event.Heartbeat, event.ServiceDone,
		event.Stage, event.Traffic, event.Bake, event.Hook, event.Alarm:
		return "Roll out services"
	default:
		return ""
	}
}

// Emit renders one event.
func (r *renderer) Emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if step := stepOf(e.Kind); step != "" && step != r.group {
		r.endGroup()
		r.a.Group(step)
		r.group = step
	}
	switch e.Kind {
	case event.Warning:
		r.annotation(e).Warningf("%s", annotationText(describe(e)))
	case event.Alarm:
		// An alarm in ALARM fails the deployment: worth an annotation.
		r.annotation(e).Warningf("%s", annotationText(describe(e)))
	case event.Hook:
		if l := e.Lifecycle; l != nil && (l.HookStatus == "FAILED" || l.HookStatus == "TIMED_OUT") {
			r.annotation(e).Warningf("%s", annotationText(describe(e)))
			return
		}
		r.a.Infof("%s", safeLine(describe(e)))
	case event.Retry:
		// A line, not an annotation: under throttling there may be many.
		r.a.Infof("%s", safeLine("retry: "+describe(e)))
	case event.Failed:
		r.annotation(e).Errorf("%s", annotationText(describe(e)))
	case event.Finished:
		r.endGroup()
		r.a.Infof("%s", safeLine(describe(e)))
	default:
		r.a.Infof("%s", safeLine(describe(e)))
	}
}

// Close ends the open log group, if any.
func (r *renderer) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endGroup()
}

func (r *renderer) endGroup() {
	if r.group != "" {
		r.a.EndGroup()
		r.group = ""
	}
}

// annotation returns the action with the annotation's properties: the
// manifest's file and line when the event points there, and a title.
func (r *renderer) annotation(e event.Event) *githubactions.Action {
	return r.a.WithFieldsMap(r.annotationProps(e, title(e)))
}

func (r *renderer) annotationProps(e event.Event, title string) map[string]string {
	props := map[string]string{"title": title}
	if e.File != "" {
		props["file"] = r.relative(e.File)
		if e.Line > 0 {
			props["line"] = strconv.Itoa(e.Line)
		}
		if e.Column > 0 {
			props["col"] = strconv.Itoa(e.Column)
		}
	}
	return props
}

// relative makes a path relative to the workspace, as annotations need.
func (r *renderer) relative(file string) string {
	if r.workspace != "" && filepath.IsAbs(file) {
		if rel, err := filepath.Rel(r.workspace, file); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(file)
}

// annotateManifest annotates each diagnostic of an invalid manifest at its
// file, line and column, and returns an error saying how many there were.
func (r *renderer) annotateManifest(diags []manifest.Diagnostic, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endGroup()
	files := map[string]bool{}
	for _, d := range diags {
		msg := d.Message
		if d.Hint != "" {
			msg += " (" + d.Hint + ")"
		}
		e := event.Event{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Column, Message: msg, Kind: event.Failed}
		r.a.WithFieldsMap(r.annotationProps(e, "buoy: invalid manifest")).Errorf("%s", annotationText(msg))
		files[r.relative(d.Pos.File)] = true
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	problems := "1 problem"
	if len(diags) != 1 {
		problems = strconv.Itoa(len(diags)) + " problems"
	}
	return &reportedError{
		summary: fmt.Sprintf("the manifest %s has %s (annotated above): fix it and run again", strings.Join(names, ", "), problems),
		err:     err,
	}
}

// title is an annotation's title: what the event is about.
func title(e event.Event) string {
	var parts []string
	for _, p := range []string{e.Project, e.Environment} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	t := "buoy"
	if len(parts) > 0 {
		t += " " + strings.Join(parts, "/")
	}
	switch {
	case e.Service != "":
		t += ": service " + e.Service
	case e.Image != "":
		t += ": image " + e.Image
	case e.Task != "":
		t += ": pre-deploy task " + e.Task
	}
	return t
}

// describe is an event as one line a person reads.
func describe(e event.Event) string {
	var b strings.Builder
	switch {
	case e.Service != "":
		b.WriteString(e.Service)
		if e.Cluster != "" {
			b.WriteString(" (" + report.ShortCluster(e.Cluster) + ")")
		}
		b.WriteString(": ")
	case e.Image != "":
		b.WriteString(e.Image + ": ")
	case e.Task != "" && isTaskKind(e.Kind):
		b.WriteString(e.Task + ": ")
	}
	switch e.Kind {
	case event.TagMoved:
		switch e.From {
		case e.To:
			fmt.Fprintf(&b, "tag already at %s", report.ShortDigest(e.To))
		case "":
			fmt.Fprintf(&b, "tag → %s", report.ShortDigest(e.To))
		default:
			fmt.Fprintf(&b, "tag %s → %s", report.ShortDigest(e.From), report.ShortDigest(e.To))
		}
		if e.Message != "" {
			b.WriteString(" (" + e.Message + ")")
		}
		return b.String()
	case event.ServiceDone, event.Finished:
		// The library's Finished message says the outcome itself
		// ("deployment failed: …"): it is not said twice.
		said := e.Kind == event.Finished && strings.HasPrefix(e.Message, "deployment "+e.Outcome)
		if e.Outcome != "" && !said {
			b.WriteString(e.Outcome)
			if e.Message != "" {
				b.WriteString(": ")
			}
		}
	}
	b.WriteString(e.Message)
	return b.String()
}

// isTaskKind reports whether k is about a one-off task (a pre_deploy
// task), whose messages leave its id to the renderer.
func isTaskKind(k event.Kind) bool {
	return k == event.TaskStarted || k == event.TaskProgress || k == event.TaskDone || k == event.TaskLog
}

// safeLine makes text safe to print as a plain log line. The runner
// (actions/runner, ActionCommand.TryParseV2 and TryParse) reads a line as
// a workflow command in two forms: "::name ...::data" once leading white
// space is trimmed, and "##[name ...]data" anywhere in the line. So line
// breaks become spaces (text cannot start a line of its own), control and
// invisible characters are dropped (the runner's string search may skip
// them), every "##[" becomes "##\[", which starts no command, and a line
// that would begin with "::" is indented with each "::" broken to ": :".
func safeLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	s = strings.Map(func(r rune) rune {
		if invisible(r) {
			return -1
		}
		return r
	}, s)
	s = noV1Commands(s)
	if strings.HasPrefix(strings.TrimLeftFunc(s, unicode.IsSpace), "::") {
		return "  " + strings.ReplaceAll(s, "::", ": :")
	}
	return s
}

// annotationText makes text safe as the message of a workflow command
// the action issues (go-githubactions escapes %, \r and \n): the runner
// reads such a line as the action's command, but should it not, no
// "##[" in the text may be read as one.
func annotationText(s string) string {
	return noV1Commands(s)
}

// noV1Commands breaks every "##[", so that the runner reads no
// "##[name]data" command in s.
func noV1Commands(s string) string {
	return strings.ReplaceAll(s, "##[", `##\[`)
}

// invisible reports whether r is a control character (but a tab) or a
// character that shows nothing (format characters, variation selectors
// and the like), which a culture-aware string search skips.
func invisible(r rune) bool {
	return (unicode.IsControl(r) && r != '\t') || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// eventFor is an event about an environment, for annotations the action
// makes itself.
func eventFor(project, environment string) event.Event {
	return event.Event{Project: project, Environment: environment}
}
