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

const (
	tdOld = "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:1"
	tdNew = "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:2"
	ourID = "ecs-svc/1111"
	oldID = "ecs-svc/0000"
)

func dep(id, status, td string, running, failed int32, state string) ecsfake.Deployment {
	return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: td, DesiredCount: 2, RunningCount: running,
		FailedTasks: failed, RolloutState: state, CreatedAt: ecsfake.At(0)}
}

var (
	oldDone    = dep(oldID, "PRIMARY", tdOld, 2, 0, "COMPLETED")
	oldActive  = dep(oldID, "ACTIVE", tdOld, 2, 0, "COMPLETED")
	before     = ecsfake.Frame{Deployments: []ecsfake.Deployment{oldDone}, RunningCount: 2}
	updateResp = ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(ourID, "PRIMARY", tdNew, 0, 0, "IN_PROGRESS"), oldActive}, RunningCount: 2}
)

// progress is our deployment rolling out with n tasks running.
func progress(n int32) ecsfake.Frame {
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(ourID, "PRIMARY", tdNew, n, 0, "IN_PROGRESS"), oldActive}, RunningCount: 2 + n}
}

func completed() ecsfake.Frame {
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(ourID, "PRIMARY", tdNew, 2, 0, "COMPLETED")}, RunningCount: 2,
		Deployment: &ecsfake.ServiceDeployment{Status: "SUCCESSFUL"}}
}

func inProgressSD(f ecsfake.Frame) ecsfake.Frame {
	f.Deployment = &ecsfake.ServiceDeployment{Status: "IN_PROGRESS"}
	return f
}

// olderSD is f with a service deployment created an hour before ours,
// rolled back.
func olderSD(f ecsfake.Frame) ecsfake.Frame {
	f.Deployment = &ecsfake.ServiceDeployment{Status: "ROLLBACK_SUCCESSFUL", CreatedAt: ecsfake.At(-time.Hour)}
	return f
}

func rolledBack() ecsfake.Frame {
	ours := dep(ourID, "ACTIVE", tdNew, 0, 3, "FAILED")
	ours.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/2222", "PRIMARY", tdOld, 0, 0, "IN_PROGRESS"), ours}, RunningCount: 2,
		Tasks: []ecsfake.Task{stopped("t1", "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found")}}
}

func stopped(id, code, reason string, cs ...ecsfake.Container) ecsfake.Task {
	return ecsfake.Task{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/" + id, StartedBy: ourID,
		LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: code, StoppedReason: reason, Containers: cs}
}

func withFailed(f ecsfake.Frame, tasks ...ecsfake.Task) ecsfake.Frame {
	f.Deployments = append([]ecsfake.Deployment(nil), f.Deployments...)
	f.Deployments[0].FailedTasks = int32(len(tasks))
	f.Tasks = tasks
	return f
}

func code(n int32) *int32 { return &n }

type scenario struct {
	name      string
	api       ecsfake.DeploymentsAPI
	noCurrent bool // ECS does not say currentServiceDeployment
	frames    []ecsfake.Frame
	throttles int // DescribeServices calls answered ThrottlingException first
	timeout   time.Duration
	skipDrain bool // WaitInput.SkipDrain
	want      rollout.Outcome
	diagnosis []string // substrings of the diagnosis
	polls     int
	calls     map[string]int // calls the server must have answered, by operation
}

