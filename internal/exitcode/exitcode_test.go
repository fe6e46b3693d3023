package exitcode_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

func TestOf(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("release-deploy to stage: %w", err) }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitcode.OK},
		{"locked", wrap(&history.LockedError{Held: history.Lock{RequestedBy: "ci"}}), exitcode.Locked},
		{"timeout", wrap(deploy.ErrTimeout), exitcode.Timeout},
		{"failed", wrap(deploy.ErrDeploymentFailed), exitcode.Failed},
		{"invalid", wrap(deploy.ErrInvalidInput), exitcode.BadInput},
		{"confirmation", wrap(deploy.ErrConfirmationRequired), exitcode.BadInput},
		{"manifest", wrap(&manifest.Error{}), exitcode.BadInput},
		{"cancelled", wrap(context.Canceled), exitcode.Interrupted},
		{"other", errors.New("boom"), exitcode.Failed},
		// A failed rollout that also timed out on another service counts
		// as the timeout only when nothing failed outright.
		{"failed and cancelled", wrap(errors.Join(deploy.ErrDeploymentFailed, context.Canceled)), exitcode.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exitcode.Of(tt.err); got != tt.want {
				t.Errorf("Of(%v): got %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestRefusal(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("release-deploy to stage: %w", err) }
	for _, tt := range []struct {
		err  error
		want string
	}{
		{wrap(&history.LockedError{Held: history.Lock{RequestedBy: "ci"}}), exitcode.StatusLocked},
		{wrap(deploy.ErrInvalidInput), exitcode.StatusInvalid},
		{wrap(&manifest.Error{}), exitcode.StatusInvalid},
		{wrap(deploy.ErrConfirmationRequired), exitcode.StatusConfirmationRequired},
		{wrap(deploy.ErrTimeout), exitcode.StatusTimedOut},
		{errors.New("load AWS configuration: boom"), "failed"},
	} {
		if got := exitcode.Refusal(tt.err); got != tt.want {
			t.Errorf("Refusal(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
