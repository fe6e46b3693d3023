package rollout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestSDKRetriesObeyTheBudget: a Rollout made by NewFromConfig makes the
// SDK's own retry of a throttled call take from the budget, and reports
// the throttled attempt at once: the budget backs off although the call,
// retried, succeeds.
func TestSDKRetriesObeyTheBudget(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2, Before: before})
	clock := clocktest.NewAuto(ecsfake.T0)
	b := rollout.NewBudget(clock, rollout.DefaultQuotaShare, 0, 0)
	r := rollout.NewFromConfig(srv.Config(3), rollout.WithClock(clock), rollout.WithBudget(b))
	srv.Throttle("DescribeServices", 1)
	if _, err := r.Find(context.Background(), rollout.FindInput{Cluster: ecsfake.Cluster, Names: []string{"app"}}); err != nil {
		t.Fatalf("Find: %v", err)
	}
	if got := srv.Calls("DescribeServices"); got != 2 {
		t.Errorf("DescribeServices calls: got %d, want 2 (throttled, retried by the SDK)", got)
	}
	l := b.Limiter(rollout.ServiceRead)
	if l.Cuts() != 1 || l.Rate() != 10 {
		t.Errorf("service read: %d back-offs, %v a second; want 1, 10 (half of 20)", l.Cuts(), l.Rate())
	}
	if s, want := clock.Slept(), 100*time.Millisecond; s != want {
		t.Errorf("the retry waited %s for the budget, want %s (an empty bucket at 10 a second)", s, want)
	}
}

// TestAdaptiveBudgetConverges redeploys 50 services through a Rollout
// with the default budget (all of AWS's documented service-modify
// bucket: 50 at once, 5 a second) against ECS's throttling played by the
// scripted server, on a fake clock. On a quiet account, all 50 go at
// once, unthrottled. On an account whose other tools use half of the
// quota (the server's bucket: 25 at once, 2.5 a second), the budget backs
// off at the first ThrottlingException and every update goes through,
// retried by the SDK, with a few throttled attempts, in about the time
// the account's half allows ((50 - 25) / 2.5 = 10 s).
func TestAdaptiveBudgetConverges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		rate        float64 // the account's bucket left to buoy, 0: all of AWS's
		burst       int
		floor       time.Duration // the least time that bucket allows
		maxThrottle int
	}{
		{name: "quiet account", floor: 0, maxThrottle: 0},
		{name: "other tools use half of the quota", rate: 2.5, burst: 25, floor: 10 * time.Second, maxThrottle: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var svcs []ecsfake.Service
			for i := range 50 {
				svcs = append(svcs, ecsfake.Service{Name: fmt.Sprintf("app%02d", i), TaskDefinition: tdOld, DesiredCount: 2,
					Before: before, Update: updateResp, Frames: []ecsfake.Frame{completed()}})
			}
			srv := ecsfake.New(t, ecsfake.Unsupported, svcs...)
			clock := clocktest.NewAuto(ecsfake.T0)
			rate, burst := tc.rate, tc.burst
			if rate == 0 {
				q := rollout.AWSQuota(rollout.ServiceModify)
				rate, burst = q.Rate, q.Burst
			}
			srv.Bucket(clock, rate, burst, "UpdateService")
			b := rollout.NewBudget(clock, rollout.DefaultQuotaShare, rollout.DefaultRate, rollout.DefaultBurst)
			r := rollout.NewFromConfig(srv.Config(10), rollout.WithClock(clock), rollout.WithBudget(b))
			for _, s := range svcs {
				svc := rollout.Service{Name: s.Name, Cluster: ecsfake.Cluster, TaskDefinition: tdOld, PrimaryDeployment: oldID, DesiredCount: 2}
				if _, err := r.Redeploy(context.Background(), svc, rollout.RedeployInput{}); err != nil {
					t.Fatalf("Redeploy %s: %v", s.Name, err)
				}
			}
			throttled, took := srv.Throttled("UpdateService"), clock.Now().Sub(ecsfake.T0)
			if got := srv.Calls("UpdateService") - throttled; got != 50 {
				t.Errorf("UpdateService answered: got %d, want 50", got)
			}
			if throttled > tc.maxThrottle {
				t.Errorf("throttled UpdateService: got %d, want at most %d", throttled, tc.maxThrottle)
			}
			if took < tc.floor || took > tc.floor*12/10 {
				t.Errorf("50 updates took %s on the clock, want %s to 1.2 times it", took, tc.floor)
			}
			t.Logf("%d throttled, %s on the clock, %d back-offs", throttled, took, b.Limiter(rollout.ServiceModify).Cuts())
		})
	}
}

// TestBackoffIsSharedByTheTargetsOfABudget: two targets of one account
// and Region (two Rollouts, two clusters) share a budget; ECS throttling
// one of them slows the other down as well.
func TestBackoffIsSharedByTheTargetsOfABudget(t *testing.T) {
	t.Parallel()
	svc := ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2, Before: before, Update: updateResp, Frames: []ecsfake.Frame{completed()}}
	a, b := ecsfake.New(t, ecsfake.Unsupported, svc), ecsfake.New(t, ecsfake.Unsupported, svc)
	clock := clocktest.NewAuto(ecsfake.T0)
	budget := rollout.NewBudget(clock, rollout.DefaultQuotaShare, 0, 0)
	ra := rollout.NewFromConfig(a.Config(3), rollout.WithClock(clock), rollout.WithBudget(budget))
	rb := rollout.NewFromConfig(b.Config(3), rollout.WithClock(clock), rollout.WithBudget(budget))
	target := rollout.Service{Name: "app", Cluster: ecsfake.Cluster, TaskDefinition: tdOld, PrimaryDeployment: oldID, DesiredCount: 2}
	a.Throttle("UpdateService", 1)
	if _, err := ra.Redeploy(context.Background(), target, rollout.RedeployInput{}); err != nil {
		t.Fatalf("Redeploy on the first target: %v", err)
	}
	waited := clock.Slept()
	if _, err := rb.Redeploy(context.Background(), target, rollout.RedeployInput{}); err != nil {
		t.Fatalf("Redeploy on the second target: %v", err)
	}
	if got, want := clock.Slept()-waited, 400*time.Millisecond; got != want {
		t.Errorf("the second target's update waited %s, want %s (the shared bucket, emptied and cut to 2.5 a second)", got, want)
	}
	if b.Throttled("UpdateService") != 0 {
		t.Errorf("the second target was throttled %d times, want none", b.Throttled("UpdateService"))
	}
}