func scenarios() []scenario {
	placeEvent := ecsfake.Event{ID: "e2", CreatedAt: ecsfake.At(20 * time.Second),
		Message: "(service app) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster."}
	oldEvent := ecsfake.Event{ID: "e1", CreatedAt: ecsfake.At(-time.Hour), Message: "(service app) was unable to place a task: an old problem"}
	unplaceable := progress(0)
	unplaceable.Events = []ecsfake.Event{placeEvent, oldEvent}
	stale := progress(0)
	stale.Events = []ecsfake.Event{oldEvent}
	replaced := ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/9999", "PRIMARY", "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:3", 0, 0, "IN_PROGRESS"),
		dep(ourID, "ACTIVE", tdNew, 1, 0, "IN_PROGRESS"), oldActive}, RunningCount: 3}
	sdRollback := inProgressSD(progress(0))
	sdRollback.Deployment = &ecsfake.ServiceDeployment{Status: "ROLLBACK_IN_PROGRESS", StatusReason: "Service deployment rolled back because the circuit breaker threshold was exceeded."}
	return []scenario{
		{name: "completes after 3 polls", frames: []ecsfake.Frame{progress(0), progress(1), completed()},
			want: rollout.Succeeded, diagnosis: []string{"completed", "2/2", "app:2"}, polls: 3,
			calls: map[string]int{"ListServiceDeployments": 1, "DescribeServiceDeployments": 0, "ListTasks": 0}}, // unsupported: tried once
		{name: "service deployments API denied", api: ecsfake.Denied, frames: []ecsfake.Frame{progress(0), completed()},
			want: rollout.Succeeded, diagnosis: []string{"completed"}, polls: 2,
			calls: map[string]int{"ListServiceDeployments": 0, "DescribeServiceDeployments": 1}}, // the ARN came with UpdateService
		{name: "completes, service deployments API", api: ecsfake.Supported,
			frames: []ecsfake.Frame{inProgressSD(progress(0)), inProgressSD(progress(2)), completed()},
			want:   rollout.Succeeded, diagnosis: []string{"completed"}, polls: 3,
			calls: map[string]int{"ListServiceDeployments": 0, "DescribeServiceDeployments": 3}},
		{name: "completes, service deployment found by listing", api: ecsfake.Supported, noCurrent: true,
			frames: []ecsfake.Frame{inProgressSD(progress(0)), inProgressSD(progress(2)), completed()},
			want:   rollout.Succeeded, diagnosis: []string{"completed"}, polls: 3,
			calls: map[string]int{"ListServiceDeployments": 1, "DescribeServiceDeployments": 3}},
		// ECS named a service deployment older than ours (a rolled-back
		// one): its status must not end the wait.
		{name: "an older service deployment is not ours", api: ecsfake.Supported,
			frames: []ecsfake.Frame{olderSD(progress(0)), olderSD(completed())},
			want:   rollout.Succeeded, diagnosis: []string{"completed"}, polls: 2,
			calls: map[string]int{"ListServiceDeployments": 1, "DescribeServiceDeployments": 1}}, // listing finds none of ours
		{name: "circuit breaker fails and rolls back", frames: []ecsfake.Frame{progress(0), rolledBack()},
			want: rollout.RolledBack, diagnosis: []string{"circuit breaker", "ecs-svc/2222", "app:1", "tasks failed to start", "CannotPullContainerError"}, polls: 2},
		{name: "rollback seen through service deployments", api: ecsfake.Supported, frames: []ecsfake.Frame{inProgressSD(progress(0)), sdRollback},
			want: rollout.RolledBack, diagnosis: []string{"ROLLBACK_IN_PROGRESS", "app:1", "threshold was exceeded"}, polls: 2},
		{name: "image cannot be pulled", frames: []ecsfake.Frame{progress(0), withFailed(progress(0),
			stopped("t1", "TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123.dkr.ecr/app:env.stage: not found"))},
			want: rollout.TasksStopped, diagnosis: []string{"1 tasks of deployment ecs-svc/1111", "CannotPullContainerError", "env.stage: not found"}, polls: 2},
		{name: "essential container exits", frames: []ecsfake.Frame{progress(0), progress(1), withFailed(progress(1),
			stopped("t1", "EssentialContainerExited", "Essential container in task exited", ecsfake.Container{Name: "app", ExitCode: code(1)}, ecsfake.Container{Name: "log-router", ExitCode: code(0)}),
			stopped("t2", "EssentialContainerExited", "Essential container in task exited", ecsfake.Container{Name: "app", ExitCode: code(1)}, ecsfake.Container{Name: "log-router", ExitCode: code(0)}))},
			want: rollout.TasksStopped, diagnosis: []string{"Essential container in task exited, container app exited with code 1 (2 tasks)"}, polls: 3},
		{name: "unable to place", frames: []ecsfake.Frame{stale, unplaceable},
			want: rollout.Unplaceable, diagnosis: []string{"no container instance met all of its requirements"}, polls: 2},
		{name: "throttled, then completes", throttles: 2, frames: []ecsfake.Frame{completed()},
			want: rollout.Succeeded, diagnosis: []string{"completed"}, polls: 1,
			calls: map[string]int{"DescribeServices": 4}}, // Find, 2 throttled, 1 seen
		{name: "replaced by another deployment", frames: []ecsfake.Frame{progress(1), replaced},
			want: rollout.Replaced, diagnosis: []string{"replaced by deployment ecs-svc/9999", "app:3", "one pipeline"}, polls: 2},
		{name: "service deleted", frames: []ecsfake.Frame{progress(0), {Missing: true}},
			want: rollout.Vanished, diagnosis: []string{"no longer finds service app", "MISSING"}, polls: 2},
		// Our tasks all run while the old deployment's still drain: that
		// is success only when the wait skips the drain.
		{name: "skip drain: our tasks run, the old ones drain", skipDrain: true, frames: []ecsfake.Frame{progress(1), progress(2)},
			want: rollout.Succeeded, diagnosis: []string{"runs 2/2 tasks", "app:2", "not waited for"}, polls: 2},
		{name: "skip drain still fails fast", skipDrain: true, frames: []ecsfake.Frame{progress(0), rolledBack()},
			want: rollout.RolledBack, diagnosis: []string{"circuit breaker"}, polls: 2},
		{name: "without skip drain, draining is waited for", frames: []ecsfake.Frame{progress(1), progress(2)}, timeout: time.Minute,
			want: rollout.TimedOut, diagnosis: []string{"still not done", "2/2 running"}, polls: 7},
		// Fixed 10 s polls over 60 s: t=0,10,...,60 is 7 polls.
		{name: "never completes", frames: []ecsfake.Frame{progress(0), progress(1)}, timeout: time.Minute,
			want: rollout.TimedOut, diagnosis: []string{"still not done after 1m0s", "last seen: deployment ecs-svc/1111 PRIMARY IN_PROGRESS: 1/2 running"}, polls: 7},
	}
}

