//go:build integration

package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
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

// TestTwoEnvironmentsInParallel: release-deploys to two environments of
// one project at once do not wait on each other. Both runs are held
// inside their first DescribeServices (after taking their lock and
// writing their record) until both are there: so each holds its own
// environment's lock while the other does, and neither would have got
// there with a lock wait of 0 had the other's lock been in its way. Let
// go, both succeed.
func TestTwoEnvironmentsInParallel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	envs := []string{deployfixture.Environment, "qa"}
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1, Environments: envs[1:]})
	p := proxy(t, faultproxy.WithRate(1), faultproxy.WithLimit(len(envs)), faultproxy.WithOperations("DescribeServices"),
		faultproxy.WithFaults(faultproxy.Latency), faultproxy.WithLatency(time.Minute))
	var runs []*run
	for _, env := range envs {
		runs = append(runs, start(t, bin, cliEnv(t, p.URL(), "ci-"+env), deployArgs(f, "--environment", env, "--lock-wait", "0s")...))
	}
	waitFor(t, runs[0], "both runs inside DescribeServices at once", p.Changed, func() bool { return p.Injected()[faultproxy.Latency] == len(envs) })
	for _, env := range envs {
		_, err := f.Store().AcquireLock(ctx, history.Lock{Project: f.Project, Environment: env, Owner: "checker", RequestedBy: "checker"}, time.Minute)
		var locked *history.LockedError
		if !errors.As(err, &locked) || !strings.HasPrefix(locked.Held.RequestedBy, "ci-"+env+"@") {
			t.Errorf("lock of %s while both runs are stalled: got %v; want it held by ci-%s", env, err, env)
		}
	}
	p.Unstall()
	for i, r := range runs {
		if code := r.wait(t); code != 0 {
			t.Errorf("release-deploy to %s: exit %d, want 0\n%s", envs[i], code, r.output())
		}
	}
	for _, env := range envs {
		cur, err := f.Store().GetCurrent(ctx, f.Project, env)
		if err != nil {
			t.Errorf("current record of %s: %v", env, err)
			continue
		}
		if dep, err := f.Store().GetDeployment(ctx, f.Project, cur.DeploymentID); err != nil || dep.Status != history.StatusSucceeded {
			t.Errorf("deployment to %s: %+v, %v; want succeeded", env, dep, err)
		}
		img := f.Images[0]
		if got := f.TagDigest(ctx, t, img.Repository, "env."+env); got != img.New {
			t.Errorf("%s:env.%s: %s, want %s", img.Repository, env, got, img.New)
		}
	}
}
