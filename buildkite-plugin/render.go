package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// logRenderer renders the library's events as a Buildkite job log: one
// collapsed section ("--- ") per step of the deployment, an expanded one
// ("+++ ") for the result, and "^^^ +++" to open the section in which
// something failed. It is an event.Sink and safe for concurrent use.
//
// Every value that comes from input is cleaned: control characters
// (including terminal escapes and line breaks) are dropped, and event
// lines are indented, so no name or message can open a section of its own.
type logRenderer struct {
	mu      sync.Mutex
	w       io.Writer
	section string
}

// newLogRenderer renders to w.
func newLogRenderer(w io.Writer) *logRenderer { return &logRenderer{w: w} }

// Emit renders one event.
func (r *logRenderer) Emit(e event.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case event.Plan:
		r.open(":clipboard: Plan")
	case event.TaskStarted, event.TaskProgress, event.TaskDone, event.TaskLog:
		r.open(":card_file_box: Running pre-deploy tasks")
	case event.TagMoved:
		r.open(":label: Moving tags")
	case event.ServiceUpdated:
		r.open(":arrows_counterclockwise: Redeploying services")
	case event.Progress, event.Heartbeat, event.ServiceDone, event.Stage, event.Traffic, event.Bake, event.Hook, event.Alarm:
		r.open(":hourglass: Waiting for ECS")
	case event.Finished:
		return // run renders the result from the Result
	}
	r.writeLine("  " + describe(e))
	if e.Kind == event.Failed || e.Kind == event.Alarm {
		r.expand() // an alarm in ALARM fails the deployment
	}
}

// header starts a collapsed section with a title, even if one with that
// title is open.
func (r *logRenderer) header(title string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section = title
	r.writeRaw("--- " + clean(title))
}

// result starts an expanded section, e.g. for the outcome.
func (r *logRenderer) result(title string, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section = title
	r.writeRaw("+++ " + clean(title))
	if failed {
		r.expand()
	}
}

// printf writes one line into the current section.
func (r *logRenderer) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writeLine(fmt.Sprintf(format, args...))
}

// open starts a section unless it is the current one. Callers hold mu.
func (r *logRenderer) open(title string) {
	if r.section == title {
		return
	}
	r.section = title
	r.writeRaw("--- " + title)
}

// expand asks Buildkite to open the current section. Callers hold mu.
func (r *logRenderer) expand() { r.writeRaw("^^^ +++") }

// writeLine writes text that may hold input, cleaned, so that it can
// never be read as a section marker. Callers hold mu.
func (r *logRenderer) writeLine(s string) { r.writeRaw(safeLine(s)) }

// writeRaw writes one line as it is. Callers hold mu.
func (r *logRenderer) writeRaw(s string) { fmt.Fprintln(r.w, s) }

// describe renders an event as one line: who it is about (service and
// cluster, or image), then the library's message, or when there is none
// what changed and the outcome; e.g.
// "catalogue-api (cluster stage): deployment ecs-svc/1 started".
func describe(e event.Event) string {
	var parts []string
	switch {
	case e.Service != "" && e.Cluster != "":
		parts = append(parts, fmt.Sprintf("%s (cluster %s)", e.Service, report.ShortCluster(e.Cluster)))
	case e.Service != "":
		parts = append(parts, e.Service)
	case e.Image != "":
		parts = append(parts, "image "+e.Image)
	case e.Task != "" && e.Kind != event.Plan && e.Kind != event.Warning:
		parts = append(parts, "pre-deploy task "+e.Task)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	} else {
		switch {
		case e.From == "" && e.To != "":
			parts = append(parts, "→ "+short(e.To))
		case e.From != "" && e.From == e.To:
			parts = append(parts, short(e.To)+" (unchanged)")
		case e.From != "":
			parts = append(parts, short(e.From)+" → "+short(e.To))
		}
		if e.Outcome != "" {
			parts = append(parts, e.Outcome)
		}
	}
	line := strings.Join(parts, ": ")
	switch e.Kind {
	case event.Warning:
		return "⚠️ warning: " + line
	case event.Retry:
		return "🔁 retry: " + line
	case event.Failed:
		return "❌ error: " + line
	case event.Alarm:
		return "🚨 alarm: " + line
	case event.Stage, event.Traffic, event.Bake, event.Hook:
		return string(e.Kind) + ": " + line
	}
	return line
}

// short shortens digests and task definition ARNs for the log.
func short(s string) string {
	if strings.HasPrefix(s, "sha256:") {
		return report.ShortDigest(s)
	}
	if i := strings.LastIndex(s, "task-definition/"); i >= 0 {
		return s[i+len("task-definition/"):]
	}
	return s
}

// clean drops control characters (terminal escapes, line breaks become
// spaces) from text that came from input.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// safeLine cleans s and makes sure Buildkite cannot read it as a log
// section marker ("--- ", "+++ ", "~~~ ", "^^^ +++"), even if leading
// blanks were trimmed: such a line gets a visible "· " in front.
func safeLine(s string) string {
	s = clean(s)
	trimmed := strings.TrimLeft(s, " ")
	for _, marker := range []string{"---", "+++", "~~~", "^^^"} {
		if strings.HasPrefix(trimmed, marker) {
			return "· " + trimmed
		}
	}
	return s
}
