package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// rollingBackTo is a frame of ECS rolling our deployment back to td:
// its service deployment in status, the rollback's deployment running n
// tasks.
func rollingBackTo(td, status string, n int32, state string) ecsfake.Frame {
	f := ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(backID, "PRIMARY", td, n, 0, state)}, RunningCount: 2,
		Deployment: &ecsfake.ServiceDeployment{Status: status, LifecycleStage: "PRODUCTION_TRAFFIC_SHIFT",
			Rollback: &ecsfake.Rollback{Reason: "Stopped by a user with stopType ROLLBACK.", StartedAt: ecsfake.At(time.Minute)}}}
	if state != "COMPLETED" {
		f.Deployments = append(f.Deployments, dep(ourID, "ACTIVE", tdNew, 1, 0, "IN_PROGRESS"))
	}
	return f
}

// TestRollBackWithECS: buoy asks ECS to roll back a deployment still in
// progress (StopServiceDeployment, stopType ROLLBACK) and waits for
// ROLLBACK_SUCCESSFUL; it asks nothing when ECS already rolls it back;
// it says ErrNoECSRollback, asking nothing, where ECS cannot (the
// deployment completed, the API is denied or missing, ECS refuses).
func TestRollBackWithECS(t *testing.T) {
	t.Parallel()
	stopped := []ecsfake.Frame{rollingBackTo(tdOld, "ROLLBACK_IN_PROGRESS", 1, "IN_PROGRESS"), rollingBackTo(tdOld, "ROLLBACK_SUCCESSFUL", 2, "COMPLETED")}
	for _, tc := range []struct {
		name    string
		api     ecsfake.DeploymentsAPI
		forward []ecsfake.Frame // what the waits see: the forward one the first
		// frame, the rollback's (without a stop) the others
		onStop   []ecsfake.Frame
		throttle int // StopServiceDeployment calls answered ThrottlingException
		// wantStops are the StopServiceDeployment calls (throttled ones
		// too); wantNo says
		// ErrNoECSRollback; else the rollback's wait ends want.
		wantStops int
		wantNo    bool
		want      rollout.Outcome
		diagnosis string
		// stage is the last stage event's message: what the rollback's
		// wait said of ECS's lifecycle stage.
		stage string
	}{
		{name: "in progress: ECS rolls it back", api: ecsfake.Supported, forward: []ecsfake.Frame{inProgressSD(progress(1))}, onStop: stopped,
			wantStops: 1, want: rollout.Succeeded, diagnosis: "ECS rolled deployment ecs-svc/1111 back (ROLLBACK_SUCCESSFUL): the service runs task definition app:1 again",
			stage: "ROLLING deployment ecs-svc/1111, ROLLBACK_IN_PROGRESS: stage PRODUCTION_TRAFFIC_SHIFT"},
		{name: "ECS rolls it back already", api: ecsfake.Supported,
			forward: []ecsfake.Frame{rollingBackTo(tdOld, "ROLLBACK_IN_PROGRESS", 1, "IN_PROGRESS"), rollingBackTo(tdOld, "ROLLBACK_SUCCESSFUL", 2, "COMPLETED")}, want: rollout.Succeeded, diagnosis: "ROLLBACK_SUCCESSFUL",
			stage: "ROLLING deployment ecs-svc/1111, ROLLBACK_SUCCESSFUL: stage PRODUCTION_TRAFFIC_SHIFT"},
		{name: "ECS's rollback fails", api: ecsfake.Supported, forward: []ecsfake.Frame{inProgressSD(progress(1))},
			onStop: []ecsfake.Frame{edit(rollingBackTo(tdOld, "ROLLBACK_FAILED", 0, "FAILED"), func(d *ecsfake.ServiceDeployment) {
				d.StatusReason = "Tasks of the source revision failed to start."
			})},
			wantStops: 1, want: rollout.Failed, diagnosis: "ECS could not roll deployment ecs-svc/1111 back (ROLLBACK_FAILED): Tasks of the source revision failed to start.",
			stage: "ROLLING deployment ecs-svc/1111, ROLLBACK_FAILED: stage PRODUCTION_TRAFFIC_SHIFT"},
		{name: "completed: nothing to stop", api: ecsfake.Supported, forward: []ecsfake.Frame{completed()}, wantNo: true},
		{name: "service deployments API denied", api: ecsfake.Denied, forward: []ecsfake.Frame{progress(1)}, wantNo: true},
		{name: "service deployments API missing", api: ecsfake.Unsupported, forward: []ecsfake.Frame{progress(1)}, wantNo: true},
		{name: "ECS refuses the stop", api: ecsfake.Supported, forward: []ecsfake.Frame{inProgressSD(progress(1))}, onStop: stopped, throttle: 1,
			wantStops: 1, wantNo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, tc.api, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: tc.forward, OnStop: tc.onStop})
			var rec event.Recorder
			r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)), rollout.WithSink(&rec))
			ctx := context.Background()
			h := redeployed(t, r, "app", rollout.RedeployInput{TaskDefinition: tdNew})
			// The forward wait sees the deployment once, and ends (the
			// timeout is shorter than a poll interval) but where it
			// completed.
			res, _ := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: time.Second})
			srv.Throttle("StopServiceDeployment", tc.throttle)
			back, err := r.RollBackWithECS(ctx, res[0].Handle)
			if got := srv.Calls("StopServiceDeployment"); got != tc.wantStops {
				t.Errorf("StopServiceDeployment calls: got %d, want %d", got, tc.wantStops)
			}
			for _, s := range srv.Stops("app") {
				if s["stopType"] != "ROLLBACK" || s["serviceDeploymentArn"] != ecsfake.DeploymentARN("app") {
					t.Errorf("StopServiceDeployment request %v, want stopType ROLLBACK of %s", s, ecsfake.DeploymentARN("app"))
				}
			}
			if tc.wantNo {
				if !errors.Is(err, rollout.ErrNoECSRollback) {
					t.Errorf("RollBackWithECS: got %v, want ErrNoECSRollback", err)
				}
				return
			}
			if err != nil || !back.RollingBack {
				t.Fatalf("RollBackWithECS: got %+v, %v; want a handle rolling back", back, err)
			}
			got, err := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{back}, Timeout: time.Hour})
			if len(got) != 1 || got[0].Outcome != tc.want || !strings.Contains(got[0].Diagnosis, tc.diagnosis) {
				t.Errorf("the rollback's wait: got %+v, want %s saying %q", got, tc.want, tc.diagnosis)
			}
			if (err == nil) != (tc.want == rollout.Succeeded) {
				t.Errorf("the rollback's wait error: %v, want one only if it failed", err)
			}
			if n := len(srv.Updates("app")); n != 1 {
				t.Errorf("UpdateService calls: got %d, want 1 (ECS rolls back, not buoy)", n)
			}
			stages := rec.OfKind(event.Stage)
			if len(stages) == 0 || stages[len(stages)-1].Message != tc.stage {
				t.Errorf("stage events: got %+v, want the last to say %q", stages, tc.stage)
			}
		})
	}
}

