package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"unicode"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// deps is what run needs from the world; main passes the real ones and
// tests their own.
type deps struct {
	open   entry.OpenFunc
	agent  agent
	stdout io.Writer
	logger *slog.Logger
}

// run is the plugin: it reads the configuration and the build from getenv,
// runs the command, renders the job log, annotates the build and sets
// meta-data. The error it returns decides the exit code (see exitCode).
func run(ctx context.Context, getenv func(string) string, d deps) error {
	log := newLogRenderer(d.stdout)
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	raw := getenv("BUILDKITE_PLUGIN_CONFIGURATION")
	cfg, err := parseConfig(raw)
	if err != nil {
		s := &step{log: log, agent: d.agent, context: annotationContext(rawOption(raw, "project"), rawOption(raw, "environment"), "")}
		return s.fail(ctx, "buoy: bad plugin configuration", err)
	}
	s := &step{log: log, agent: d.agent, cfg: cfg, context: annotationContext(cfg.Project, cfg.Environment, string(cfg.Command))}
	log.header(s.heading())
	open := cfg.openConfig(log, d.logger, getenv)
	open.Mask = s.redactor(ctx)
	dep, err := d.open(ctx, open)
	if err != nil {
		return s.fail(ctx, "buoy: could not start", err)
	}
	out, err := entry.Do(ctx, dep, cfg.request(entry.ReadOrigin(getenv, os.Hostname)))
	switch cfg.Command {
	case entry.Prepare:
		return s.prepared(ctx, out.Release, err)
	case entry.Status:
		return s.status(ctx, out.Status, err)
	}
	return s.finish(ctx, out.Ran, out.Result, err)
}

// step is one run of the plugin.
type step struct {
	log     *logRenderer
	agent   agent
	cfg     *config
	context string
}

// redactor is what the notify targets' URLs and secrets, read from the
// job's environment, are given to before buoy uses them: the agent's
// redactor, which hides them in the rest of the job's log. The agent
// redacts variables named like *_SECRET or *_TOKEN by itself, not a
// SLACK_WEBHOOK_URL. An agent without the command (before v3.67) is
// warned about once; buoy itself never prints them.
func (s *step) redactor(ctx context.Context) func(string) {
	var warn sync.Once
	return func(secret string) {
		if err := s.agent.redact(ctx, secret); err != nil {
			warn.Do(func() {
				s.log.printf("⚠️ warning: could not add the notify targets' secrets to the log redactor (buoy never prints them; agent v3.67 or later hides them from other commands' output too): %v", err)
			})
		}
	}
}

// heading is the first log section's title.
func (s *step) heading() string {
	h := ":ship: buoy " + string(s.cfg.Command)
	if s.cfg.Project != "" {
		h += " " + s.cfg.Project
	}
	if s.cfg.Environment != "" {
		h += " to " + s.cfg.Environment
	}
	if s.cfg.DryRun {
		h += " (dry run)"
	}
	return h
}

// finish renders a deploying command's outcome: the result section of the
// log, the annotation and the meta-data.
func (s *step) finish(ctx context.Context, op entry.Operation, res *deploy.Result, err error) error {
	err = clarify(err)
	if res == nil {
		if err == nil {
			err = errors.New("buoy returned no result: this is a bug, please report it")
		}
		return s.fail(ctx, fmt.Sprintf("buoy %s to %s", op, s.cfg.Environment), err)
	}
	failed := err != nil || (res.Status != history.StatusSucceeded && res.Status != deploy.StatusPlanned)
	status := string(res.Status)
	shown := res
	if err != nil && res.Deployment == nil {
		// Nothing ran (the library refused before recording a
		// deployment): say why, as when it returns no result, in the
		// log's heading, the annotation and buoy:status alike.
		status = failStatus(err)
		refused := *res
		refused.Status = history.Status(status)
		shown = &refused
	}
	icon := ":white_check_mark:"
	if failed {
		icon = ":x:"
	} else if res.Status == deploy.StatusPlanned {
		icon = ":memo:"
	}
	s.log.result(icon+" "+report.Title(string(op), shown), failed)
	for _, svc := range res.Services {
		line := fmt.Sprintf("  %s (cluster %s): %s", svc.Service, report.ShortCluster(svc.Cluster), svc.Outcome)
		if svc.Reason != "" {
			line += ": " + svc.Reason
		}
		s.log.printf("%s", line)
	}
	if err != nil {
		s.log.printf("❌ error: %v", err)
	}

	body := report.Markdown(string(op), shown)
	if err != nil {
		body += "\n**Error:** " + report.Escape(err.Error()) + "\n"
	}
	s.annotate(ctx, resultStyle(res.Status, err), body)

	meta := [][2]string{{"status", status}}
	if res.Status != deploy.StatusPlanned {
		if res.Release != nil {
			meta = append(meta, [2]string{"release-id", res.Release.ID})
		}
		if res.Deployment != nil {
			meta = append(meta, [2]string{"deployment-id", res.Deployment.ID})
		}
	}
	s.setMetaData(ctx, meta)
	return err
}

