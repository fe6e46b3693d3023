package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// adoptedBy redeploys app with a first Rollout (the run that dies) and
// has a second one (the re-run) find the service and adopt ourID.
func adoptedBy(t *testing.T, srv *ecsfake.Server, in rollout.AdoptInput) (*rollout.Rollout, rollout.Handle, error) {
	t.Helper()
	deployed(t, srv, "app", rollout.RedeployInput{TaskDefinition: tdNew})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)),
		rollout.WithPolling(rollout.Polling{Min: 10 * time.Second, Max: 10 * time.Second, Growth: 1, ThrottledMax: 30 * time.Second}))
	svcs, err := r.Find(context.Background(), rollout.FindInput{Cluster: ecsfake.Cluster, Names: []string{"app"}})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	h, err := r.Adopt(context.Background(), svcs[0], in)
	return r, h, err
}

// TestAdoptedDeploymentIsWaitedForAsOurs: a deployment an earlier run
// started and ECS still rolls out is adopted without an UpdateService,
// and Wait follows it as its own, with the fail-fast rules: it completes,
// its tasks stop (found by startedBy, the adopted id), the circuit
// breaker rolls it back.
func TestAdoptedDeploymentIsWaitedForAsOurs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		api       ecsfake.DeploymentsAPI
		frames    []ecsfake.Frame // from the Find on
		want      rollout.Outcome
		diagnosis []string
	}{
		{"completes", ecsfake.Unsupported, []ecsfake.Frame{progress(1), progress(1), completed()},
			rollout.Succeeded, []string{"deployment ecs-svc/1111 completed", "app:2"}},
		{"completes, service deployments API", ecsfake.Supported, []ecsfake.Frame{inProgressSD(progress(1)), inProgressSD(progress(1)), completed()},
			rollout.Succeeded, []string{"deployment ecs-svc/1111 completed"}},
		{"already completed", ecsfake.Unsupported, []ecsfake.Frame{completed()},
			rollout.Succeeded, []string{"deployment ecs-svc/1111 completed"}},
		{"its tasks stop", ecsfake.Unsupported, []ecsfake.Frame{progress(0), progress(0), withFailed(progress(0),
			stopped("t1", "TaskFailedToStart", "CannotPullContainerError: not found"))},
			rollout.TasksStopped, []string{"1 tasks of deployment ecs-svc/1111", "CannotPullContainerError"}},
		{"the circuit breaker rolls it back", ecsfake.Unsupported, []ecsfake.Frame{progress(0), progress(0), rolledBack()},
			rollout.RolledBack, []string{"circuit breaker stopped deployment ecs-svc/1111", "CannotPullContainerError"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, tc.api, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: tc.frames})
			r, h, err := adoptedBy(t, srv, rollout.AdoptInput{DeploymentID: ourID, TaskDefinition: tdNew, PreviousTaskDefinition: tdOld})
			if err != nil {
				t.Fatalf("Adopt: %v", err)
			}
			if h.DeploymentID != ourID || h.TaskDefinition != tdNew || h.PreviousTaskDefinition != tdOld || !h.StartedAt.Equal(ecsfake.T0) {
				t.Errorf("handle: got %+v, want deployment %s of %s, after %s, started at T0", h, ourID, tdNew, tdOld)
			}
			res, _ := r.Wait(context.Background(), rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: 10 * time.Minute})
			if len(res) != 1 || res[0].Outcome != tc.want {
				t.Fatalf("Wait: got %+v, want %s", res, tc.want)
			}
			for _, want := range tc.diagnosis {
				if !strings.Contains(res[0].Diagnosis, want) {
					t.Errorf("diagnosis: got %q, want it to contain %q", res[0].Diagnosis, want)
				}
			}
			if n := len(srv.Updates("app")); n != 1 {
				t.Errorf("UpdateService calls: got %d, want 1 (the earlier run's)", n)
			}
		})
	}
}

// TestAdoptRefusesWhatECSNoLongerRollsOut: a deployment that failed, was
// rolled back, replaced or is gone, or runs another task definition, is
// not adopted; the error says why, and whether ECS failed it.
func TestAdoptRefusesWhatECSNoLongerRollsOut(t *testing.T) {
	t.Parallel()
	failedPrimary := progress(0)
	failedPrimary.Deployments = []ecsfake.Deployment{dep(ourID, "PRIMARY", tdNew, 0, 3, "FAILED"), oldActive}
	failedPrimary.Deployments[0].RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	replaced := ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/9999", "PRIMARY", tdNew, 0, 0, "IN_PROGRESS"),
		dep(ourID, "ACTIVE", tdNew, 1, 0, "IN_PROGRESS")}, RunningCount: 3}
	gone := ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/2222", "PRIMARY", tdOld, 2, 0, "COMPLETED")}, RunningCount: 2}
	for _, tc := range []struct {
		name   string
		frame  ecsfake.Frame
		td     string
		failed bool
		reason string
	}{
		{"rolled back by the circuit breaker", rolledBack(), tdNew, true, "circuit breaker: tasks failed to start"},
		{"failed, no rollback", failedPrimary, tdNew, true, "marked it as failed"},
		{"replaced", replaced, tdNew, false, "deployment ecs-svc/9999 replaced it"},
		{"gone", gone, tdNew, false, "it is gone: the service runs deployment ecs-svc/2222"},
		{"another task definition", progress(1), "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7", false, "runs task definition app:2, not app:7"},
		{"service deleted", ecsfake.Frame{Missing: true}, tdNew, false, "no longer finds the service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: []ecsfake.Frame{progress(1), tc.frame}})
			_, _, err := adoptedBy(t, srv, rollout.AdoptInput{DeploymentID: ourID, TaskDefinition: tc.td})
			var na *rollout.NotAdoptableError
			if !errors.As(err, &na) {
				t.Fatalf("Adopt: got %v, want a *NotAdoptableError", err)
			}
			if na.Failed != tc.failed || !strings.Contains(na.Error(), tc.reason) || !strings.Contains(na.Error(), ourID) {
				t.Errorf("Adopt: got %q (failed %v), want it to name %s, say %q, failed %v", na, na.Failed, ourID, tc.reason, tc.failed)
			}
		})
	}
}
