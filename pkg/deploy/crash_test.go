package deploy

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
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
		f.store.setDead(true)
		return errDead
	}
}

// revive brings the store back and lets the dead run's lease expire.
func (f *fixture) revive() {
	f.store.setDead(false)
	f.w.onRedeploy = nil
	f.clock.Advance(DefaultLockTTL + time.Second)
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
	rel, err := f.d.Prepare(context.Background(), PrepareInput{Label: "latest", RequestedBy: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f.dieOnRedeploy(1)
	if _, err := f.deployRollingBack(rel.ID); !errors.Is(err, errDead) {
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
