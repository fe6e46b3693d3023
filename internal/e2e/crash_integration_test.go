//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// stall makes the first call of op after skip others hang, so that the
// run is inside that stage when the test stops it. The call never goes
// on by itself (its latency outlasts any test): only the run's going
// away (a kill, a signal) or Unstall ends it, so what the test sees
// after the kill is what the run had done.
func stall(op string, skip int) []faultproxy.Option {
	return []faultproxy.Option{faultproxy.WithRate(1), faultproxy.WithSkip(skip), faultproxy.WithLimit(1), faultproxy.WithOperations(op),
		faultproxy.WithFaults(faultproxy.Latency), faultproxy.WithLatency(24 * time.Hour)}
}

// waitForStall waits until the run is stuck in the stalled call.
func waitForStall(t *testing.T, p *faultproxy.Proxy, r *run) {
	t.Helper()
	waitFor(t, r, "the stalled call", p.Changed, func() bool { return p.Injected()[faultproxy.Latency] > 0 })
}

// kill kills the run with SIGKILL, as a CI runner that loses patience
// or its machine does.
func (r *run) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = r.wait(t)
}

// deadRunCI is the CI environment of the runs the tests kill, and
// deadRunBy how buoy names such a run: requester and build.
var (
	deadRunCI = []string{"BUILDKITE=true", "BUILDKITE_BUILD_CREATOR=first-run", "BUILDKITE_BUILD_URL=https://buildkite.com/acme/shop/builds/41"}
	deadRunBy = "first-run via Buildkite (https://buildkite.com/acme/shop/builds/41)"
)

// TestCrashAndRerun kills release-deploy (SIGKILL) at each stage of a
// deployment (its lock held with a 3s lease), and re-runs it: the re-run
// waits for the lease to run out, takes over the lock saying whose it
// was (requester and CI build), says whose run it completes, finishes the
// deployment; the history shows both attempts truthfully (the dead one
// closed as abandoned, the re-run succeeded and naming it in Resumes).
func TestCrashAndRerun(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	stages := []struct {
		name string
		op   string // the call the run is stuck in when killed
		skip int    // calls of op let through before
		// recorded: whether the killed run had written its record
		recorded bool
	}{
		{"after lock", "Query", 0, false}, // listing dead runs' records, lock held
		{"after record", "DescribeServices", 0, true},
		{"mid tag moves", "PutImage", 1, true},
		{"mid updates", "UpdateService", 1, true},
		{"mid wait", "DescribeServices", 1, true}, // the first poll after the updates
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 3})
			p := proxy(t, stall(st.op, st.skip)...)

			// The killed run holds a short lease, which really runs out;
			// the re-run waits for it (its lock wait is the default).
			first := start(t, bin, cliEnv(t, p.URL(), "first-run", deadRunCI...), deployArgs(f, "--lock-ttl", "3s")...)
			waitForStall(t, p, first)
			first.kill(t)

			p.SetRate(0)
			second := start(t, bin, cliEnv(t, p.URL(), "second-run"), deployArgs(f)...)
			if code := second.wait(t); code != 0 {
				t.Fatalf("re-run after a SIGKILL %s: exit %d, want 0\n%s", st.name, code, second.output())
			}
			for _, img := range f.Images {
				if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.New {
					t.Errorf("%s:%s points at %s after the re-run, want %s", img.Repository, deployfixture.FloatingTag, got, img.New)
				}
			}
			contains(t, "the re-run's output", second.output(), "took over the lock of "+deadRunBy+", whose lease expired")
			deps := f.Deployments(ctx, t)
			if !st.recorded {
				if len(deps) != 1 || deps[0].Status != history.StatusSucceeded {
					t.Fatalf("history: got %d records; want only the re-run's, succeeded", len(deps))
				}
				return
			}
			rerun, dead := rerunAndDead(ctx, t, f, history.StatusSucceeded)
			contains(t, "the re-run's output", second.output(),
				"deployment "+dead.ID+", started by "+deadRunBy+", was left in progress by a run that died")
			cur, err := f.Store().GetCurrent(ctx, f.Project, deployfixture.Environment)
			if err != nil || cur.DeploymentID != rerun.ID {
				t.Errorf("current record: got %+v, %v; want the re-run %s", cur, err, rerun.ID)
			}
		})
	}
}

// TestSignalsStopGracefully: SIGINT or SIGTERM during the wait for ECS
// ends the run with exit code 130, its record closed as cancelled, and
// the lock released.
func TestSignalsStopGracefully(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
			p := proxy(t, stall("DescribeServices", 1)...)
			r := start(t, bin, cliEnv(t, p.URL(), "ci"), deployArgs(f)...)
			waitForStall(t, p, r)
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t); code != 130 {
				t.Errorf("exit code after %s: got %d, want 130\n%s", sig, code, r.output())
			}
			deps := f.Deployments(ctx, t)
			if len(deps) != 1 {
				t.Fatalf("history: got %d records, want 1", len(deps))
			}
			if d := deps[0]; d.Status != history.StatusCancelled || d.FinishedAt.IsZero() || !strings.HasPrefix(d.Reason, "cancelled") {
				t.Errorf("record after %s: status %s, finished %v, reason %q; want cancelled", sig, d.Status, d.FinishedAt, d.Reason)
			}
			l, err := f.Store().AcquireLock(ctx, history.Lock{Project: f.Project, Environment: deployfixture.Environment, Owner: "checker", RequestedBy: "checker"}, time.Minute)
			if err != nil {
				t.Errorf("lock after %s: %v; want it released", sig, err)
			} else {
				_ = f.Store().ReleaseLock(ctx, l)
			}
		})
	}
}