// TestRollBackWithECSWithoutTheAPIFollowsTheService: when the service
// deployments API goes away during the rollback, the wait ends once the
// service runs a completed deployment of the previous task definition.
func TestRollBackWithECSWithoutTheAPIFollowsTheService(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
		Before: before, Update: updateResp, Frames: []ecsfake.Frame{inProgressSD(progress(1))},
		OnStop: []ecsfake.Frame{rollingBackTo(tdOld, "ROLLBACK_IN_PROGRESS", 1, "IN_PROGRESS"), rollingBackTo(tdOld, "ROLLBACK_IN_PROGRESS", 2, "COMPLETED")}})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	h := redeployed(t, r, "app", rollout.RedeployInput{TaskDefinition: tdNew})
	ctx := context.Background()
	res, _ := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: time.Second})
	back, err := r.RollBackWithECS(ctx, res[0].Handle)
	if err != nil {
		t.Fatal(err)
	}
	off := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)), rollout.WithoutServiceDeploymentsAPI())
	got, err := off.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{back}, Timeout: time.Hour})
	if err != nil || got[0].Outcome != rollout.Succeeded || got[0].Polls != 2 || !strings.Contains(got[0].Diagnosis, "deployment ecs-svc/3333 runs task definition app:1 again") {
		t.Errorf("got %+v, %v; want succeeded at the second poll, once the previous task definition's deployment completed", got, err)
	}
}
