package rollout_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestFindReadsHowAServiceLaunchesItsTasks: a found service carries its
// capacity provider strategy, platform version and awsvpc network
// configuration, and a one-off task started with them asks RunTask for
// the same strategy.
func TestFindReadsHowAServiceLaunchesItsTasks(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "web", TaskDefinition: migrate,
		Launch: &ecsfake.Launch{CapacityProviders: []ecsfake.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3, Base: 1}},
			PlatformVersion: "1.4.0", Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"}})
	srv.ScriptRunTask(ecsfake.OneOff{})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	ctx := context.Background()
	svcs, err := r.Find(ctx, rollout.FindInput{Cluster: ecsfake.Cluster, Names: []string{"web"}})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	want := rollout.Launch{CapacityProviderStrategy: []rollout.CapacityProviderItem{{CapacityProvider: "FARGATE_SPOT", Weight: 3, Base: 1}},
		PlatformVersion: "1.4.0", Network: &rollout.NetworkConfiguration{Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "ENABLED"}}
	if got := svcs[0].Launch; !reflect.DeepEqual(got, want) {
		t.Fatalf("launch: got %+v, want %+v", got, want)
	}
	l := svcs[0].Launch
	if _, err := r.StartTask(ctx, rollout.TaskInput{Cluster: ecsfake.Cluster, TaskDefinition: migrate,
		CapacityProviderStrategy: l.CapacityProviderStrategy, PlatformVersion: l.PlatformVersion, Network: l.Network}); err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	got := srv.RunTaskRequests()[0]["capacityProviderStrategy"]
	if want := []any{map[string]any{"capacityProvider": "FARGATE_SPOT", "weight": float64(3), "base": float64(1)}}; !reflect.DeepEqual(got, want) {
		t.Errorf("RunTask capacityProviderStrategy: got %v, want %v", got, want)
	}
}
