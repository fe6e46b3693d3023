package rollout_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestEveryECSCallHasItsAWSCategory maps every operation of ECSAPI (all
// the ECS calls buoy can make) to the category AWS's "Request throttling
// for the Amazon ECS API" puts it in. A call added to ECSAPI without a
// category, or with another, fails here.
func TestEveryECSCallHasItsAWSCategory(t *testing.T) {
	t.Parallel()
	want := map[string]rollout.Category{
		"ListClusters":               rollout.ClusterRead,
		"DescribeServices":           rollout.ServiceRead,
		"ListServices":               rollout.ServiceRead,
		"UpdateService":              rollout.ServiceModify,
		"DescribeTaskDefinition":     rollout.TaskDefinitionRead,
		"ListTaskDefinitions":        rollout.TaskDefinitionRead,
		"RegisterTaskDefinition":     rollout.TaskDefinitionModify,
		"DeregisterTaskDefinition":   rollout.TaskDefinitionModify,
		"ListTasks":                  rollout.ClusterResourceRead,
		"DescribeTasks":              rollout.ClusterResourceRead,
		"RunTask":                    rollout.ClusterResourceModify,
		"ListServiceDeployments":     rollout.ServiceDeployment,
		"DescribeServiceDeployments": rollout.ServiceDeployment,
	}
	api := reflect.TypeFor[rollout.ECSAPI]()
	for i := range api.NumMethod() {
		op := api.Method(i).Name
		got, ok := rollout.CategoryOf(op)
		if !ok {
			t.Errorf("CategoryOf(%s): no category; add it as AWS's throttling page says", op)
			continue
		}
		if got != want[op] {
			t.Errorf("CategoryOf(%s) = %q, want %q", op, got, want[op])
		}
		if q := rollout.AWSQuota(got); q.Rate <= 0 || q.Burst < 1 {
			t.Errorf("AWSQuota(%q) = %+v, want a documented bucket", got, q)
		}
	}
	if len(want) != api.NumMethod() {
		t.Errorf("ECSAPI has %d operations, the table %d", api.NumMethod(), len(want))
	}
	if err := rollout.NewBudget(nil, 0, 0, 0).Wait(context.Background(), "StopTask"); !errors.Is(err, rollout.ErrNoCategory) {
		t.Errorf("Wait(StopTask) = %v, want ErrNoCategory", err)
	}
}

// TestBudgetGivesEachCategoryItsShareOfAWSQuota checks the buckets:
// half of AWS's by default, a larger share, and the caps.
func TestBudgetGivesEachCategoryItsShareOfAWSQuota(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		share, maxRate float64
		maxBurst       int
		want           map[rollout.Category]rollout.Quota
	}{
		{"default", rollout.DefaultQuotaShare, rollout.DefaultRate, rollout.DefaultBurst, map[rollout.Category]rollout.Quota{
			rollout.ClusterRead: {Rate: 10, Burst: 25},
			rollout.ServiceRead: {Rate: 10, Burst: 50}, rollout.ServiceModify: {Rate: 2.5, Burst: 25},
			rollout.TaskDefinitionRead: {Rate: 10, Burst: 25}, rollout.TaskDefinitionModify: {Rate: 0.5, Burst: 10},
			rollout.ClusterResourceRead: {Rate: 10, Burst: 50}, rollout.ServiceDeployment: {Rate: 10, Burst: 25},
		}},
		{"all of AWS's, capped at 10 a second, bursts of 30", 1, 10, 30, map[rollout.Category]rollout.Quota{
			rollout.ClusterRead: {Rate: 10, Burst: 30},
			rollout.ServiceRead: {Rate: 10, Burst: 30}, rollout.ServiceModify: {Rate: 5, Burst: 30},
			rollout.TaskDefinitionRead: {Rate: 10, Burst: 30}, rollout.TaskDefinitionModify: {Rate: 1, Burst: 20},
			rollout.ClusterResourceRead: {Rate: 10, Burst: 30}, rollout.ServiceDeployment: {Rate: 10, Burst: 30},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := clocktest.NewAuto(ecsfake.T0)
			b := rollout.NewBudget(clock, tc.share, tc.maxRate, tc.maxBurst)
			for c, q := range tc.want {
				if got := b.Limiter(c).Rate(); got != q.Rate {
					t.Errorf("%s: rate %v, want %v", c, got, q.Rate)
				}
				// The whole burst goes at once; the next call waits 1/rate.
				for range q.Burst {
					if err := b.Limiter(c).Wait(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
				if s := clock.Slept(); s != 0 {
					t.Errorf("%s: waited %s within its burst of %d", c, s, q.Burst)
				}
				if err := b.Limiter(c).Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				if s, want := clock.Slept(), time.Duration(float64(time.Second)/q.Rate); s != want {
					t.Errorf("%s: call after the burst waited %s, want %s", c, s, want)
				}
				clock = clocktest.NewAuto(ecsfake.T0)
				b = rollout.NewBudget(clock, tc.share, tc.maxRate, tc.maxBurst)
			}
		})
	}
}

// TestBudgetPacesEachCategoryApart: service updates do not wait behind
// reads. On a fake clock, 25 UpdateService (the service-modify burst) and
// then 50 DescribeServices (the service-read burst) and 25
// DescribeTaskDefinition go without waiting; the 26th UpdateService
// waits 1/2.5 s, the categories' own pace, whatever the others did.
func TestBudgetPacesEachCategoryApart(t *testing.T) {
	t.Parallel()
	clock := clocktest.NewAuto(ecsfake.T0)
	b := rollout.NewBudget(clock, rollout.DefaultQuotaShare, 0, 0)
	ctx := context.Background()
	take := func(op string, n int) {
		t.Helper()
		for range n {
			if err := b.Wait(ctx, op); err != nil {
				t.Fatalf("Wait(%s): %v", op, err)
			}
		}
	}
	take("UpdateService", 25)
	take("DescribeServices", 50)
	take("DescribeTaskDefinition", 25)
	if s := clock.Slept(); s != 0 {
		t.Fatalf("waited %s within the three bursts, want none", s)
	}
	take("UpdateService", 1)
	if s, want := clock.Slept(), 400*time.Millisecond; s != want {
		t.Errorf("26th UpdateService waited %s, want %s", s, want)
	}
	// 400 ms refilled 4 service reads: the 51st to 54th go at once.
	take("ListServices", 4)
	if s, want := clock.Slept(), 400*time.Millisecond; s != want {
		t.Errorf("service reads waited %s in all, want %s (no more)", s, want)
	}
}

// TestThrottlingHalvesOnlyItsCategory: a ThrottlingException on
// UpdateService halves the service-modify bucket and empties it; the
// reads keep their pace.
func TestThrottlingHalvesOnlyItsCategory(t *testing.T) {
	t.Parallel()
	clock := clocktest.NewAuto(ecsfake.T0)
	b := rollout.NewBudget(clock, rollout.DefaultQuotaShare, 0, 0)
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	b.Observe("UpdateService", throttled)
	if got, want := b.Limiter(rollout.ServiceModify).Rate(), 1.25; got != want {
		t.Errorf("service modify after throttling: %v a second, want %v", got, want)
	}
	for _, c := range []rollout.Category{rollout.ServiceRead, rollout.TaskDefinitionRead, rollout.ServiceDeployment} {
		if got, want := b.Limiter(c).Rate(), rollout.AWSQuota(c).Rate/2; got != want {
			t.Errorf("%s after a service-modify throttle: %v a second, want %v", c, got, want)
		}
	}
	if err := b.Wait(context.Background(), "DescribeServices"); err != nil {
		t.Fatal(err)
	}
	if s := clock.Slept(); s != 0 {
		t.Errorf("DescribeServices waited %s after UpdateService was throttled, want none", s)
	}
	if err := b.Wait(context.Background(), "UpdateService"); err != nil {
		t.Fatal(err)
	}
	if s, want := clock.Slept(), 800*time.Millisecond; s != want {
		t.Errorf("UpdateService after throttling waited %s, want %s (empty bucket, 1.25 a second)", s, want)
	}
	// Success raises it back towards its base, never above.
	for range 20 {
		b.Observe("UpdateService", nil)
	}
	if got, want := b.Limiter(rollout.ServiceModify).Rate(), 2.5; got != want {
		t.Errorf("service modify after 20 successes: %v a second, want %v", got, want)
	}
}
