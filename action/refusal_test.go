package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestLibraryRefusalIsReported: when the library refuses a request after
// opening (nothing recorded, so nothing deployed), the status output says
// why, as the plugin's buoy:status does, the job summary states the
// refusal and what to do, the exit code is the CLI's, and no deployment's
// outputs are written.
func TestLibraryRefusalIsReported(t *testing.T) {
	t.Parallel()
	release := &history.Release{ID: "01JREL0000000000000000000", Images: map[string]history.ImageRef{"api": {Repository: "r/api", Digest: digestB}}}
	locked := fmt.Errorf("lock environment stage: waited 10s: %w", &history.LockedError{Held: history.Lock{
		Project: "shop", Environment: "stage", RequestedBy: "alice via GitHub Actions", BuildURL: "https://github.com/acme/shop/actions/runs/7",
		ExpiresAt: time.Date(2026, 11, 22, 10, 32, 0, 0, time.UTC)}})
	tests := []struct {
		name    string
		inputs  map[string]string
		err     error
		release *history.Release
		status  string
		code    int
		golden  string
		says    []string
	}{
		{name: "locked", inputs: map[string]string{"environment": "stage", "lock-wait": "10s"}, err: locked, release: release,
			status: "locked", code: exitcode.Locked, golden: "testdata/summary-locked.md",
			says: []string{"locked by alice via GitHub Actions", "raise the lock-wait input to queue behind it"}},
		{name: "unknown environment", inputs: map[string]string{"environment": "qa"},
			err:    fmt.Errorf("%w: project shop has no environment \"qa\": use one of stage, prod", deploy.ErrInvalidInput),
			status: "invalid", code: exitcode.BadInput, says: []string{`has no environment "qa"`, "use one of stage, prod"}},
		{name: "unknown release", inputs: map[string]string{"command": "deploy", "environment": "stage", "release": "01JX"},
			err:    fmt.Errorf("%w: no release 01JX", deploy.ErrInvalidInput),
			status: "invalid", code: exitcode.BadInput, says: []string{"no release 01JX"}},
		{name: "protected", inputs: map[string]string{"environment": "prod"},
			err:    fmt.Errorf("%w: environment prod is protected: confirm it, or promote from stage", deploy.ErrConfirmationRequired),
			status: "confirmation-required", code: exitcode.BadInput, says: []string{"set `confirm: true`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.inputs)
			h.fake.Result = &deploy.Result{Project: "shop", Environment: tt.inputs["environment"], Release: tt.release, Status: history.StatusFailed}
			h.fake.Err = tt.err
			err := h.run(t)
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit code = %d (%v), want %d", code, err, tt.code)
			}
			out := h.outputs(t)
			if out["status"] != tt.status {
				t.Errorf("status output = %q, want %q", out["status"], tt.status)
			}
			for _, k := range []string{"deployment-id", "services", "images"} {
				if v, ok := out[k]; ok {
					t.Errorf("output %s = %q, want none: nothing was deployed", k, v)
				}
			}
			if tt.release != nil && out["release-id"] != tt.release.ID {
				t.Errorf("release-id output = %q, want the release made before the refusal, %s", out["release-id"], tt.release.ID)
			}
			summary := h.summary(t)
			if strings.TrimSpace(out["summary-markdown"]) != strings.TrimSpace(summary) {
				t.Errorf("summary-markdown output differs from the job summary")
			}
			if !strings.Contains(summary, ": "+tt.status+"\n") || !strings.Contains(summary, "Nothing was deployed") {
				t.Errorf("the job summary does not state the refusal:\n%s", summary)
			}
			for _, want := range tt.says {
				if !strings.Contains(summary, want) && !strings.Contains(strings.ReplaceAll(summary, `\`, ""), want) {
					t.Errorf("the job summary does not say %q:\n%s", want, summary)
				}
			}
			if tt.golden != "" {
				golden.Check(t, tt.golden, summary)
			}
		})
	}
}

// TestFailedDeploymentIsNotARefusal: a deployment the library recorded
// and that then failed keeps the status failed and the result's summary.
func TestFailedDeploymentIsNotARefusal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"environment": "stage"})
	res := succeeded()
	res.Status = history.StatusFailed
	h.fake.Result = res
	h.fake.Err = fmt.Errorf("%w: shop-api: circuit breaker", deploy.ErrDeploymentFailed)
	if err := h.run(t); !errors.Is(err, deploy.ErrDeploymentFailed) {
		t.Fatalf("err = %v, want the deployment's failure", err)
	}
	out := h.outputs(t)
	if out["status"] != "failed" || out["deployment-id"] != res.Deployment.ID {
		t.Errorf("outputs = %v, want status failed and the deployment's id", out)
	}
	if strings.Contains(h.summary(t), "Nothing was deployed") {
		t.Errorf("the summary of a recorded deployment reads as a refusal:\n%s", h.summary(t))
	}
}
