package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestPreDeployRerunRunsTheTasksAgain: after a migration failed, the
// same command runs it again (tasks must be idempotent) and, once it
// succeeds, deploys.
func TestPreDeployRerunRunsTheTasksAgain(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixture(t, migrationExits(1), migrationExits(0))
	if _, err := f.releaseDeploy("stage"); !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("first run: got %v, want the migration's failure", err)
	}
	res, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if n := len(srv.RunTaskRequests()); n != 2 {
		t.Errorf("RunTask calls: got %d, want 2 (one per run)", n)
	}
	if rec := f.deployment(res.Deployment.ID); rec.Status != history.StatusSucceeded || rec.PreDeploy[0].Task != ecsfake.TaskARN(2) {
		t.Errorf("re-run's record: got %s, pre_deploy %+v; want succeeded, task %s", rec.Status, rec.PreDeploy, ecsfake.TaskARN(2))
	}
}

// TestPreDeployCancelledWhileTheTaskRuns: a run stopped while its
// migration runs (SIGINT) leaves the task running, moves nothing, and
// closes its record as cancelled, naming the task as still running.
func TestPreDeployCancelledWhileTheTaskRuns(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixture(t, ecsfake.OneOff{Frames: []ecsfake.Task{taskFrame("RUNNING", ecsfake.Container{Name: "app"})}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := New(f.project, f.store, WithClock(f.clock), WithLockWait(0),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithSink(event.Func(func(e event.Event) {
			if e.Kind == event.TaskProgress && strings.HasSuffix(e.Message, "RUNNING") {
				cancel()
			}
		})),
		WithCluster(func(p ClusterParams) (Cluster, error) {
			p.Clock = clocktest.NewAuto(ecsfake.T0)
			return NewECSCluster(srv.Client(), p), nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "alice"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error: got %v, want the cancellation", err)
	}
	nothingMoved(t, f, srv)
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusCancelled || len(rec.PreDeploy) != 1 {
		t.Fatalf("record: got %s, pre_deploy %+v; want cancelled with migrate", rec.Status, rec.PreDeploy)
	}
	if run := rec.PreDeploy[0]; run.Outcome != history.StatusCancelled || run.Task != ecsfake.TaskARN(1) ||
		!strings.Contains(run.Reason, "ECS task oneoff0001 was left running: stop it with `aws ecs stop-task --cluster demo-stage --task oneoff0001`") {
		t.Errorf("record's migrate: got %+v, want cancelled while task %s ran, saying it was left running", run, ecsfake.TaskARN(1))
	}
}

// TestPreDeployRunsOnEveryDeployingOperation: release-deploy, rollback,
// deploy and promote each run the environment's tasks first (prod its
// own, in its cluster, played by a second scripted server).
func TestPreDeployRunsOnEveryDeployingOperation(t *testing.T) {
	t.Parallel()
	f, stage, _ := taskFixture(t, migrationExits(0), migrationExits(0), migrationExits(0), migrationExits(0))
	prod := ecsfake.New(t, ecsfake.Unsupported, scriptedService("api", tdAPI, completedFrame(tdAPI)), scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	prod.AddTaskDefinitions(
		ecsfake.TaskDefinition{ARN: tdAPI, Containers: []ecsfake.ContainerDefinition{
			{Name: "app", Image: ecrHost + "demo/api:env.prod"}, {Name: "nginx", Image: ecrHost + "demo/nginx:env.prod"}}},
		ecsfake.TaskDefinition{ARN: tdWorker, Containers: []ecsfake.ContainerDefinition{{Name: "worker", Image: ecrHost + "demo/worker:env.prod"}}},
		ecsfake.TaskDefinition{ARN: tdMigrate, NetworkMode: "bridge", Containers: []ecsfake.ContainerDefinition{{Name: "app", Image: ecrHost + "demo/api:env.prod"}}})
	prod.ScriptRunTask(migrationExits(0))
	clock := clocktest.NewAuto(ecsfake.T0)
	d, err := New(f.project, f.store, WithClock(f.clock), WithLockWait(0),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) {
			p.Clock = clock
			if p.Target.Cluster == "demo-prod" {
				return NewECSCluster(prod.Client(), p), nil
			}
			return NewECSCluster(stage.Client(), p), nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	f.project.Environments[1].PreDeploy = []*manifest.PreDeployTask{{ID: "migrate-prod", TaskDefinition: "migrate"}}
	for _, img := range f.project.Images {
		f.w.push(img.Repository, sha("2222"+img.ID), "ref.def456") // a third build, to roll back from
	}
	ctx := context.Background()
	req := func(env string) Request { return Request{Environment: env, RequestedBy: "alice"} }
	var first *Result
	steps := []struct {
		name string
		srv  *ecsfake.Server
		run  func() (*Result, error)
	}{
		{"release-deploy", stage, func() (*Result, error) {
			res, err := d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: req("stage")})
			first = res
			return res, err
		}},
		{"release-deploy of another build", stage, func() (*Result, error) {
			return d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: req("stage"), Label: "ref.def456"})
		}},
		{"rollback", stage, func() (*Result, error) { return d.Rollback(ctx, RollbackInput{Request: req("stage")}) }},
		{"deploy", stage, func() (*Result, error) {
			return d.Deploy(ctx, DeployInput{Request: req("stage"), Release: first.Release.ID})
		}},
		{"promote", prod, func() (*Result, error) { return d.Promote(ctx, PromoteInput{Request: req("prod")}) }},
	}
	runs := map[*ecsfake.Server]int{}
	for _, st := range steps {
		res, err := st.run()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		runs[st.srv]++
		if n := len(st.srv.RunTaskRequests()); n != runs[st.srv] {
			t.Fatalf("%s: RunTask calls so far: got %d, want %d", st.name, n, runs[st.srv])
		}
		if len(res.PreDeploy) != 1 || res.PreDeploy[0].Outcome != history.StatusSucceeded {
			t.Errorf("%s: pre_deploy %+v, want one task succeeded", st.name, res.PreDeploy)
		}
	}
	if got := prod.RunTaskRequests()[0]["cluster"]; got != "demo-prod" {
		t.Errorf("promote's task ran in %v, want prod's cluster demo-prod", got)
	}
}

// TestPreDeployIsNotRunAgainByARollback: a rollout that fails after the
// migration succeeded is rolled back (--rollback) without running the
// migration again.
func TestPreDeployIsNotRunAgainByARollback(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixtureWith(t, scriptedService("api", tdAPI, circuitBreakerFrame(tdAPI)), migrationExits(0))
	_, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback = true })
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want the rollout's failure", err)
	}
	if n := len(srv.RunTaskRequests()); n != 1 {
		t.Errorf("RunTask calls: got %d, want 1: the rollback runs no task", n)
	}
	if got := srv.Calls("UpdateService"); got != 4 {
		t.Errorf("UpdateService calls: got %d, want 4 (2 forward, 2 back)", got)
	}
}

