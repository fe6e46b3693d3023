package rollout_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

var migrate = ecsfake.TaskDefinitionARN("migrate", 3)

// taskServer plays a cluster with the task definition migrate:3: an
// essential container app logging to CloudWatch Logs and a log router
// that is not essential.
func taskServer(t *testing.T, oneOffs ...ecsfake.OneOff) *ecsfake.Server {
	t.Helper()
	srv := ecsfake.New(t, ecsfake.Supported)
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: migrate, Containers: []ecsfake.ContainerDefinition{
		{Name: "app", Image: "repo/app:v2", LogGroup: "/ecs/migrate", LogStreamPrefix: "ecs", LogRegion: "eu-central-1"},
		{Name: "log-router", Image: "fluent-bit:stable", NotEssential: true},
	}})
	srv.ScriptRunTask(oneOffs...)
	return srv
}

func exit(code int32) *int32 { return &code }

func task(status string, containers ...ecsfake.Container) ecsfake.Task {
	desired := "RUNNING"
	if status == "STOPPED" {
		desired = "STOPPED"
	}
	return ecsfake.Task{LastStatus: status, DesiredStatus: desired, Containers: containers}
}

func stoppedTask(code, reason string, containers ...ecsfake.Container) ecsfake.Task {
	t := task("STOPPED", containers...)
	t.StopCode, t.StoppedReason = code, reason
	return t
}

// TestRunTaskOutcomes: the task's outcome is its essential containers'
// exit codes (a sidecar's is not), a task that never starts or is
// refused is a failure that says why, and a task still running at the
// timeout is left to run and said so.
func TestRunTaskOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		oneOff   ecsfake.OneOff
		timeout  time.Duration
		want     rollout.Outcome
		polls    int
		diagnose []string
	}{
		{
			name: "essential container exits 0, the log router 1",
			oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{task("PROVISIONING"), task("RUNNING"),
				stoppedTask("EssentialContainerExited", "Essential container in task exited",
					ecsfake.Container{Name: "app", ExitCode: exit(0)}, ecsfake.Container{Name: "log-router", ExitCode: exit(1)})}},
			want: rollout.Succeeded, polls: 3, diagnose: []string{"essential containers exited 0: app"},
		},
		{
			name: "essential container exits 3",
			oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{task("RUNNING"),
				stoppedTask("EssentialContainerExited", "Essential container in task exited",
					ecsfake.Container{Name: "app", ExitCode: exit(3)}, ecsfake.Container{Name: "log-router", ExitCode: exit(0)})}},
			want: rollout.TasksStopped, polls: 2,
			diagnose: []string{"EssentialContainerExited: Essential container in task exited", "essential container app exited with code 3"},
		},
		{
			name: "the task fails to start",
			oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{task("PENDING"),
				stoppedTask("TaskFailedToStart", "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
					ecsfake.Container{Name: "app", Reason: "CannotPullContainerError"}, ecsfake.Container{Name: "log-router"})}},
			want: rollout.TasksStopped, polls: 2,
			diagnose: []string{"TaskFailedToStart: CannotPullContainerError", "essential container app never exited: CannotPullContainerError"},
		},
		{
			name:    "still running at the timeout",
			oneOff:  ecsfake.OneOff{Frames: []ecsfake.Task{task("RUNNING", ecsfake.Container{Name: "app"})}},
			timeout: time.Minute, want: rollout.TimedOut,
			diagnose: []string{"still RUNNING after 1m0s", "left running", "aws ecs stop-task --cluster test-cluster --task oneoff0001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := taskServer(t, tt.oneOff)
			r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
			ctx := context.Background()
			started, err := r.StartTask(ctx, rollout.TaskInput{Cluster: ecsfake.Cluster, TaskDefinition: "migrate:3"})
			if err != nil {
				t.Fatalf("StartTask: %v", err)
			}
			if started.ARN != ecsfake.TaskARN(1) || started.TaskDefinition != migrate {
				t.Errorf("started: got %+v, want task %s of %s", started, ecsfake.TaskARN(1), migrate)
			}
			res, err := r.WaitTask(ctx, started, tt.timeout)
			if res.Outcome != tt.want {
				t.Errorf("outcome: got %s (%s), want %s", res.Outcome, res.Diagnosis, tt.want)
			}
			var te *rollout.TaskError
			if (err == nil) != (tt.want == rollout.Succeeded) || (err != nil && !errors.As(err, &te)) {
				t.Errorf("error: got %v, want nil only on success, else a *rollout.TaskError", err)
			}
			for _, w := range tt.diagnose {
				if !strings.Contains(res.Diagnosis, w) {
					t.Errorf("diagnosis %q does not say %q", res.Diagnosis, w)
				}
			}
			if tt.polls > 0 && res.Polls != tt.polls {
				t.Errorf("polls: got %d, want %d (one DescribeTasks per frame)", res.Polls, tt.polls)
			}
		})
	}
}

