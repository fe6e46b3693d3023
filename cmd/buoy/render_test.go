package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

var t0 = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

func failedResult() *deploy.Result {
	return &deploy.Result{
		Project: "shop", Environment: "stage", Status: history.StatusFailed,
		Release:    &history.Release{ID: "01JD3QX7Z8M4N5P6Q7R8S9T0VW", Images: map[string]history.ImageRef{"web": {Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web", Digest: "sha256:580466ef65191bd0a2e1"}}},
		Deployment: &history.Deployment{ID: "01JD3QX80000000000000000AA", Reason: "deployment failed: web: rolled back by the circuit breaker"},
		Started:    t0, Finished: t0.Add(83 * time.Second),
		Images: []deploy.ImageResult{
			{Image: "web", Tag: "env.stage", From: "sha256:00757069b30711aa", To: "sha256:580466ef65191bd0a2e1", Moved: true},
			{Image: "worker", Tag: "env.stage", From: "sha256:851236b875c3ffee", To: "sha256:851236b875c3ffee"},
		},
		Services: []deploy.ServiceResult{
			{Service: "web", Cluster: "shop-stage", Outcome: history.StatusFailed, Duration: 75 * time.Second,
				Reason: "rolled back by the circuit breaker: 3 tasks failed to start (CannotPullContainerError)"},
			{Service: "worker", Cluster: "shop-stage", Outcome: history.StatusSucceeded, Reason: "not redeployed: it already runs this release"},
		},
		Stats: map[string]int{"ECR.BatchGetImage": 4, "ECR.PutImage": 1, "ECS.UpdateService": 1, "ECS.DescribeServices": 9},
	}
}

func TestPrintResultGolden(t *testing.T) {
	t.Parallel()
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			failure := fmt.Errorf("%w: web: rolled back", deploy.ErrDeploymentFailed)
			if err := printResult(&b, output, "release-deploy", failedResult(), failure); !errors.Is(err, failure) {
				t.Errorf("printResult returned %v, want the deployment's error", err)
			}
			golden.Check(t, "testdata/result-failed."+output, b.String())
		})
	}
}

func TestProgressLinesGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	p := newProgress(&b, false)
	for i, e := range []event.Event{
		{Kind: event.Plan, Message: "web: env.stage 00757069b307 -> 580466ef6519"},
		{Kind: event.TagMoved, Message: "shop/web:env.stage -> 580466ef6519"},
		{Kind: event.ServiceUpdated, Message: "web: new ECS deployment ecs-svc/1111"},
		{Kind: event.Progress, Message: "deployment ecs-svc/1111 PRIMARY IN_PROGRESS: 1/2 running"},
		{Kind: event.ServiceDone, Message: "web failed after 1m15s: rolled back by the circuit breaker"},
		{Kind: event.Finished, Message: "deployment failed"},
	} {
		e.Time = t0.Add(time.Duration(i*15) * time.Second)
		p.Emit(e)
	}
	golden.Check(t, "testdata/progress.txt", b.String())
}

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	t.Parallel()
	root := newRootCommand(&app{})
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if c.Example == "" || c.Short == "" {
			t.Errorf("buoy %s: got short %q example %q, want both", c.Name(), c.Short, c.Example)
		}
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitcode.OK},
		{fmt.Errorf("x: %w", deploy.ErrDeploymentFailed), exitcode.Failed},
		{fmt.Errorf("x: %w", deploy.ErrInvalidInput), exitcode.BadInput},
		{fmt.Errorf("x: %w", deploy.ErrConfirmationRequired), exitcode.BadInput},
		{&history.LockedError{}, exitcode.Locked},
		{fmt.Errorf("x: %w", deploy.ErrTimeout), exitcode.Timeout},
		{flagErrorf("missing --environment"), exitcode.BadInput},
		{errors.New("AccessDenied"), exitcode.Failed},
	}
	for _, tt := range tests {
		if got := exitCode(context.Background(), tt.err); got != tt.want {
			t.Errorf("exitCode(%v): got %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out, version: "1.2.3"}
	if code := a.main(context.Background(), []string{"--version"}); code != 0 || !strings.Contains(out.String(), "1.2.3") {
		t.Errorf("--version: exit %d output %q, want 0 and 1.2.3", code, out.String())
	}
}

// TestLifecycleLinesGolden: the lifecycle of a canary rollout (stage,
// traffic, bake time, a failed hook, an alarm) as progress lines, each
// naming its service, and as --output json lines with the lifecycle's
// fields.
func TestLifecycleLinesGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		json       bool
	}{{"text", "testdata/progress-lifecycle.txt", false}, {"json", "testdata/progress-lifecycle.jsonl", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			p := newProgress(&b, tc.json)
			for _, e := range entrytest.LifecycleEvents() {
				p.Emit(e)
			}
			golden.Check(t, tc.file, b.String())
		})
	}
}

// TestProgressHeartbeatGolden: a rollout stuck for 3 minutes shows a
// line every 30 s, with what the wait knows, in text and JSON lines.
func TestProgressHeartbeatGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, file string }{{"text", "progress-heartbeat.txt"}, {"json", "progress-heartbeat.jsonl"}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			p := newProgress(&b, tt.name == "json")
			for _, e := range entrytest.StuckRollout(t0) {
				p.Emit(e)
			}
			golden.Check(t, "testdata/"+tt.file, b.String())
		})
	}
}