// TestPreDeployIsWaitedForWithNoWait: --no-wait does not skip the wait
// for a migration: a failed one still moves nothing.
func TestPreDeployIsWaitedForWithNoWait(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixture(t, migrationExits(3))
	if _, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.NoWait = true }); !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want the migration's failure", err)
	}
	nothingMoved(t, f, srv)
}

// TestPreDeployLogThatCannotBeReadIsAWarning: when CloudWatch Logs
// refuses to show a failed migration's log, a warning says so, and the
// deployment fails with the migration's own error.
func TestPreDeployLogThatCannotBeReadIsAWarning(t *testing.T) {
	t.Parallel()
	f, srv, logs := taskFixture(t, migrationExits(3))
	logs.err = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: logs:GetLogEvents"}
	_, err := f.releaseDeploy("stage")
	if !errors.Is(err, ErrDeploymentFailed) || !strings.Contains(err.Error(), "essential container app exited with code 3") {
		t.Fatalf("error: got %v, want the migration's failure", err)
	}
	var warned bool
	for _, e := range f.events.OfKind(event.Warning) {
		warned = warned || (e.Task == "migrate" && strings.Contains(e.Message, "could not read the log of container app") &&
			strings.Contains(e.Message, "logs:GetLogEvents"))
	}
	if !warned {
		t.Errorf("warnings: %+v, want one saying the log of app could not be read, and why", f.events.OfKind(event.Warning))
	}
	nothingMoved(t, f, srv)
}