// TestRunTaskContainersAndLogs: the result names each container, whether
// it is essential (from the task definition), its exit code, and where
// an awslogs container's output is: prefix/container/task id in the
// group and region the definition gives.
func TestRunTaskContainersAndLogs(t *testing.T) {
	t.Parallel()
	srv := taskServer(t, ecsfake.OneOff{Frames: []ecsfake.Task{stoppedTask("EssentialContainerExited", "",
		ecsfake.Container{Name: "app", ExitCode: exit(0)}, ecsfake.Container{Name: "log-router", ExitCode: exit(0)})}})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	ctx := context.Background()
	started, err := r.StartTask(ctx, rollout.TaskInput{Cluster: ecsfake.Cluster, TaskDefinition: migrate})
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.WaitTask(ctx, started, 0)
	if err != nil {
		t.Fatalf("WaitTask: %v", err)
	}
	want := []rollout.ContainerResult{
		{Name: "app", Essential: true, ExitCode: exit(0), Logs: &rollout.LogStream{Group: "/ecs/migrate", Stream: "ecs/app/oneoff0001", Region: "eu-central-1"}},
		{Name: "log-router", Essential: false, ExitCode: exit(0)},
	}
	if !reflect.DeepEqual(res.Containers, want) {
		t.Errorf("containers:\n got %+v\nwant %+v", res.Containers, want)
	}
}

// TestRunTaskRequest: what RunTask is asked: one task of the definition,
// in the cluster, with the launch type, platform version, awsvpc network,
// overrides and startedBy given, and a client token so that a retried
// call starts no second task.
func TestRunTaskRequest(t *testing.T) {
	t.Parallel()
	srv := taskServer(t, ecsfake.OneOff{})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	_, err := r.StartTask(context.Background(), rollout.TaskInput{
		Cluster: ecsfake.Cluster, TaskDefinition: migrate, LaunchType: "FARGATE", PlatformVersion: "1.4.0",
		Network:   &rollout.NetworkConfiguration{Subnets: []string{"subnet-1", "subnet-2"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"},
		Overrides: []rollout.ContainerOverride{{Name: "app", Command: []string{"rake", "db:migrate"}, Environment: map[string]string{"B": "2", "A": "1"}}},
		StartedBy: "buoy-ecs-deploy",
	})
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	reqs := srv.RunTaskRequests()
	if len(reqs) != 1 {
		t.Fatalf("RunTask requests: got %d, want 1", len(reqs))
	}
	got := reqs[0]
	token, _ := got["clientToken"].(string)
	if len(token) < 32 {
		t.Errorf("clientToken: got %q, want a random token", token)
	}
	delete(got, "clientToken")
	want := map[string]any{
		"cluster": ecsfake.Cluster, "taskDefinition": migrate, "count": float64(1), "launchType": "FARGATE",
		"platformVersion": "1.4.0", "startedBy": "buoy-ecs-deploy",
		"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{
			"subnets": []any{"subnet-1", "subnet-2"}, "securityGroups": []any{"sg-1"}, "assignPublicIp": "DISABLED"}},
		"overrides": map[string]any{"containerOverrides": []any{map[string]any{"name": "app", "command": []any{"rake", "db:migrate"},
			"environment": []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "B", "value": "2"}}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RunTask request:\n got %v\nwant %v", got, want)
	}
}

// TestRunTaskNotStarted: ECS's reasons for placing no task are the error.
func TestRunTaskNotStarted(t *testing.T) {
	t.Parallel()
	srv := taskServer(t, ecsfake.OneOff{Failures: []string{"RESOURCE:MEMORY"}})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	_, err := r.StartTask(context.Background(), rollout.TaskInput{Cluster: ecsfake.Cluster, TaskDefinition: migrate})
	var nse *rollout.TaskNotStartedError
	if !errors.As(err, &nse) || !strings.Contains(err.Error(), "RESOURCE:MEMORY") {
		t.Errorf("error: got %v, want a *rollout.TaskNotStartedError saying RESOURCE:MEMORY", err)
	}
}

// TestWaitTaskRidesOutThrottling: a throttled DescribeTasks is tried
// again at the next poll; the wait goes on to the task's end.
func TestWaitTaskRidesOutThrottling(t *testing.T) {
	t.Parallel()
	srv := taskServer(t, ecsfake.OneOff{Frames: []ecsfake.Task{task("RUNNING"),
		stoppedTask("EssentialContainerExited", "", ecsfake.Container{Name: "app", ExitCode: exit(0)})}})
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	ctx := context.Background()
	started, err := r.StartTask(ctx, rollout.TaskInput{Cluster: ecsfake.Cluster, TaskDefinition: migrate})
	if err != nil {
		t.Fatal(err)
	}
	srv.Throttle("DescribeTasks", 2)
	res, err := r.WaitTask(ctx, started, 0)
	if err != nil || res.Outcome != rollout.Succeeded {
		t.Errorf("WaitTask: got %s, %v; want succeeded", res.Outcome, err)
	}
	if n := srv.Calls("DescribeTasks"); n != 4 {
		t.Errorf("DescribeTasks calls: got %d, want 4 (2 throttled, 2 frames)", n)
	}
}

// TestWaitTaskVanished: a task ECS no longer finds ends the wait.
func TestWaitTaskVanished(t *testing.T) {
	t.Parallel()
	srv := taskServer(t)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	res, err := r.WaitTask(context.Background(), rollout.Task{ARN: ecsfake.TaskARN(9), Cluster: ecsfake.Cluster, TaskDefinition: migrate}, 0)
	if res.Outcome != rollout.Vanished || err == nil || !strings.Contains(res.Diagnosis, "no longer knows task oneoff0009") {
		t.Errorf("WaitTask: got %s (%s), %v; want vanished", res.Outcome, res.Diagnosis, err)
	}
}
