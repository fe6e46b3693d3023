package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestNegativeNumbersAreRefused: a negative timeout or history limit is
// refused with ErrInvalidInput before anything is recorded or changed,
// rather than silently taken as the default (0 still means the default).
func TestNegativeNumbersAreRefused(t *testing.T) {
	t.Parallel()
	neg := Request{Environment: "stage", Timeout: -5 * time.Second}
	tests := []struct {
		name string
		run  func(f *fixture) error
		want string
	}{
		{"release-deploy", func(f *fixture) error {
			_, err := f.d.ReleaseDeploy(context.Background(), ReleaseDeployInput{Request: neg})
			return err
		}, "timeout -5s is negative: give how long to wait for ECS, or 0 for the default of 30m0s"},
		{"deploy", func(f *fixture) error {
			_, err := f.d.Deploy(context.Background(), DeployInput{Request: neg})
			return err
		}, "timeout -5s is negative"},
		{"promote", func(f *fixture) error {
			_, err := f.d.Promote(context.Background(), PromoteInput{Request: Request{Environment: "prod", Timeout: -time.Nanosecond}})
			return err
		}, "timeout -1ns is negative"},
		{"rollback", func(f *fixture) error {
			_, err := f.d.Rollback(context.Background(), RollbackInput{Request: neg})
			return err
		}, "timeout -5s is negative"},
		{"history", func(f *fixture) error {
			_, err := f.d.History(context.Background(), HistoryInput{Limit: -1})
			return err
		}, "history limit -1 is negative: give how many releases and deployments to list, or 0 for 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := tt.run(f)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: got %v, want ErrInvalidInput saying %q", err, tt.want)
			}
			if got := f.w.sideEffects(); len(got) != 0 {
				t.Errorf("refused request changed AWS: %q", got)
			}
			if deps, err := f.store.ListDeployments(context.Background(), "demo", "", 0); err != nil || len(deps) != 0 {
				t.Errorf("refused request: got %d deployments recorded, %v; want none", len(deps), err)
			}
			if w := f.store.Writes(); len(w) != 0 {
				t.Errorf("refused request wrote %v to the history, want nothing", w)
			}
		})
	}
	t.Run("zero timeout is the default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Timeout = 0 }); err != nil {
			t.Fatalf("release-deploy with timeout 0: %v, want the default timeout", err)
		}
	})
}