// redeployed finds service name with r and redeploys it as in, the way a
// deployment starts, and returns the handle to wait for.
func redeployed(t *testing.T, r *rollout.Rollout, name string, in rollout.RedeployInput) rollout.Handle {
	t.Helper()
	svcs, err := r.Find(context.Background(), rollout.FindInput{Cluster: ecsfake.Cluster, Names: []string{name}})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	h, err := r.Redeploy(context.Background(), svcs[0], in)
	if err != nil {
		t.Fatalf("Redeploy: %v", err)
	}
	return h
}

func TestWaitScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, sc.api, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: sc.frames, NoCurrentServiceDeployment: sc.noCurrent})
			clock := clocktest.NewAuto(ecsfake.T0)
			var rec event.Recorder
			r := rollout.New(srv.Client(), rollout.WithClock(clock), rollout.WithSink(&rec),
				rollout.WithPolling(rollout.Polling{Min: 10 * time.Second, Max: 10 * time.Second, Growth: 1, ThrottledMax: 30 * time.Second}))
			ctx := context.Background()
			h := redeployed(t, r, "app", rollout.RedeployInput{TaskDefinition: tdNew})
			srv.Throttle("DescribeServices", sc.throttles)
			timeout := sc.timeout
			if timeout == 0 {
				timeout = 10 * time.Minute
			}
			res, err := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: timeout, SkipDrain: sc.skipDrain})
			if len(res) != 1 {
				t.Fatalf("Wait returned %d results, want 1", len(res))
			}
			got := res[0]
			if got.Outcome != sc.want {
				t.Errorf("outcome: got %q (%s), want %q", got.Outcome, got.Diagnosis, sc.want)
			}
			for _, want := range sc.diagnosis {
				if !strings.Contains(got.Diagnosis, want) {
					t.Errorf("diagnosis: got %q, want it to contain %q", got.Diagnosis, want)
				}
			}
			if got.Polls != sc.polls {
				t.Errorf("polls: got %d, want %d", got.Polls, sc.polls)
			}
			if n := srv.Polls("app"); n != sc.polls {
				t.Errorf("server saw %d polls of app, want %d", n, sc.polls)
			}
			var rerr *rollout.ServiceError
			if gotErr := errors.As(err, &rerr); gotErr != (sc.want != rollout.Succeeded) {
				t.Errorf("Wait error: got %v, want a *ServiceError: %v", err, sc.want != rollout.Succeeded)
			}
			for op, want := range sc.calls {
				if n := srv.Calls(op); n != want {
					t.Errorf("%s calls: got %d, want %d", op, n, want)
				}
			}
			done := rec.OfKind(event.ServiceDone)
			if len(done) != 1 || done[0].Outcome != string(sc.want) {
				t.Errorf("ServiceDone events: got %+v, want one with outcome %q", done, sc.want)
			}
		})
	}
}
