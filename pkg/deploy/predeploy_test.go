package deploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// These tests run an environment's pre_deploy tasks on the scripted ECS
// server, through the default Cluster, with the tags in the fake
// registry: the task runs from the release's images before anything
// moves, and when it fails nothing moves.

var tdMigrate = ecsfake.TaskDefinitionARN("migrate", 3)

// fakeLogs is CloudWatch Logs holding some streams' lines.
type fakeLogs struct {
	mu      sync.Mutex
	streams map[string][]string // "group|stream" -> lines
	asked   []string
	// err, when set, is every call's answer (e.g. access denied).
	err error
}

func (l *fakeLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := aws.ToString(in.LogGroupName) + "|" + aws.ToString(in.LogStreamName)
	l.asked = append(l.asked, key)
	if l.err != nil {
		return nil, l.err
	}
	lines, ok := l.streams[key]
	if !ok {
		return nil, &cwltypes.ResourceNotFoundException{Message: aws.String("The specified log stream does not exist.")}
	}
	out := &cloudwatchlogs.GetLogEventsOutput{}
	for i, line := range lines[max(0, len(lines)-int(aws.ToInt32(in.Limit))):] {
		out.Events = append(out.Events, cwltypes.OutputLogEvent{Timestamp: aws.Int64(int64(i) * 1000), Message: aws.String(line + "\n")})
	}
	return out, nil
}

// taskFixture is the usual fixture whose stage cluster is the scripted
// ECS server: api (launched on FARGATE in two subnets) and worker
// complete their rollouts, the family migrate runs the api image at
// env.stage in its container app (logging to /ecs/migrate) beside a log
// router, and stage runs the pre_deploy task migrate: app's command
// replaced, network from api, within a minute.
func taskFixture(t *testing.T, oneOffs ...ecsfake.OneOff) (*fixture, *ecsfake.Server, *fakeLogs) {
	t.Helper()
	return taskFixtureWith(t, scriptedService("api", tdAPI, completedFrame(tdAPI)), oneOffs...)
}

// taskFixtureWith is taskFixture with api's rollout scripted by the
// caller.
func taskFixtureWith(t *testing.T, api ecsfake.Service, oneOffs ...ecsfake.OneOff) (*fixture, *ecsfake.Server, *fakeLogs) {
	t.Helper()
	api.Launch = &ecsfake.Launch{LaunchType: "FARGATE", PlatformVersion: "1.4.0", Subnets: []string{"subnet-a", "subnet-b"},
		SecurityGroups: []string{"sg-api"}, AssignPublicIP: "DISABLED"}
	srv := scriptedServer(t, api, scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: tdMigrate, Containers: []ecsfake.ContainerDefinition{
		{Name: "app", Image: ecrHost + "demo/api:env.stage", LogGroup: "/ecs/migrate", LogStreamPrefix: "ecs"},
		{Name: "log-router", Image: "fluent-bit:stable", NotEssential: true},
	}})
	srv.ScriptRunTask(oneOffs...)
	logs := &fakeLogs{streams: map[string][]string{}}
	clock := clocktest.NewAuto(ecsfake.T0)
	f := newFixture(t, WithCluster(func(p ClusterParams) (Cluster, error) {
		p.Clock = clock
		return NewECSCluster(srv.Client(), p), nil
	}), WithTaskLogs(func(ClusterParams) (TaskLogs, error) { return tasklogs.New(logs), nil }))
	f.project.Environments[0].PreDeploy = []*manifest.PreDeployTask{{ID: "migrate", TaskDefinition: "migrate", Container: "app",
		Command: []string{"bin/migrate", "--apply"}, Environment: map[string]string{"STAGE": "1"}, NetworkFrom: "api", Timeout: time.Minute}}
	return f, srv, logs
}

func taskFrame(status string, containers ...ecsfake.Container) ecsfake.Task {
	desired := "RUNNING"
	if status == "STOPPED" {
		desired = "STOPPED"
	}
	return ecsfake.Task{LastStatus: status, DesiredStatus: desired, Containers: containers}
}

func stoppedFrame(code, reason string, containers ...ecsfake.Container) ecsfake.Task {
	t := taskFrame("STOPPED", containers...)
	t.StopCode, t.StoppedReason = code, reason
	return t
}

func exitCode(c int32) *int32 { return &c }

// migrationExits is a migration that runs, then stops with app's exit
// code (the log router exits 0).
func migrationExits(code int32) ecsfake.OneOff {
	return ecsfake.OneOff{Frames: []ecsfake.Task{taskFrame("PROVISIONING"), taskFrame("RUNNING"),
		stoppedFrame("EssentialContainerExited", "Essential container in task exited",
			ecsfake.Container{Name: "app", ExitCode: exitCode(code)}, ecsfake.Container{Name: "log-router", ExitCode: exitCode(0)})}}
}

