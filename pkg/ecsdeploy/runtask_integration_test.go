//go:build integration

package ecsdeploy_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

func exitCode(n int32) *int32 { return &n }

func oneOffTask(status string, containers ...ecsfake.Container) ecsfake.Task {
	desired := "RUNNING"
	if status == "STOPPED" {
		desired = "STOPPED"
	}
	return ecsfake.Task{LastStatus: status, DesiredStatus: desired, Containers: containers}
}

func stoppedOneOff(code, reason string, containers ...ecsfake.Container) ecsfake.Task {
	t := oneOffTask("STOPPED", containers...)
	t.StopCode, t.StoppedReason = code, reason
	return t
}

// TestRunTask registers a new revision of a task definition kept in moto
// (a migration logging with awslogs, and a log router that is not
// essential), runs it as a one-off task played by the scripted ECS
// server, and reads the migration's last log lines from moto's
// CloudWatch Logs. The outcome is the essential container's exit code,
// with the stop reason and the log tail; without waiting, the task is
// only started; a task ECS cannot place, or one still running at the
// timeout, is a failure that says so. Old revisions are cleaned up
// (MaxDefinitions) after a success only.
func TestRunTask(t *testing.T) {
	t.Parallel()
	stopped := func(app int32) ecsfake.Task {
		return stoppedOneOff("EssentialContainerExited", "Essential container in task exited",
			ecsfake.Container{Name: "migrate", ExitCode: exitCode(app)}, ecsfake.Container{Name: "log-router", ExitCode: exitCode(1)})
	}
	tests := []struct {
		name     string
		oneOff   ecsfake.OneOff
		wait     bool
		lines    int
		wantErr  error
		outcome  history.Status
		task     string   // the task's outcome
		exit     *int32   // the migration's exit code
		logs     []string // its last lines
		describe int      // DescribeTasks calls; -1: several, as the polling's jitter decides
	}{
		{name: "exits 0", wait: true, oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{oneOffTask("PENDING"), oneOffTask("RUNNING"), stopped(0)}},
			outcome: history.StatusSucceeded, task: "succeeded", exit: exitCode(0), logs: lines(10, 30), describe: 3},
		{name: "exits 3", wait: true, lines: 3, oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{oneOffTask("RUNNING"), stopped(3)}},
			wantErr: deploy.ErrDeploymentFailed, outcome: history.StatusFailed, task: "tasks-stopped", exit: exitCode(3), logs: lines(27, 30), describe: 2},
		{name: "not waited for", oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{oneOffTask("PENDING")}},
			outcome: history.StatusSucceeded, task: "started", describe: 1}, // the cleanup's, of the running tasks
		{name: "not placed", wait: true, oneOff: ecsfake.OneOff{Failures: []string{"RESOURCE:MEMORY"}},
			wantErr: deploy.ErrDeploymentFailed, outcome: history.StatusFailed},
		{name: "still running at the timeout", wait: true, oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{oneOffTask("RUNNING")}},
			wantErr: deploy.ErrTimeout, outcome: history.StatusFailed, task: "timed-out", describe: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			base := registerMigration(t, w)
			srv := ecsfake.New(t, ecsfake.Unsupported)
			srv.ScriptRunTask(tc.oneOff)
			cfg := w.cfg.Copy()
			cfg.BaseEndpoint = aws.String(srv.WithTaskDefinitionsAt(t, awstest.Endpoint(t)))
			res, err := ecsdeploy.Deploy(w.ctx, cfg, nil, ecsdeploy.Input{Cluster: ecsfake.Cluster, TaskDefinition: base, Image: w.Repo + ":v2",
				Timeout: time.Minute, MaxDefinitions: 1, RunTask: &ecsdeploy.RunTaskInput{Wait: tc.wait, LogLines: tc.lines, LaunchType: "FARGATE", PlatformVersion: "1.4.0",
					Network: &ecsdeploy.NetworkConfiguration{Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"}}},
				ecsdeploy.WithClock(clocktest.NewAuto(ecsfake.T0)))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("Deploy: got %v, want %v", err, tc.wantErr)
			}
			if res.Outcome != tc.outcome || res.TaskDefinition != w.ARN(3) {
				t.Errorf("result: outcome %s, task definition %s; want %s, %s", res.Outcome, res.TaskDefinition, tc.outcome, w.ARN(3))
			}
			// --max-definitions after a success only: revision 1, old and
			// unused, goes; 2 (the base) and 3 (run) stay.
			wantActive, wantGone := []int{1, 2, 3}, []string(nil)
			if tc.outcome == history.StatusSucceeded {
				wantActive, wantGone = []int{2, 3}, []string{w.ARN(1)}
			}
			if got := w.Active(); !slices.Equal(got, wantActive) || !slices.Equal(res.Deregistered, wantGone) {
				t.Errorf("ACTIVE revisions %v, deregistered %v; want %v, %v", got, res.Deregistered, wantActive, wantGone)
			}
			reqs := srv.RunTaskRequests()
			if len(reqs) != 1 || reqs[0]["taskDefinition"] != w.ARN(3) || reqs[0]["launchType"] != "FARGATE" || reqs[0]["platformVersion"] != "1.4.0" || reqs[0]["startedBy"] != "buoy ecs-deploy" ||
				!strings.Contains(fmt.Sprint(reqs[0]["networkConfiguration"]), "subnet-1") {
				t.Errorf("RunTask requests: got %v; want one of revision 3 on FARGATE 1.4.0 in subnet-1, started by buoy ecs-deploy", reqs)
			}
			if n := srv.Calls("DescribeTasks"); n != tc.describe && (tc.describe != -1 || n < 2) {
				t.Errorf("DescribeTasks calls: got %d, want %d", n, tc.describe)
			}
			if tc.task == "" {
				if res.Task != nil || !strings.Contains(res.Reason, "RESOURCE:MEMORY") {
					t.Errorf("a task not placed: got task %+v, reason %q; want none, and the reason", res.Task, res.Reason)
				}
				return
			}
			if res.Task == nil || res.Task.Outcome != tc.task || res.Task.ARN != ecsfake.TaskARN(1) {
				t.Fatalf("task: got %+v, want %s %s", res.Task, ecsfake.TaskARN(1), tc.task)
			}
			if tc.exit == nil {
				return
			}
			if res.Task.StopCode != "EssentialContainerExited" || res.Task.StoppedReason != "Essential container in task exited" {
				t.Errorf("stop: got %s %q, want EssentialContainerExited and its reason", res.Task.StopCode, res.Task.StoppedReason)
			}
			cs := res.Task.Containers
			if len(cs) != 2 || cs[0].Name != "migrate" || !cs[0].Essential || *cs[0].ExitCode != *tc.exit || cs[1].Essential || *cs[1].ExitCode != 1 {
				t.Fatalf("containers: got %+v; want migrate (essential) exiting %d, the log router (not essential) 1", cs, *tc.exit)
			}
			if cs[0].LogGroup != "/ecs/"+w.Name || cs[0].LogStream != "ecs/migrate/oneoff0001" || !slices.Equal(cs[0].Logs, tc.logs) {
				t.Errorf("migrate's logs: got %s %s %q, want /ecs/%s ecs/migrate/oneoff0001 %q", cs[0].LogGroup, cs[0].LogStream, cs[0].Logs, w.Name, tc.logs)
			}
			if cs[1].LogGroup != "" || cs[1].Logs != nil {
				t.Errorf("the log router does not log with awslogs: got %+v", cs[1])
			}
		})
	}
}