// clarify replaces an error that says the history table does not exist,
// whatever was being done, by one that says only that and what to do.
func clarify(err error) error {
	var missing *history.TableMissingError
	if errors.As(err, &missing) {
		return fmt.Errorf("%w; the region is AWS_REGION's, or the manifest registry's", missing)
	}
	return err
}

// fail renders an error that left no result: a failed section, an
// annotation saying what to do, and the status meta-data.
func (s *step) fail(ctx context.Context, title string, err error) error {
	err = clarify(err)
	s.log.result(":x: "+title, true)
	s.log.printf("❌ error: %v", err)
	style := styleError
	if errors.Is(err, history.ErrLocked) || errors.Is(err, deploy.ErrConfirmationRequired) {
		style = styleWarning
	}
	s.annotate(ctx, style, fmt.Sprintf("### ❌ %s\n\n%s\n", report.Escape(title), report.Escape(err.Error())))
	s.setMetaData(ctx, [][2]string{{"status", failStatus(err)}})
	return err
}

// annotate replaces this step's annotation; a failure to annotate is
// reported in the log but does not fail the step.
func (s *step) annotate(ctx context.Context, style, body string) {
	body = strings.Map(func(r rune) rune {
		if r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, body)
	if err := s.agent.annotate(ctx, style, s.context, body); err != nil {
		s.log.printf("⚠️ warning: could not annotate the build: %v", err)
	}
}

// setMetaData sets each key as buoy:<key> and, when the step has an
// environment, as buoy:<environment>:<key> too, so later steps can read
// what a given environment got. Failures are reported in the log only.
func (s *step) setMetaData(ctx context.Context, kv [][2]string) {
	for _, p := range kv {
		keys := []string{"buoy:" + p[0]}
		if s.cfg != nil && s.cfg.Environment != "" {
			keys = append(keys, "buoy:"+s.cfg.Environment+":"+p[0])
		}
		for _, k := range keys {
			if err := s.agent.setMetaData(ctx, k, p[1]); err != nil {
				s.log.printf("⚠️ warning: could not set build meta-data: %v", err)
			}
		}
	}
}

// resultStyle picks the annotation style for an outcome.
func resultStyle(status history.Status, err error) string {
	switch {
	case err == nil && status == history.StatusSucceeded:
		return styleSuccess
	case err == nil && status == deploy.StatusPlanned:
		return styleInfo
	case errors.Is(err, history.ErrLocked), errors.Is(err, deploy.ErrConfirmationRequired):
		return styleWarning
	}
	return styleError
}

// failStatus is buoy:status when an operation left no result: the
// Action's status output in the same case (exitcode.Refusal).
func failStatus(err error) string {
	if errors.Is(err, errConfig) {
		return exitcode.StatusInvalid
	}
	return exitcode.Refusal(err)
}

// annotationContext names the step's annotation, so a re-run replaces it:
// buoy-<environment>, with the project when one is configured, or the
// command when there is no environment.
func annotationContext(project, environment, command string) string {
	parts := []string{"buoy"}
	if project != "" {
		parts = append(parts, project)
	}
	switch {
	case environment != "":
		parts = append(parts, environment)
	case command != "":
		parts = append(parts, command)
	}
	ctx := clean(strings.Join(parts, "-"))
	if len(ctx) > 100 { // the agent's limit
		ctx = ctx[:100]
	}
	return ctx
}

// rawOption digs an id option (project, environment) out of a
// configuration that failed to parse, to name the annotation; "" when it
// cannot or the value is not a valid id.
func rawOption(raw, name string) string {
	var m map[string]any
	if len(raw) > maxConfig || json.Unmarshal([]byte(raw), &m) != nil {
		return ""
	}
	s, _ := m[name].(string)
	if inputcheck.ID(s) != nil {
		return ""
	}
	return s
}