// TestPreDeployRunsFromTheReleaseBeforeAnythingMoves: the migration runs
// a new revision of its family whose app container runs the release's
// api digest, with its command and environment, in the subnets and on
// the launch type of api; it ends before the first tag moves (the record
// says so by then), and the record and result keep how it ended.
func TestPreDeployRunsFromTheReleaseBeforeAnythingMoves(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixture(t, migrationExits(0))
	var atFirstTag []history.TaskRun
	var once sync.Once
	f.w.onTag = func(string, string) error {
		once.Do(func() {
			deps, err := f.store.ListDeployments(context.Background(), "demo", "stage", 1)
			if err == nil && len(deps) == 1 {
				atFirstTag = deps[0].PreDeploy
			}
		})
		return nil
	}
	res, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}

	regs := srv.Registered()
	if len(regs) != 1 {
		t.Fatalf("RegisterTaskDefinition calls: got %d, want 1 (a revision pinning the release)", len(regs))
	}
	images := map[string]string{}
	for _, c := range regs[0]["containerDefinitions"].([]any) {
		cd := c.(map[string]any)
		images[cd["name"].(string)] = cd["image"].(string)
	}
	if want := map[string]string{"app": ecrHost + "demo/api@" + newDigest("api"), "log-router": "fluent-bit:stable"}; !reflect.DeepEqual(images, want) {
		t.Errorf("registered containers: got %v, want %v", images, want)
	}
	runs := srv.RunTaskRequests()
	if len(runs) != 1 {
		t.Fatalf("RunTask calls: got %d, want 1", len(runs))
	}
	got := runs[0]
	delete(got, "clientToken")
	want := map[string]any{"cluster": "demo-stage", "taskDefinition": ecsfake.TaskDefinitionARN("migrate", 4), "count": float64(1),
		"startedBy": "buoy", "launchType": "FARGATE", "platformVersion": "1.4.0",
		"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{
			"subnets": []any{"subnet-a", "subnet-b"}, "securityGroups": []any{"sg-api"}, "assignPublicIp": "DISABLED"}},
		"overrides": map[string]any{"containerOverrides": []any{map[string]any{"name": "app", "command": []any{"bin/migrate", "--apply"},
			"environment": []any{map[string]any{"name": "STAGE", "value": "1"}}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RunTask request:\n got %v\nwant %v", got, want)
	}

	if len(atFirstTag) != 1 || atFirstTag[0].Outcome != history.StatusSucceeded {
		t.Errorf("the record when the first tag moved: pre_deploy %+v, want migrate succeeded", atFirstTag)
	}
	kinds := kindsInOrder(f.events.Events())
	if i, j := slices.Index(kinds, event.TaskDone), slices.Index(kinds, event.TagMoved); i < 0 || j < 0 || i > j {
		t.Errorf("events: %v; want the task done before the first tag moved", kinds)
	}
	for _, e := range f.events.OfKind(event.TaskStarted) {
		if e.Deployment != res.Deployment.ID || e.Task != "migrate" {
			t.Errorf("task-started event: %+v, want task migrate of deployment %s (its record written first)", e, res.Deployment.ID)
		}
	}
	if len(f.events.OfKind(event.TaskProgress)) == 0 {
		t.Error("no task-progress event while the task ran")
	}

	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusSucceeded || len(rec.PreDeploy) != 1 {
		t.Fatalf("record: got %s with pre_deploy %+v, want succeeded with migrate", rec.Status, rec.PreDeploy)
	}
	run := rec.PreDeploy[0]
	if run.Outcome != history.StatusSucceeded || run.Task != ecsfake.TaskARN(1) || run.TaskDefinition != ecsfake.TaskDefinitionARN("migrate", 4) ||
		run.StopCode != "EssentialContainerExited" || len(run.Containers) != 2 || *run.Containers[0].ExitCode != 0 {
		t.Errorf("record's migrate: got %+v", run)
	}
	if len(res.PreDeploy) != 1 || res.PreDeploy[0].Outcome != history.StatusSucceeded || res.PreDeploy[0].TaskARN != ecsfake.TaskARN(1) {
		t.Errorf("result's pre_deploy: got %+v, want migrate succeeded", res.PreDeploy)
	}
	if got := srv.Calls("UpdateService"); got != 2 {
		t.Errorf("UpdateService calls: got %d, want 2", got)
	}
}

func kindsInOrder(es []event.Event) []event.Kind {
	var out []event.Kind
	for _, e := range es {
		out = append(out, e.Kind)
	}
	return out
}

// TestPreDeployFailureMovesNothing: a migration whose essential container
// exits non-zero, that ECS does not start, that fails to start, or that
// is still running at its timeout fails the deployment, which moves no
// tag and updates no service; the error and the record name the task,
// the container, its exit code and ECS's stopped reason, and the last
// lines the container wrote are shown.
func TestPreDeployFailureMovesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		oneOff ecsfake.OneOff
		logged []string // lines app wrote
		class  error
		says   []string // in the error, the record's reason and the task-done event
		lines  []string // task-log events' messages
	}{
		{
			name: "the essential container exits 3", oneOff: migrationExits(3),
			logged: append(numbered(30), "ERROR: relation \"users\" already exists"),
			class:  ErrDeploymentFailed,
			says:   []string{"pre_deploy task migrate failed", "task oneoff0001 stopped (EssentialContainerExited: Essential container in task exited)", "essential container app exited with code 3"},
			lines:  append(prefixed(numbered(30)[6:]), "[app] ERROR: relation \"users\" already exists"),
		},
		{
			name: "ECS does not start it", oneOff: ecsfake.OneOff{Failures: []string{"RESOURCE:MEMORY"}},
			class: ErrDeploymentFailed,
			says:  []string{"pre_deploy task migrate did not start", "RESOURCE:MEMORY"},
		},
		{
			name: "it fails to start",
			oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{taskFrame("PENDING"), stoppedFrame("TaskFailedToStart",
				"CannotPullContainerError: pull image manifest has been retried 5 time(s)", ecsfake.Container{Name: "app"}, ecsfake.Container{Name: "log-router"})}},
			class: ErrDeploymentFailed,
			says:  []string{"TaskFailedToStart: CannotPullContainerError", "essential container app never exited"},
			lines: []string{"[app] (no log stream ecs/app/oneoff0001 in group /ecs/migrate: the container wrote nothing)"},
		},
		{
			name:   "it is still running at its timeout",
			oneOff: ecsfake.OneOff{Frames: []ecsfake.Task{taskFrame("RUNNING", ecsfake.Container{Name: "app"}, ecsfake.Container{Name: "log-router"})}},
			logged: []string{"migrating 1 of 90000"},
			class:  ErrTimeout,
			says:   []string{"task oneoff0001 is still RUNNING after 1m0s; it was left running"},
			lines:  []string{"[app] migrating 1 of 90000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv, logs := taskFixture(t, tt.oneOff)
			if tt.logged != nil {
				logs.streams["/ecs/migrate|ecs/app/oneoff0001"] = tt.logged
			}
			res, err := f.releaseDeploy("stage")
			if !errors.Is(err, tt.class) {
				t.Fatalf("error: got %v, want %v", err, tt.class)
			}
			var pde *PreDeployError
			if !errors.As(err, &pde) || pde.Task != "migrate" {
				t.Errorf("error: got %T %v, want a *PreDeployError of migrate", err, err)
			}
			rec := f.deployment(res.Deployment.ID)
			done := f.events.OfKind(event.TaskDone)
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) || !strings.Contains(rec.Reason, s) {
					t.Errorf("error %q and record reason %q: want both to say %q", err, rec.Reason, s)
				}
				if len(done) > 0 && !strings.Contains(done[0].Message, s) && !strings.HasPrefix(s, "pre_deploy task") {
					t.Errorf("task-done event %q: want it to say %q", done[0].Message, s)
				}
			}
			nothingMoved(t, f, srv)
			if res.Status != history.StatusFailed || rec.Status != history.StatusFailed || rec.FinishedAt.IsZero() {
				t.Errorf("status: result %s, record %s (finished %v); want failed, closed", res.Status, rec.Status, rec.FinishedAt)
			}
			if len(rec.PreDeploy) != 1 || rec.PreDeploy[0].Outcome != history.StatusFailed {
				t.Errorf("record's pre_deploy: got %+v, want migrate failed", rec.PreDeploy)
			}
			if !strings.Contains(rec.Reason, "no tag was moved and no service updated") {
				t.Errorf("record reason %q: want it to say nothing moved", rec.Reason)
			}
			var lines []string
			for _, e := range f.events.OfKind(event.TaskLog) {
				lines = append(lines, e.Message)
			}
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("task-log lines:\n got %q\nwant %q", lines, tt.lines)
			}
			if len(f.events.OfKind(event.Failed)) != 1 {
				t.Errorf("failed events: got %d, want 1", len(f.events.OfKind(event.Failed)))
			}
			if lockHeld(f.store, "demo", "stage") {
				t.Error("the lock of stage is still held")
			}
		})
	}
}

// nothingMoved checks that no tag moved and no service was updated, and
// that stage's current record was not set.
func nothingMoved(t *testing.T, f *fixture, srv *ecsfake.Server) {
	t.Helper()
	for _, img := range f.project.Images {
		if got := f.w.tagged(img.Repository, "env.stage"); got != oldDigest(img.ID) {
			t.Errorf("%s:env.stage moved to %s, want it at %s", img.Repository, got, oldDigest(img.ID))
		}
	}
	if got := f.w.sideEffects(); len(got) != 0 {
		t.Errorf("side effects: got %q, want none", got)
	}
	if got := srv.Calls("UpdateService"); got != 0 {
		t.Errorf("UpdateService calls: got %d, want 0", got)
	}
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current of stage: got %v, want unset", err)
	}
}

func numbered(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("line %02d", i))
	}
	return out
}

func prefixed(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, "[app] "+l)
	}
	return out
}
