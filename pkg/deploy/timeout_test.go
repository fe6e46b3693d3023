package deploy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

// clockedFixture is scriptedFixture with one clock for the Deployer and
// the rollout, and a lock whose heartbeat never comes.
func clockedFixture(t *testing.T, api, worker ecsfake.Service) (*fixture, *clocktest.Clock) {
	t.Helper()
	srv := scriptedServer(t, api, worker)
	// The scripted ECS's clock (a wait moves it forward at once) for the
	// Deployer and the rollout alike, except that waits of ten minutes or
	// longer (the lock's heartbeat) never end: the clock moves only as
	// the rollout waits.
	clock := clocktest.New(ecsfake.T0)
	clock.AutoAdvance(10 * time.Minute)
	f := newFixture(t, WithClock(clock), WithCluster(func(p ClusterParams) (Cluster, error) {
		p.Clock = clock
		return NewECSCluster(srv.Client(), p), nil
	}))
	// A lease longer than any lease a caller may ask for (MaxLockTTL),
	// set behind New's back: its renewal is due after ten minutes, so the
	// heartbeat's wait neither fires nor moves the clock these tests
	// read, and the lease outlasts the operation's fake minutes.
	f.d.lockTTL = 3 * time.Hour
	return f, clock
}

// TestEachServiceIsTimedToItsOwnOutcome: a service that fails fast and
// one that completes later are timed each to its own outcome, not both to
// the end of the wait.
func TestEachServiceIsTimedToItsOwnOutcome(t *testing.T) {
	t.Parallel()
	slow := []ecsfake.Frame{}
	for range 10 {
		slow = append(slow, inProgressFrame(tdWorker))
	}
	f, clock := clockedFixture(t,
		scriptedService("api", tdAPI, inProgressFrame(tdAPI), inProgressFrame(tdAPI), circuitBreakerFrame(tdAPI)),
		scriptedService("worker", tdWorker, append(slow, completedFrame(tdWorker))...))
	res, err := f.releaseDeploy("stage")
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want ErrDeploymentFailed (api failed)", err)
	}
	sleeps := clock.Sleeps()
	if len(sleeps) != 10 {
		t.Fatalf("waits between polls: got %d, want 10 (worker completes at the 11th poll)", len(sleeps))
	}
	apiTook, workerTook := sleeps[0]+sleeps[1], time.Duration(0) // api failed at the 3rd poll
	for _, d := range sleeps {
		workerTook += d
	}
	for _, s := range res.Services {
		want := map[string]time.Duration{"api": apiTook, "worker": workerTook}[s.Service]
		if s.Duration != want {
			t.Errorf("%s (%s): took %s, want %s, until its own outcome", s.Service, s.Outcome, s.Duration, want)
		}
	}
	if apiTook >= workerTook {
		t.Fatalf("the script is wrong: api's %s is not shorter than worker's %s", apiTook, workerTook)
	}
}

// TestRollbackSharesTheOperationsTime: with --rollback, the wait for ECS
// (the rollout's, and the rollback's with its tag moves and updates) ends
// within Timeout + RollbackTimeout of its start. A rollout that times out
// leaves the rollback its least time, RollbackTimeout; one that fails at
// once leaves it the rest of Timeout.
func TestRollbackSharesTheOperationsTime(t *testing.T) {
	t.Parallel()
	const timeout, rollbackTimeout = 10 * time.Minute, 3 * time.Minute
	stuck := func(td string) []ecsfake.Frame { return []ecsfake.Frame{inProgressFrame(td)} }
	// service plays forward for its first update; the rollback's update
	// never completes.
	service := func(name, td string, forward ...ecsfake.Frame) ecsfake.Service {
		s := scriptedService(name, td, forward...)
		s.Then = []ecsfake.Script{{Update: s.Update, Frames: stuck(td)}}
		return s
	}
	for _, tc := range []struct {
		name        string
		api, worker []ecsfake.Frame
		took        time.Duration // the whole operation, by the fake clock
		failure     error
	}{
		{"the rollout times out: the rollback gets RollbackTimeout", stuck(tdAPI), stuck(tdWorker), timeout + rollbackTimeout, ErrTimeout},
		{"the rollout fails at once: the rollback gets the rest of Timeout", []ecsfake.Frame{circuitBreakerFrame(tdAPI)}, []ecsfake.Frame{completedFrame(tdWorker)},
			timeout, ErrDeploymentFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := clockedFixture(t, service("api", tdAPI, tc.api...), service("worker", tdWorker, tc.worker...))
			res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) {
				in.Rollback, in.Timeout, in.RollbackTimeout = true, timeout, rollbackTimeout
			})
			if !errors.Is(err, tc.failure) || !strings.Contains(err.Error(), "the rollback failed too") || !strings.Contains(err.Error(), ErrTimeout.Error()) {
				t.Fatalf("error: got %v; want %v, and the rollback timed out too", err, tc.failure)
			}
			if took := res.Finished.Sub(res.Started); took != tc.took {
				t.Errorf("the operation took %s by the clock, want %s: Timeout %s, RollbackTimeout %s", took, tc.took, timeout, rollbackTimeout)
			}
		})
	}
}

// TestRollbackDeadline: what a rollback gets, as the rule says.
func TestRollbackDeadline(t *testing.T) {
	t.Parallel()
	start := ecsfake.T0
	for _, tc := range []struct {
		name             string
		failedAfter      time.Duration
		timeout, least   time.Duration
		wantAfterTheWait time.Duration // the deadline, from the start of the rollout's wait
	}{
		{"failed at once: the rest of the timeout", 0, 30 * time.Minute, 5 * time.Minute, 30 * time.Minute},
		{"failed late: at least the rollback timeout", 28 * time.Minute, 30 * time.Minute, 5 * time.Minute, 33 * time.Minute},
		{"timed out: the rollback timeout", 30 * time.Minute, 30 * time.Minute, 5 * time.Minute, 35 * time.Minute},
		{"the rollout's last poll ran over: never past timeout + rollback timeout", 31 * time.Minute, 30 * time.Minute, 5 * time.Minute, 35 * time.Minute},
		{"no rollback timeout: the default", 30 * time.Minute, 30 * time.Minute, 0, 30*time.Minute + DefaultRollbackTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := rollbackDeadline(start, start.Add(tc.failedAfter), tc.timeout, tc.least)
			if got.Sub(start) != tc.wantAfterTheWait {
				t.Errorf("deadline: %s after the wait started, want %s", got.Sub(start), tc.wantAfterTheWait)
			}
		})
	}
}
