package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// asker is a Confirmer that answers as scripted and records whom it was
// asked about and whether the environment was locked when it was.
type asker struct {
	f      *fixture
	answer bool
	err    error

	mu       sync.Mutex
	asked    []string
	whenHeld []bool
}

func (a *asker) confirm(ctx context.Context, environment string) (bool, error) {
	_, err := a.f.store.GetLock(ctx, "demo", environment)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, environment)
	a.whenHeld = append(a.whenHeld, !errors.Is(err, history.ErrNotFound))
	return a.answer, a.err
}

// TestProtectionIsDecidedOnce: the library alone decides whether a
// deployment to a protected environment may go ahead. A Confirmer is
// asked only where the decision needs one (a protected environment, not
// confirmed, not planned, not promoted from its source), once, before the
// lock is taken and before anything changes; its yes lets the deployment
// run, its no or its error refuses it with nothing changed.
func TestProtectionIsDecidedOnce(t *testing.T) {
	t.Parallel()
	boom := errors.New("stdin closed")
	tests := []struct {
		name      string
		answer    bool
		askErr    error
		setup     bool // deploy to stage first, for promotions and deploys
		run       func(f *fixture) (*Result, error)
		wantAsked bool
		wantErr   error
		wantText  string
	}{
		{name: "release-deploy, confirmed when asked", answer: true, wantAsked: true,
			run: func(f *fixture) (*Result, error) { return f.releaseDeploy("prod") }},
		{name: "release-deploy, declined when asked", wantAsked: true, wantErr: ErrConfirmationRequired,
			wantText: "environment prod is protected: not confirmed",
			run:      func(f *fixture) (*Result, error) { return f.releaseDeploy("prod") }},
		{name: "release-deploy, the asker fails", askErr: boom, wantAsked: true, wantErr: boom,
			wantText: "ask to confirm deploying to protected environment prod: stdin closed",
			run:      func(f *fixture) (*Result, error) { return f.releaseDeploy("prod") }},
		{name: "deploy of a release, declined when asked", setup: true, wantAsked: true, wantErr: ErrConfirmationRequired,
			run: func(f *fixture) (*Result, error) {
				return f.d.Deploy(context.Background(), DeployInput{Request: Request{Environment: "prod"}})
			}},
		{name: "confirmed by the request", answer: false,
			run: func(f *fixture) (*Result, error) {
				return f.releaseDeploy("prod", func(in *ReleaseDeployInput) { in.Confirm = true })
			}},
		{name: "a plan", answer: false,
			run: func(f *fixture) (*Result, error) {
				return f.releaseDeploy("prod", func(in *ReleaseDeployInput) { in.DryRun = true })
			}},
		{name: "promoted from its source", setup: true, answer: false,
			run: func(f *fixture) (*Result, error) {
				return f.d.Promote(context.Background(), PromoteInput{Request: Request{Environment: "prod"}})
			}},
		{name: "not protected", answer: false,
			run: func(f *fixture) (*Result, error) { return f.releaseDeploy("stage") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &asker{answer: tt.answer, err: tt.askErr}
			f := newFixture(t, WithConfirmer(a.confirm))
			a.f = f
			if tt.setup {
				if _, err := f.releaseDeploy("stage"); err != nil {
					t.Fatalf("deploy to stage: %v", err)
				}
			}
			before := len(f.w.sideEffects())
			res, err := tt.run(f)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("error: got %v, want none", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error: got %v, want %v", err, tt.wantErr)
			case tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText):
				t.Errorf("error: got %q, want it to say %q", err, tt.wantText)
			}
			if tt.askErr != nil && errors.Is(err, ErrConfirmationRequired) {
				t.Errorf("error: got %v, want the asker's failure, not a refusal", err)
			}
			if tt.wantErr != nil && len(f.w.sideEffects()) != before {
				t.Errorf("refused deployment changed AWS: %q", f.w.sideEffects()[before:])
			}
			if tt.wantErr == nil && res.Status != history.StatusSucceeded && res.Status != StatusPlanned {
				t.Errorf("status: got %s, want succeeded or planned", res.Status)
			}
			a.mu.Lock()
			defer a.mu.Unlock()
			switch {
			case tt.wantAsked && (len(a.asked) != 1 || a.asked[0] != "prod"):
				t.Errorf("asked about %q, want once about prod", a.asked)
			case !tt.wantAsked && len(a.asked) != 0:
				t.Errorf("asked about %q, want nobody asked", a.asked)
			}
			for _, held := range a.whenHeld {
				if held {
					t.Errorf("asked while the environment's lock was held")
				}
			}
		})
	}
}
