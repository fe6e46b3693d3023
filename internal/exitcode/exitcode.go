// Package exitcode maps buoy's errors to the exit codes its entrypoints
// document, so a pipeline can branch on them the same way whether it runs
// the CLI or the Buildkite plugin (e.g. retry only when locked).
package exitcode

import (
	"context"
	"errors"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// The exit codes (docs/cli.md, docs/buildkite-plugin.md).
const (
	OK          = 0
	Failed      = 1   // the deployment failed, or any other error
	BadInput    = 2   // bad flags, configuration, manifest, project, environment, release, image or service; no history table; confirmation needed. Nothing changed.
	Locked      = 3   // another run holds the environment's lock
	Timeout     = 4   // ECS did not finish within the timeout
	Interrupted = 130 // SIGINT or SIGTERM; the record is closed as cancelled
)

// Of returns the exit code for err, an error from pkg/deploy (or nil).
// An entrypoint checks its own bad-input errors (flags, configuration)
// before calling it.
func Of(err error) int {
	var merr *manifest.Error
	switch {
	case err == nil:
		return OK
	case errors.Is(err, history.ErrLocked):
		return Locked
	case errors.Is(err, deploy.ErrTimeout):
		return Timeout
	case errors.Is(err, deploy.ErrDeploymentFailed):
		return Failed
	case errors.Is(err, deploy.ErrInvalidInput), errors.Is(err, deploy.ErrConfirmationRequired), errors.As(err, &merr),
		errors.Is(err, history.ErrNoTable):
		return BadInput
	case errors.Is(err, context.Canceled):
		return Interrupted
	}
	return Failed
}

// The words an entrypoint reports as its status (the Action's status
// output, the plugin's buoy:status) when a run ended before any
// deployment was recorded, besides history.StatusFailed.
const (
	StatusInvalid              = "invalid"               // bad inputs, manifest, project, environment or release
	StatusLocked               = "locked"                // another run holds the environment's lock
	StatusConfirmationRequired = "confirmation-required" // a protected environment, not confirmed
	StatusTimedOut             = "timed-out"
)

// Refusal returns the status word for err, an error that ended a run
// before any deployment was recorded, so nothing was deployed: the
// entrypoints report it the same way, and a later step can branch on it
// (e.g. retry only when locked).
func Refusal(err error) string {
	if errors.Is(err, deploy.ErrConfirmationRequired) {
		return StatusConfirmationRequired
	}
	switch Of(err) {
	case BadInput:
		return StatusInvalid
	case Locked:
		return StatusLocked
	case Timeout:
		return StatusTimedOut
	}
	return string(history.StatusFailed)
}
