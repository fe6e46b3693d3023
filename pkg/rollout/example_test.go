package rollout_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// ExampleRollout_Wait redeploys a service on a scripted ECS server whose
// circuit breaker rolls the deployment back, and shows what Wait reports.
func ExampleRollout_Wait() {
	t := &testing.T{}
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
		Before: before, Update: updateResp, Frames: []ecsfake.Frame{rolledBack()}})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	ctx := context.Background()

	svcs, err := r.Find(ctx, rollout.FindInput{Cluster: ecsfake.Cluster, Names: []string{"app"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := r.Redeploy(ctx, svcs[0], rollout.RedeployInput{TaskDefinition: tdNew})
	if err != nil {
		fmt.Println(err)
		return
	}
	results, err := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}})
	fmt.Println(results[0].Outcome, "after", results[0].Polls, "poll")
	fmt.Println(err)
	// Output:
	// rolled-back after 1 poll
	// service app: rolled-back: the circuit breaker stopped deployment ecs-svc/1111 and ECS is rolling back to deployment ecs-svc/2222 (task definition app:1): ECS deployment circuit breaker: tasks failed to start.; 1 stopped tasks: CannotPullContainerError: pull image manifest has been retried 5 time(s): not found
}
