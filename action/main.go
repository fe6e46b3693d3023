// Command buoy-action is buoy's GitHub Action: it reads the step's inputs
// the way the runner passes them (INPUT_*), runs one buoy operation
// (release-deploy, prepare, deploy, promote, rollback, status or plan) and
// reports it as log groups, annotations, step outputs and a job summary.
// Optionally it records the deployment on GitHub's Environments page.
//
// AWS credentials come from the standard chain (environment, web identity,
// shared config, container and instance roles), so
// aws-actions/configure-aws-credentials, with OIDC or keys, works unchanged.
//
// Exit codes, the same as the CLI's: 0 success (or a plan), 1 the
// deployment failed, 2 bad inputs or manifest (nothing changed), 3 another
// run holds the environment's lock, 4 timed out waiting for ECS, 130
// interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/buildinfo"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/interrupt"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (.goreleaser.yaml); unset, buildinfo.Version finds the module version
// `go install` recorded.
var version = buildinfo.Unstamped

func main() {
	if buildinfo.Requested(os.Args[1:]) {
		fmt.Println("buoy-action", buildinfo.Version(version))
		return
	}
	ctx, stop := interrupt.Context(context.Background(), os.Stderr, os.Exit)
	a := githubactions.New()
	err := run(ctx, a, realDeps())
	stop()
	if err == nil {
		return
	}
	reportError(a, err)
	os.Exit(exitCode(err))
}

// reportError annotates the error that ended the run, its last word.
func reportError(a *githubactions.Action, err error) {
	var r *reportedError
	if errors.As(err, &r) {
		// The details are annotated already; say it once more in short.
		a.Errorf("%s", annotationText(r.summary))
		return
	}
	a.Errorf("%s", annotationText(err.Error()))
}

// exitCode maps run's error to the step's exit code, the same as the
// CLI's and the Buildkite plugin's (internal/exitcode): 2 for bad inputs
// or a bad manifest, 3 when locked, 4 on timeout, 1 when the deployment
// failed, so a later step can tell them apart (steps.<id>.outcome says
// only failure).
func exitCode(err error) int {
	var ie *inputError
	if errors.As(err, &ie) {
		return exitcode.BadInput
	}
	return exitcode.Of(err)
}
