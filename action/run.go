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
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// deployer is what the action needs of buoy's orchestration
// (*deploy.Deployer satisfies it).
type deployer interface {
	Prepare(ctx context.Context, in deploy.PrepareInput) (*history.Release, error)
	Deploy(ctx context.Context, in deploy.DeployInput) (*deploy.Result, error)
	ReleaseDeploy(ctx context.Context, in deploy.ReleaseDeployInput) (*deploy.Result, error)
	Promote(ctx context.Context, in deploy.PromoteInput) (*deploy.Result, error)
	Rollback(ctx context.Context, in deploy.RollbackInput) (*deploy.Result, error)
	Status(ctx context.Context, in deploy.StatusInput) (*deploy.StatusReport, error)
}

// deps are what run needs from the outside world; tests replace them.
type deps struct {
	// open opens the deployer for the settings' manifest and project;
	// events go to sink, debug logs to logger.
	open func(ctx context.Context, s *settings, sink event.Sink, logger *slog.Logger) (deployer, error)
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

	a.Infof("%s", safeLine(fmt.Sprintf("buoy %s: project %s, environment %s%s", s.Command,
		orDefault(s.Project, "(from the manifest)"), orDefault(s.Environment, "(all)"), dryRunNote(s))))
	dep, err := d.open(ctx, s, r, logger)
	if err != nil {
		err = r.annotateOpenError(err)
		writeRefusal(a, s, nil, err)
		return err
	}

	switch s.Command {
	case cmdStatus, cmdPrepare:
		run := runStatus
		if s.Command == cmdPrepare {
			run = runPrepare
		}
		if err := run(ctx, a, r, dep, s); err != nil {
			writeRefusal(a, s, nil, err)
			return err
		}
		return nil
	}

	gh := startGitHubDeployment(ctx, a, s, d.github)
	res, opErr := execute(ctx, dep, s)
	r.Close()
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

// execute runs a deploying command (or plans one).
func execute(ctx context.Context, dep deployer, s *settings) (*deploy.Result, error) {
	req := deploy.Request{
		Environment: s.Environment,
		RequestedBy: s.GitHub.RequestedBy(),
		Description: s.Description,
		CI:          s.GitHub.CI(),
		Timeout:     s.Timeout,
		NoWait:      !s.Wait,
		Rollback:    s.Rollback,
		DryRun:      s.DryRun || s.Command == cmdPlan,
		Confirm:     s.Confirm,
	}
	switch {
	case s.Command == cmdDeploy, s.Command == cmdPlan && s.Release != "":
		return dep.Deploy(ctx, deploy.DeployInput{Request: req, Release: s.Release})
	case s.Command == cmdPromote, s.Command == cmdPlan && s.FromEnvironment != "":
		return dep.Promote(ctx, deploy.PromoteInput{Request: req, From: s.FromEnvironment})
	case s.Command == cmdRollback:
		return dep.Rollback(ctx, deploy.RollbackInput{Request: req})
	default: // release-deploy, plan
		return dep.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: req, Label: s.FromLabel})
	}
}

// runPrepare creates a release from a label and reports its id and digests.
func runPrepare(ctx context.Context, a *githubactions.Action, _ *renderer, dep deployer, s *settings) error {
	rel, err := dep.Prepare(ctx, deploy.PrepareInput{
		Label:       s.FromLabel,
		RequestedBy: s.GitHub.RequestedBy(),
		Description: s.Description,
		CI:          s.GitHub.CI(),
	})
	if err != nil {
		return explain(s, err)
	}
	a.Infof("%s", safeLine("created release "+rel.ID+" from "+rel.Label))
	writeRelease(a, rel)
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
		return fmt.Errorf("%s: %w", s.Command, err)
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
	if s.DryRun || s.Command == cmdPlan {
		return " (dry run: nothing will change)"
	}
	return ""
}