// lines returns "line from" to "line to-1".
func lines(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("line %02d", i))
	}
	return out
}

// registerMigration registers, in moto, two revisions of the task
// definition of a migration that logs with awslogs to /ecs/<family> (30
// lines written in the stream of the first one-off task the scripted
// server starts), with a log router that is not essential, and returns
// the second's ARN: the first is old and unused.
func registerMigration(t *testing.T, w *world) string {
	t.Helper()
	group := "/ecs/" + w.Name
	var out *ecs.RegisterTaskDefinitionOutput
	var err error
	for range 2 {
		out, err = w.ecs.RegisterTaskDefinition(w.ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(w.Name),
			ContainerDefinitions: []ecstypes.ContainerDefinition{
				{Name: aws.String("migrate"), Image: aws.String(w.Repo + ":v1"), Memory: aws.Int32(512), Essential: aws.Bool(true),
					LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
						Options: map[string]string{"awslogs-group": group, "awslogs-stream-prefix": "ecs", "awslogs-region": awstest.Region}}},
				{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), Memory: aws.Int32(64), Essential: aws.Bool(false)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	logs := cloudwatchlogs.NewFromConfig(w.cfg)
	stream := "ecs/migrate/oneoff0001"
	if _, err := logs.CreateLogGroup(w.ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(w.ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Hour).UTC()
	var events []logtypes.InputLogEvent
	for i, l := range lines(0, 30) {
		events = append(events, logtypes.InputLogEvent{Timestamp: aws.Int64(t0.Add(time.Duration(i) * time.Second).UnixMilli()), Message: aws.String(l)})
	}
	if _, err := logs.PutLogEvents(w.ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}
