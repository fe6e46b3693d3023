package deploy

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

func TestECSRequestBudgetMustBePositive(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		rate  float64
		burst int
	}{{0, 50}, {-1, 50}, {math.NaN(), 50}, {math.Inf(1), 50}, {20, 0}} {
		if _, err := New(testProject(), history.NewMemory(), WithECSRequestBudget(b.rate, b.burst)); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("WithECSRequestBudget(%v, %d): got %v, want ErrInvalidInput", b.rate, b.burst, err)
		}
	}
}

// TestECSRequestBudgetReachesEachTarget checks that every cluster target
// gets the budget: rollout's default unless WithECSRequestBudget says.
func TestECSRequestBudgetReachesEachTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		opts      []Option
		rate      float64
		wantBurst int
	}{
		{"default", nil, rollout.DefaultRate, rollout.DefaultBurst},
		{"set", []Option{WithECSRequestBudget(7, 3)}, 7, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []ClusterParams
			var f *fixture
			f = newFixture(t, append(tc.opts, WithCluster(func(p ClusterParams) (Cluster, error) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, p)
				return fakeCluster{f.w, p.Target.Cluster}, nil
			}))...)
			if _, err := f.releaseDeploy("stage"); err != nil {
				t.Fatalf("release-deploy: %v", err)
			}
			if len(got) == 0 {
				t.Fatal("no cluster was built")
			}
			for _, p := range got {
				if p.RequestRate != tc.rate || p.RequestBurst != tc.wantBurst {
					t.Errorf("cluster %s: got %v a second, bursts of %d; want %v, %d", p.Target.Cluster, p.RequestRate, p.RequestBurst, tc.rate, tc.wantBurst)
				}
			}
		})
	}
}

// TestECSRequestBudgetPacesTheCalls finds two services (one
// DescribeServices, two DescribeTaskDefinition) on the scripted ECS
// server: with a burst of 1 and 1 call a second, the two calls after the
// first wait at least 2 s on the (fake) clock; with the default budget,
// none waits.
func TestECSRequestBudgetPacesTheCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		rate        float64
		burst       int
		atLeast     time.Duration
		wantNoSleep bool
	}{
		{"1 a second", 1, 1, 2 * time.Second, false},
		{"default", 0, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, ecsfake.Unsupported, scriptedService("api", tdAPI), scriptedService("worker", tdWorker))
			srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: tdAPI}, ecsfake.TaskDefinition{ARN: tdWorker})
			clock := ecsfake.NewClock(ecsfake.T0)
			c := NewECSCluster(srv.Client(), ClusterParams{Target: manifest.Target{Cluster: ecsfake.Cluster}, Clock: clock,
				RequestRate: tc.rate, RequestBurst: tc.burst})
			if _, err := c.Find(context.Background(), FindInput{Names: []string{"api", "worker"}}); err != nil {
				t.Fatalf("Find: %v", err)
			}
			slept := clock.Slept()
			if slept < tc.atLeast || (tc.wantNoSleep && slept != 0) {
				t.Errorf("waited %s for the budget, want at least %s (none: %v)", slept, tc.atLeast, tc.wantNoSleep)
			}
		})
	}
}
