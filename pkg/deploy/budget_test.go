package deploy

import (
	"cmp"
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
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
	for _, share := range []float64{0, -0.5, math.NaN(), math.Inf(1)} {
		if _, err := New(testProject(), history.NewMemory(), WithECSQuotaShare(share)); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("WithECSQuotaShare(%v): got %v, want ErrInvalidInput", share, err)
		}
	}
}

// TestECSBudgetIsSharedPerAccountAndRegion: AWS throttles ECS per account
// and Region, so an operation's targets there share one budget: two
// clusters in the default region (named or not), two roles of one
// account; other regions and accounts have their own.
func TestECSBudgetIsSharedPerAccountAndRegion(t *testing.T) {
	t.Parallel()
	const acct1, acct2 = "arn:aws:iam::111111111111:role/", "arn:aws:iam::222222222222:role/"
	targets := []manifest.Target{
		{Cluster: "a"}, {Cluster: "b", Region: "eu-west-1"}, {Cluster: "c", Region: "us-east-1"},
		{Cluster: "d", RoleARN: acct1 + "deploy"}, {Cluster: "e", RoleARN: acct1 + "other"},
		{Cluster: "f", RoleARN: acct2 + "deploy"}, {Cluster: "g", Region: "us-east-1", RoleARN: acct1 + "deploy"},
	}
	same := [][]string{{"a", "b"}, {"c"}, {"d", "e"}, {"f"}, {"g"}}
	got := map[string]*rollout.Budget{}
	var mu sync.Mutex
	d, err := New(testProject(), history.NewMemory(),
		WithAWSConfig(func(_ context.Context, t manifest.Target) (aws.Config, error) {
			return aws.Config{Region: cmp.Or(t.Region, "eu-west-1")}, nil
		}),
		WithCluster(func(p ClusterParams) (Cluster, error) {
			mu.Lock()
			defer mu.Unlock()
			got[p.Target.Cluster] = p.Budget
			return fakeCluster{newWorld(), p.Target.Cluster}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	s, ctx := d.newSession(context.Background())
	for _, tg := range targets {
		if _, err := s.cluster(ctx, tg); err != nil {
			t.Fatalf("cluster %s: %v", tg.Cluster, err)
		}
	}
	owner := map[*rollout.Budget]string{}
	for _, group := range same {
		b := got[group[0]]
		if b == nil {
			t.Fatalf("cluster %s: no budget", group[0])
		}
		if o, ok := owner[b]; ok {
			t.Errorf("cluster %s shares the budget of %s, want its own (other account or region)", group[0], o)
		}
		owner[b] = group[0]
		for _, c := range group[1:] {
			if got[c] != b {
				t.Errorf("cluster %s: a budget of its own, want the one of %s (same account and region)", c, group[0])
			}
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
				if p.Budget == nil {
					t.Errorf("cluster %s: no budget", p.Target.Cluster)
				}
				if p.RequestRate != tc.rate || p.RequestBurst != tc.wantBurst {
					t.Errorf("cluster %s: got %v a second, bursts of %d; want %v, %d", p.Target.Cluster, p.RequestRate, p.RequestBurst, tc.rate, tc.wantBurst)
				}
			}
		})
	}
}

// TestECSRequestBudgetPacesTheCalls finds two services (one
// DescribeServices, a service read, and two DescribeTaskDefinition, task
// definition reads) on the scripted ECS server: capped at bursts of 1 and
// 1 call a second in each category, the second task definition read
// waits 1 s on the (fake) clock and the service read none (it is in
// another of AWS's buckets); with the default budget, none waits.
func TestECSRequestBudgetPacesTheCalls(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		rate  float64
		burst int
		want  time.Duration
	}{
		{"1 a second", 1, 1, time.Second},
		{"default", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, ecsfake.Unsupported, scriptedService("api", tdAPI), scriptedService("worker", tdWorker))
			srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: tdAPI}, ecsfake.TaskDefinition{ARN: tdWorker})
			clock := clocktest.NewAuto(ecsfake.T0)
			c := NewECSCluster(srv.Client(), ClusterParams{Target: manifest.Target{Cluster: ecsfake.Cluster}, Clock: clock,
				RequestRate: tc.rate, RequestBurst: tc.burst})
			if _, err := c.Find(context.Background(), FindInput{Names: []string{"api", "worker"}}); err != nil {
				t.Fatalf("Find: %v", err)
			}
			slept := clock.Slept()
			if slept != tc.want {
				t.Errorf("waited %s for the budget, want %s", slept, tc.want)
			}
		})
	}
}
