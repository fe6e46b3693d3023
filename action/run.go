package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// deps are what run needs from the outside world; tests replace them.
type deps struct {
	// open opens the deployer (entry.Opener; tests: a fake's).
	open entry.OpenFunc
	// github are extra options for the Deployments API client.
	github []ghdeploy.Option
	// environ lists the process's environment (KEY=value), to find
	// inputs action.yml does not declare; nil skips that check.
	environ func() []string
}

// reportedError is an error whose details were already annotated; main
// prints only its summary.
type reportedError struct {
	summary string
	err     error
}

func (e *reportedError) Error() string { return e.summary }
func (e *reportedError) Unwrap() error { return e.err }

// run is the whole action; main only turns its error into an exit code.
// A run that ends before any deployment is recorded reports why in the
// status output and the job summary (writeRefusal).
func run(ctx context.Context, a *githubactions.Action, d deps) error {
	maskSecrets(a)
	var environ []string
	if d.environ != nil {
		environ = d.environ()
	}
	s, err := readSettings(a, environ)
	if err != nil {
		writeRefusal(a, nil, nil, err)
		return err
	}
	logger := newLogger(a)
	r := newRenderer(a, s.GitHub.Workspace)
	defer r.Close()

	a.Infof("%s", safeLine(fmt.Sprintf("buoy %s: project %s, environment %s%s", s.Operation,
		orDefault(s.Open.Project, "(from the manifest)"), orDefault(s.Environment, "(all)"), dryRunNote(s))))
	cfg := s.Open
	cfg.Sink, cfg.Logger = r, logger
	dep, err := d.open(ctx, cfg)
	if err != nil {
		err = r.annotateOpenError(err)
		writeRefusal(a, s, nil, err)
		return err
	}

	gh := startGitHubDeployment(ctx, a, s, dep.Project(), d.github)
	out, opErr := entry.Do(ctx, dep, s.Request)
	r.Close()
	if s.Operation == entry.Status || s.Operation == entry.Prepare {
		return writeReport(a, r, s, out, opErr)
	}
	res := out.Result
	recorded := res != nil && (opErr == nil || res.Deployment != nil)
	if recorded {
		writeResult(a, s, res)
	}
	gh.finish(ctx, a, s, res, opErr)
	if opErr == nil {
		return nil
	}
	err = explain(s, opErr)
	if !recorded {
		writeRefusal(a, s, res, err)
	}
	return err
}

// writeReport renders what status or prepare gave: the report or the
// new release, or why there is none.
func writeReport(a *githubactions.Action, r *renderer, s *settings, out entry.Outcome, err error) error {
	if err != nil {
		err = explain(s, err)
		writeRefusal(a, s, nil, err)
		return err
	}
	if out.Status != nil {
		writeStatus(a, r, out.Status)
		return nil
	}
	a.Infof("%s", safeLine("created release "+out.Release.ID+" from "+out.Release.Label))
	writeRelease(a, out.Release)
	return nil
}

// explain wraps an operation's error with what to do about it.
func explain(s *settings, err error) error {
	var locked *history.LockedError
	var missing *history.TableMissingError
	switch {
	case errors.As(err, &missing):
		return fmt.Errorf("%w; the region is the aws-region input's, or AWS_REGION", missing)
	case errors.As(err, &locked):
		return fmt.Errorf("%w; re-run once that run has finished, or raise the lock-wait input to queue behind it (a killed run's lock is taken over once another run has seen it unrenewed for its lease, lock-ttl, and a margin; `buoy unlock` frees it at once)", err)
	case errors.Is(err, deploy.ErrConfirmationRequired):
		return fmt.Errorf("%w; environment %s is protected: promote to it with `command: promote`, or set `confirm: true` in a job that uses a protected GitHub environment", err, s.Environment)
	case errors.Is(err, deploy.ErrTimeout):
		return fmt.Errorf("%w; raise the timeout input, or look at the services' events in the ECS console", err)
	case errors.Is(err, deploy.ErrDeploymentFailed):
		return fmt.Errorf("%w; see the services' reasons above and in the job summary", err)
	default:
		return fmt.Errorf("%s: %w", s.Operation, err)
	}
}

// maskSecrets tells the runner to hide the tokens and AWS secrets from
// the log before anything else is printed. buoy never prints them; the
// masks guard against a library or AWS error that would.
func maskSecrets(a *githubactions.Action) {
	for _, v := range []string{
		a.GetInput(inGitHubToken),
		a.Getenv("GITHUB_TOKEN"),
		a.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
		a.Getenv("AWS_SECRET_ACCESS_KEY"),
		a.Getenv("AWS_SESSION_TOKEN"),
	} {
		if v != "" {
			a.AddMask(v)
		}
	}
}

// newLogger returns the library's debug logger: silent unless the run has
// debug logging on (RUNNER_DEBUG=1), then written as ::debug:: lines.
func newLogger(a *githubactions.Action) *slog.Logger {
	if a.Getenv("RUNNER_DEBUG") != "1" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(debugWriter{a}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// debugWriter turns each line written to it into a ::debug:: command.
type debugWriter struct{ a *githubactions.Action }

func (w debugWriter) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		w.a.Debugf("%s", annotationText(line))
	}
	return len(p), nil
}

var _ io.Writer = debugWriter{}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dryRunNote(s *settings) string {
	if s.DryRun || s.Operation == entry.Plan {
		return " (dry run: nothing will change)"
	}
	return ""
}
