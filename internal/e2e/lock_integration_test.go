//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestLockedEnvironmentWaitsThenNamesHolder: while another live run holds
// the environment's lock, release-deploy waits --lock-wait, then fails
// with exit code 3 naming who holds it and their CI build, and changes
// nothing.
func TestLockedEnvironmentWaitsThenNamesHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1})
	held, err := f.Store().AcquireLock(ctx, history.Lock{Project: f.Project, Environment: deployfixture.Environment,
		Owner: "other-run", RequestedBy: "alice", BuildURL: "https://ci.example/builds/7"}, 10*time.Minute)
	if err != nil {
		t.Fatalf("hold the lock: %v", err)
	}
	p := proxy(t)
	began := time.Now()
	r := start(t, bin, cliEnv(t, p.URL(), "bob"), deployArgs(f, "--lock-wait", "2s")...)
	code := r.wait(t)
	took := time.Since(began)
	if code != 3 {
		t.Errorf("exit code while locked: got %d, want 3\n%s", code, r.output())
	}
	if took < 2*time.Second || took > 20*time.Second {
		t.Errorf("gave up after %v, want after the 2s lock wait", took)
	}
	contains(t, "the locked run's output", r.output(), "locked by alice (https://ci.example/builds/7)", "waited 2s")
	if deps := f.Deployments(ctx, t); len(deps) != 0 {
		t.Errorf("history: got %d deployments, want none (nothing may happen without the lock)", len(deps))
	}
	img := f.Images[0]
	if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.Old {
		t.Errorf("the tag moved without the lock: %s", got)
	}
	_ = f.Store().ReleaseLock(ctx, held)
}

// TestTwoRunsOneEnvironment: two release-deploys to one environment at
// once: the one that takes the lock proceeds; the other waits its lock
// wait and fails naming the first run's requester.
func TestTwoRunsOneEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	p := proxy(t, stall("DescribeServices", 1)...) // the first run sits in its wait for ECS
	first := start(t, bin, cliEnv(t, p.URL(), "first-run"), deployArgs(f)...)
	waitForStall(t, p, first)

	second := start(t, bin, cliEnv(t, p.URL(), "second-run"), deployArgs(f, "--lock-wait", "1s")...)
	if code := second.wait(t); code != 3 {
		t.Errorf("second run: exit %d, want 3 (locked)\n%s", code, second.output())
	}
	contains(t, "the second run's output", second.output(), "is locked by first-run")
	p.SetRate(0)
	_ = first.cmd.Process.Kill()
	_ = first.wait(t)
	deps := f.Deployments(ctx, t)
	if len(deps) != 1 || !strings.HasPrefix(deps[0].RequestedBy, "first-run") {
		t.Errorf("history: got %d deployments; want only the first run's", len(deps))
	}
}
