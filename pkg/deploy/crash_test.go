package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

// dieOnRedeploy makes the process "die" at the n-th service update (1 is
// the first): that update and every later store write fail.
func (f *fixture) dieOnRedeploy(n int) {
	var mu sync.Mutex
	calls := 0
	f.w.onRedeploy = func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls < n {
			return nil
		}
		f.store.SetDead(true)
		return historytest.ErrDied
	}
}

// prepare makes a release of what latest points at.
func (f *fixture) prepare() *history.Release {
	f.t.Helper()
	rel, err := f.d.Prepare(context.Background(), PrepareInput{Label: "latest", RequestedBy: "ci"})
	if err != nil {
		f.t.Fatal(err)
	}
	return rel
}

// revive brings the store back and readies the re-run: it waits for the
// lock (the clock moving by itself) and takes over the dead run's, once
// it has seen it unrenewed for a lease and a margin.
func (f *fixture) revive() {
	f.store.SetDead(false)
	f.w.onRedeploy, f.w.onWait = nil, nil
	f.rerunWaits()
}

// rerunWaits lets the fixture's Deployer wait for a dead run's lock and
// take it over, the clock moving as it waits.
func (f *fixture) rerunWaits() {
	f.d.lockWait = DefaultLockWait
	f.clock.AutoAdvance(time.Minute)
}

func (f *fixture) deployRollingBack(relID string) (*Result, error) {
	return f.d.Deploy(context.Background(), DeployInput{
		Request: Request{Environment: "stage", RequestedBy: "ci", Rollback: true}, Release: relID})
}

func (f *fixture) checkTagsAtOldDigests(when string) {
	f.t.Helper()
	for _, img := range f.project.Images {
		if got, want := f.w.tagged(img.Repository, "env.stage"), oldDigest(img.ID); got != want {
			f.t.Errorf("%s:env.stage %s: got %s, want %s (what ran before)", img.Repository, when, got, want)
		}
	}
}

// TestRerunRollsBackTagsADeadRunMoved: a run dies after moving the tags;
// the re-run finds them at the release already, and when its rollout
// fails, its rollback returns them to where they were before the dead
// run moved them (read from the dead run's record), not leaving them at
// the failed release.
func TestRerunRollsBackTagsADeadRunMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rel := f.prepare()
	f.dieOnRedeploy(1)
	if _, err := f.deployRollingBack(rel.ID); !errors.Is(err, historytest.ErrDied) {
		t.Fatalf("the dying run: got %v, want it to die", err)
	}
	f.revive()
	f.w.failRollout["api"] = "rolled back by the circuit breaker"
	res, err := f.deployRollingBack(rel.ID)
	if !errors.Is(err, ErrDeploymentFailed) || res.Status != history.StatusRolledBack {
		t.Fatalf("re-run: got %v, status %s; want a failed rollout, rolled back", err, res.Status)
	}
	f.checkTagsAtOldDigests("after the re-run's rollback")
}

// TestKilledWhileRollingBack: a run whose rollout failed records that it
// is rolling back before it starts; killed during the rollback, its
// record says so, and the re-run (the same command) deploys the release
// again, rolls back again when the rollout fails again, and closes the
// dead record as abandoned, saying what it was doing.
func TestKilledWhileRollingBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rel := f.prepare()
	f.w.failRollout["api"] = "tasks stopped: CannotPullContainerError"
	f.dieOnRedeploy(3) // two services forward, then the rollback's first update
	first, err := f.deployRollingBack(rel.ID)
	if !errors.Is(err, historytest.ErrDied) {
		t.Fatalf("the dying run: got %v, want it to die in its rollback", err)
	}
	dead := f.deployment(first.Deployment.ID)
	if dead.Status != history.StatusInProgress || !strings.HasPrefix(dead.Reason, "rolling back after: ") || !strings.Contains(dead.Reason, "CannotPullContainerError") {
		t.Fatalf("record of the run killed while rolling back: got %s %q, want in progress, rolling back after the failure", dead.Status, dead.Reason)
	}

	f.revive()
	f.w.failRollout["api"] = "tasks stopped: CannotPullContainerError"
	second, err := f.deployRollingBack(rel.ID)
	if !errors.Is(err, ErrDeploymentFailed) || second.Status != history.StatusRolledBack {
		t.Fatalf("re-run: got %v, status %s; want the rollout failed again and rolled back", err, second.Status)
	}
	if second.Deployment.Resumes != dead.ID {
		t.Errorf("re-run resumes %q, want %s", second.Deployment.Resumes, dead.ID)
	}
	dead = f.deployment(dead.ID)
	for _, want := range []string{"abandoned", "rolling back after: ", "CannotPullContainerError", second.Deployment.ID} {
		if dead.Status != history.StatusFailed || !strings.Contains(dead.Reason, want) {
			t.Errorf("dead record after the re-run: got %s %q, want failed, saying %q", dead.Status, dead.Reason, want)
		}
	}
	f.checkTagsAtOldDigests("after the re-run")
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current record: got %v, want none (the release never ran)", err)
	}
}
