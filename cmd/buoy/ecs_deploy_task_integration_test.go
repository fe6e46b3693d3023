//go:build integration

package main

import (
	"context"
	"fmt"
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
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// TestCLIECSDeployRunTask: --run-task --wait-for-success runs the new
// revision of -d as a one-off task (played by the scripted ECS server;
// the task definitions and the logs are moto's) and prints each
// container's exit code, the stop reason and the migration's last log
// lines; it exits 1 when an essential container exited 1, 0 when it
// exited 0, and without --wait-for-success once the task started.
func TestCLIECSDeployRunTask(t *testing.T) {
	t.Parallel()
	stopped := func(code int32) ecsfake.Task {
		return ecsfake.Task{LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "EssentialContainerExited",
			StoppedReason: "Essential container in task exited", Containers: []ecsfake.Container{{Name: "migrate", ExitCode: &code}}}
	}
	running := ecsfake.Task{LastStatus: "RUNNING", DesiredStatus: "RUNNING"}
	for _, tc := range []struct {
		name   string
		frames []ecsfake.Task
		wait   bool
		code   int
		stdout []string
	}{
		{"exits 1", []ecsfake.Task{running, stopped(1)}, true, exitcode.Failed, []string{
			"task " + ecsfake.TaskARN(1) + ": tasks-stopped (EssentialContainerExited: Essential container in task exited)",
			"container migrate (essential): exit code 1", "last 3 log lines of /ecs/", "| line 27", "| line 29"}},
		{"exits 0", []ecsfake.Task{running, stopped(0)}, true, exitcode.OK, []string{
			"task " + ecsfake.TaskARN(1) + ": succeeded", "container migrate (essential): exit code 0", "| line 29"}},
		{"not waited for", []ecsfake.Task{running}, false, exitcode.OK, []string{"task " + ecsfake.TaskARN(1) + ": started", "not waited for"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, family := migrationWorld(t)
			fake := ecsfake.New(t, ecsfake.Unsupported)
			fake.ScriptRunTask(ecsfake.OneOff{Frames: tc.frames})
			e.cfg.BaseEndpoint = aws.String(fake.WithTaskDefinitionsAt(t, awstest.Endpoint(t)))
			args := []string{"ecs-deploy", "-c", ecsfake.Cluster, "-d", family, "-i", "repo/migrate:v2", "--run-task", "--launch-type", "FARGATE",
				"--network-configuration", "awsvpcConfiguration={subnets=[subnet-1],securityGroups=[sg-1],assignPublicIp=DISABLED}"}
			if tc.wait {
				args = append(args, "--wait-for-success", "--log-lines", "3")
			}
			code, stdout, stderr := e.run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			reqs := fake.RunTaskRequests()
			if len(reqs) != 1 || !strings.HasSuffix(fmt.Sprint(reqs[0]["taskDefinition"]), family+":2") || reqs[0]["launchType"] != "FARGATE" ||
				!strings.Contains(fmt.Sprint(reqs[0]["networkConfiguration"]), "subnet-1") {
				t.Errorf("RunTask: got %v, want one of %s:2 on FARGATE in subnet-1", reqs, family)
			}
		})
	}
}

// migrationWorld registers in moto a migration task definition that logs
// with awslogs, with 30 lines in the stream of the scripted server's
// first one-off task, and returns a CLI on a clock whose waits end at
// once, and the family.
func migrationWorld(t *testing.T) (*cliEnv, string) {
	t.Helper()
	ctx := context.Background()
	e := &cliEnv{t: t, cfg: awstest.EveryResourceConfig(t),
		ecsDeploy: []ecsdeploy.Option{ecsdeploy.WithClock(clocktest.NewAuto(ecsfake.T0))}}
	family := awstest.Name(t, "migrate")
	group := "/ecs/" + family
	if _, err := ecs.NewFromConfig(e.cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("migrate"), Image: aws.String("repo/migrate:v1"), Memory: aws.Int32(512),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
				Options: map[string]string{"awslogs-group": group, "awslogs-stream-prefix": "ecs"}}}}}); err != nil {
		t.Fatal(err)
	}
	logs := cloudwatchlogs.NewFromConfig(e.cfg)
	stream := "ecs/migrate/oneoff0001"
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	var events []logtypes.InputLogEvent
	t0 := time.Now().Add(-time.Hour)
	for i := range 30 {
		events = append(events, logtypes.InputLogEvent{Timestamp: aws.Int64(t0.Add(time.Duration(i) * time.Second).UnixMilli()),
			Message: aws.String(fmt.Sprintf("line %02d", i))})
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		t.Fatal(err)
	}
	return e, family
}

// TestCLIECSDeploySkipDeploymentsCheck: the new deployment runs its 2
// tasks while the old one's still drain. With --skip-deployments-check
// that is a success; without, buoy waits for the drain and, as it never
// ends here, exits 4 at the timeout.
func TestCLIECSDeploySkipDeploymentsCheck(t *testing.T) {
	t.Parallel()
	for _, skip := range []bool{true, false} {
		t.Run(map[bool]string{true: "skipped", false: "waited for"}[skip], func(t *testing.T) {
			t.Parallel()
			e, f := newECSDeployEnv(t)
			td1 := f.Register("v1", "1")
			td2 := f.ARN(2)
			dep := func(id, status, td string, running int32, state string) ecsfake.Deployment {
				return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: td, DesiredCount: 2, RunningCount: running, RolloutState: state, CreatedAt: ecsfake.At(0)}
			}
			oldDraining := dep("ecs-svc/0000", "ACTIVE", td1, 2, "COMPLETED")
			fake := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
				Name: "api", TaskDefinition: td1, DesiredCount: 2,
				Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/0000", "PRIMARY", td1, 2, "COMPLETED")}, RunningCount: 2},
				Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/1111", "PRIMARY", td2, 0, "IN_PROGRESS"), oldDraining}, RunningCount: 2},
				Frames: []ecsfake.Frame{{Deployments: []ecsfake.Deployment{dep("ecs-svc/1111", "PRIMARY", td2, 2, "IN_PROGRESS"), oldDraining}, RunningCount: 4}},
			})
			e.cfg.BaseEndpoint = aws.String(fake.WithTaskDefinitionsAt(t, awstest.Endpoint(t)))
			args := []string{"ecs-deploy", "-c", ecsfake.Cluster, "-n", "api", "-i", f.Repo + ":v2", "-t", "60"}
			want := exitcode.Timeout
			if skip {
				args, want = append(args, "--skip-deployments-check"), exitcode.OK
			}
			code, stdout, stderr := e.run(args...)
			if code != want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
			}
			if skip && !strings.Contains(stdout, "older deployments were not waited for") {
				t.Errorf("stdout does not say the drain was skipped:\n%s", stdout)
			}
		})
	}
}
