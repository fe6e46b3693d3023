package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// deps is what run needs from the world; main passes the real ones and
// tests their own.
type deps struct {
	open   openFunc
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
	b := readBuild(getenv)
	raw := getenv("BUILDKITE_PLUGIN_CONFIGURATION")
	cfg, err := parseConfig(raw)
	if err != nil {
		s := &step{log: log, agent: d.agent, context: annotationContext(rawOption(raw, "project"), rawOption(raw, "environment"), "")}
		return s.fail(ctx, "buoy: bad plugin configuration", err)
	}
	s := &step{log: log, agent: d.agent, cfg: cfg, build: b, context: annotationContext(cfg.Project, cfg.Environment, cfg.Command)}
	log.header(s.heading())
	dep, err := d.open(ctx, openOptions{Manifest: cfg.Manifest, Project: cfg.Project, Table: cfg.Table, Limits: cfg.limits, Sink: log, Logger: d.logger})
	if err != nil {
		return s.fail(ctx, "buoy: could not start", err)
	}
	switch cfg.Command {
	case cmdPrepare:
		return s.prepare(ctx, dep)
	case cmdStatus:
		return s.status(ctx, dep)
	}
	op, res, err := s.deploy(ctx, dep)
	return s.finish(ctx, op, res, err)
}

// step is one run of the plugin.
type step struct {
	log     *logRenderer
	agent   agent
	cfg     *config
	build   build
	context string
}

// heading is the first log section's title.
func (s *step) heading() string {
	h := ":ship: buoy " + s.cfg.Command
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

// request builds the deploy.Request every deploying command shares.
func (s *step) request() deploy.Request {
	return deploy.Request{
		Environment: s.cfg.Environment,
		RequestedBy: s.build.requester(),
		Description: s.build.description(s.cfg.Description),
		CI:          s.build.ci(),
		Timeout:     s.cfg.timeout,
		NoWait:      !s.cfg.wait(),
		Rollback:    s.cfg.RollbackOnFailure,
		DryRun:      s.cfg.DryRun || s.cfg.Command == cmdPlan,
		Confirm:     s.cfg.Confirm,
	}
}

// deploy runs a deploying command and returns the name of the operation
// it ran (a plan runs release-deploy, deploy or promote as a dry run).
func (s *step) deploy(ctx context.Context, dep deployer) (string, *deploy.Result, error) {
	req := s.request()
	op := s.cfg.Command
	if op == cmdPlan {
		switch {
		case s.cfg.Release != "":
			op = cmdDeploy
		case s.cfg.FromEnvironment != "":
			op = cmdPromote
		default:
			op = cmdReleaseDeploy
		}
	}
	var res *deploy.Result
	var err error
	switch op {
	case cmdDeploy:
		release := s.cfg.Release
		if release == inputcheck.LatestRelease {
			release = "" // the latest release
		}
		res, err = dep.Deploy(ctx, deploy.DeployInput{Request: req, Release: release})
	case cmdPromote:
		res, err = dep.Promote(ctx, deploy.PromoteInput{Request: req, From: s.cfg.FromEnvironment})
	case cmdRollback:
		res, err = dep.Rollback(ctx, deploy.RollbackInput{Request: req})
	default:
		res, err = dep.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: req, Label: s.cfg.FromLabel})
	}
	return op, res, err
}

// finish renders a deploying command's outcome: the result section of the
// log, the annotation and the meta-data.
func (s *step) finish(ctx context.Context, op string, res *deploy.Result, err error) error {
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
	s.log.result(icon+" "+report.Title(op, shown), failed)
	for _, svc := range res.Services {
		line := fmt.Sprintf("  %s (cluster %s): %s", svc.Service, shortCluster(svc.Cluster), svc.Outcome)
		if svc.Reason != "" {
			line += ": " + svc.Reason
		}
		s.log.printf("%s", line)
	}
	if err != nil {
		s.log.printf("❌ error: %v", err)
	}

	body := report.Markdown(op, shown)
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
