package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// These tests play rollouts that moto cannot (fail, roll back, time out)
// on the scripted ECS server, through the default Cluster built on
// pkg/rollout.

const (
	tdAPI    = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:1"
	tdWorker = "arn:aws:ecs:eu-west-1:123456789012:task-definition/worker:1"
	ourID    = "ecs-svc/1111"
)

func fakeDeployment(id, status, td string, running, failed int32, state string) ecsfake.Deployment {
	return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: td, DesiredCount: 2, RunningCount: running,
		FailedTasks: failed, RolloutState: state, CreatedAt: ecsfake.At(0)}
}

// scriptedService is a service whose rollout plays frames after the update.
func scriptedService(name, td string, frames ...ecsfake.Frame) ecsfake.Service {
	old := fakeDeployment("ecs-svc/0000", "PRIMARY", td, 2, 0, "COMPLETED")
	oldActive := old
	oldActive.Status = "ACTIVE"
	return ecsfake.Service{Name: name, TaskDefinition: td, DesiredCount: 2,
		Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{old}, RunningCount: 2},
		Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{fakeDeployment(ourID, "PRIMARY", td, 0, 0, "IN_PROGRESS"), oldActive}, RunningCount: 2},
		Frames: frames}
}

func completedFrame(td string) ecsfake.Frame {
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{fakeDeployment(ourID, "PRIMARY", td, 2, 0, "COMPLETED")}, RunningCount: 2}
}

func inProgressFrame(td string) ecsfake.Frame {
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{fakeDeployment(ourID, "PRIMARY", td, 0, 0, "IN_PROGRESS")}, RunningCount: 2}
}

func circuitBreakerFrame(td string) ecsfake.Frame {
	ours := fakeDeployment(ourID, "ACTIVE", td, 0, 3, "FAILED")
	ours.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{fakeDeployment("ecs-svc/2222", "PRIMARY", td, 0, 0, "IN_PROGRESS"), ours}, RunningCount: 2}
}

// scriptedServer is the scripted ECS server playing api and worker, with
// their task definitions: api's containers run api and nginx, worker's
// worker, at env.stage.
func scriptedServer(t *testing.T, api, worker ecsfake.Service) *ecsfake.Server {
	t.Helper()
	return scriptedServerWith(t, ecsfake.Unsupported, api, worker)
}

// scriptedServerWith is scriptedServer answering the service deployments
// API as deployments says.
func scriptedServerWith(t *testing.T, deployments ecsfake.DeploymentsAPI, api, worker ecsfake.Service) *ecsfake.Server {
	t.Helper()
	srv := ecsfake.New(t, deployments, api, worker)
	srv.AddTaskDefinitions(
		ecsfake.TaskDefinition{ARN: tdAPI, Containers: []ecsfake.ContainerDefinition{
			{Name: "app", Image: ecrHost + "demo/api:env.stage"}, {Name: "nginx", Image: ecrHost + "demo/nginx:env.stage"}}},
		ecsfake.TaskDefinition{ARN: tdWorker, Containers: []ecsfake.ContainerDefinition{{Name: "worker", Image: ecrHost + "demo/worker:env.stage"}}})
	return srv
}

// scriptedFixture is the usual fixture whose stage cluster is the
// scripted ECS server playing api and worker.
func scriptedFixture(t *testing.T, api, worker ecsfake.Service) (*fixture, *ecsfake.Server) {
	t.Helper()
	srv := scriptedServer(t, api, worker)
	clock := clocktest.NewAuto(ecsfake.T0)
	f := newFixture(t, WithCluster(func(p ClusterParams) (Cluster, error) {
		p.Clock = clock // the waiter's polls take no real time
		return NewECSCluster(srv.Client(), p), nil
	}))
	return f, srv
}

func TestScriptedRolloutFailsWithTheCircuitBreakersReason(t *testing.T) {
	t.Parallel()
	f, srv := scriptedFixture(t,
		scriptedService("api", tdAPI, inProgressFrame(tdAPI), circuitBreakerFrame(tdAPI)),
		scriptedService("worker", tdWorker, inProgressFrame(tdWorker), completedFrame(tdWorker)))
	res, err := f.releaseDeploy("stage")
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want ErrDeploymentFailed", err)
	}
	byName := map[string]ServiceResult{}
	for _, s := range res.Services {
		byName[s.Service] = s
	}
	if api := byName["api"]; api.Outcome != history.StatusFailed || !strings.Contains(api.Reason, "circuit breaker") || api.ECSDeployment != ourID {
		t.Errorf("api: got %+v, want failed by the circuit breaker, with our ECS deployment id", api)
	}
	if w := byName["worker"]; w.Outcome != history.StatusSucceeded {
		t.Errorf("worker: got %s %q, want succeeded", w.Outcome, w.Reason)
	}
	if got := srv.Calls("UpdateService"); got != 2 {
		t.Errorf("UpdateService calls: got %d, want 2 (one per service)", got)
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusFailed || !strings.Contains(rec.Reason, "circuit breaker") {
		t.Errorf("record: got %s %q, want failed with the reason", rec.Status, rec.Reason)
	}
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current of stage after a failed rollout: got %v, want unset", err)
	}
}

func TestScriptedRolloutRollsBackTagsAndServices(t *testing.T) {
	t.Parallel()
	f, srv := scriptedFixture(t,
		scriptedService("api", tdAPI, circuitBreakerFrame(tdAPI)),
		scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback = true })
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want ErrDeploymentFailed", err)
	}
	for _, img := range f.project.Images {
		if got, want := f.w.tagged(img.Repository, "env.stage"), oldDigest(img.ID); got != want {
			t.Errorf("%s:env.stage after the rollback: got %s, want %s", img.Repository, got, want)
		}
	}
	if got := srv.Calls("UpdateService"); got != 4 {
		t.Errorf("UpdateService calls: got %d, want 4 (2 forward, 2 back)", got)
	}
	// The scripted api fails the same way when rolled back, so the
	// rollback itself is reported as failed.
	if res.Status != history.StatusFailed || !strings.Contains(err.Error(), "rollback failed too") {
		t.Errorf("got status %s error %v; want failed, saying the rollback failed too", res.Status, err)
	}
}

func TestScriptedRolloutTimesOut(t *testing.T) {
	t.Parallel()
	f, _ := scriptedFixture(t,
		scriptedService("api", tdAPI, inProgressFrame(tdAPI)),
		scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Timeout = time.Minute })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error: got %v, want ErrTimeout", err)
	}
	if res.Status != history.StatusFailed {
		t.Errorf("status: got %s, want failed", res.Status)
	}
}

// TestScriptedRolloutHeartbeatsReachTheSink: the waiter's heartbeats
// come out of the Deployer, every 30 s of a rollout stuck for 3 minutes,
// with the services done and pending.
func TestScriptedRolloutHeartbeatsReachTheSink(t *testing.T) {
	t.Parallel()
	f, _ := scriptedFixture(t,
		scriptedService("api", tdAPI, inProgressFrame(tdAPI)),
		scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	if _, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Timeout = 3 * time.Minute }); !errors.Is(err, ErrTimeout) {
		t.Fatalf("error: got %v, want ErrTimeout", err)
	}
	beats := f.events.OfKind(event.Heartbeat)
	if len(beats) != 6 {
		t.Fatalf("heartbeats in a 3-minute wait: got %d, want 6", len(beats))
	}
	for i, b := range beats {
		if w := b.Waiting; w == nil || w.Done != 1 || w.Pending != 1 || w.Elapsed != time.Duration(i+1)*30*time.Second {
			t.Errorf("heartbeat %d: got %+v, want 1 done, 1 pending after %s", i, w, time.Duration(i+1)*30*time.Second)
		}
	}
}

// TestPollingStartsAtOnceAndIsNeverLongerThanThePollInterval: the first
// poll follows the updates with no wait, the intervals grow from about 2 s
// and never pass the Deployer's poll interval (plus 20% jitter), so buoy
// sees a finished rollout at most that long after ECS.
func TestPollingStartsAtOnceAndIsNeverLongerThanThePollInterval(t *testing.T) {
	t.Parallel()
	var frames []ecsfake.Frame
	for range 30 {
		frames = append(frames, inProgressFrame(tdAPI))
	}
	frames = append(frames, completedFrame(tdAPI))
	srv := scriptedServer(t, scriptedService("api", tdAPI, frames...), scriptedService("worker", tdWorker, completedFrame(tdWorker)))
	clock := clocktest.NewAuto(ecsfake.T0)
	const every = 5 * time.Second
	f := newFixture(t, WithPollInterval(every), WithCluster(func(p ClusterParams) (Cluster, error) {
		p.Clock = clock
		return NewECSCluster(srv.Client(), p), nil
	}))
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	sleeps := clock.Sleeps()
	if got, want := srv.Polls("api"), len(frames); got != want {
		t.Fatalf("polls of api: got %d, want %d", got, want)
	}
	if got, want := len(sleeps), len(frames)-1; got != want {
		t.Errorf("waits: got %d, want %d (none before the first poll)", got, want)
	}
	if len(sleeps) > 0 && sleeps[0] > 2400*time.Millisecond {
		t.Errorf("first interval: got %s, want about 2 s", sleeps[0])
	}
	for i, d := range sleeps {
		if d > every*12/10 {
			t.Errorf("interval %d: got %s, want at most %s (the poll interval plus 20%% jitter)", i, d, every*12/10)
		}
	}
}

// canaryFrame is a CANARY deployment of td at 10% of production traffic,
// its service deployment IN_PROGRESS.
func canaryFrame(td string) ecsfake.Frame {
	f := inProgressFrame(td)
	f.Deployment = &ecsfake.ServiceDeployment{Status: "IN_PROGRESS", LifecycleStage: "PRODUCTION_TRAFFIC_SHIFT",
		DeploymentConfiguration: &ecsfake.DeploymentConfiguration{Strategy: "CANARY",
			CanaryConfiguration: &ecsfake.CanaryConfiguration{CanaryPercent: 10, CanaryBakeTimeInMinutes: 30}},
		TargetServiceRevision: &ecsfake.ServiceRevisionSummary{RequestedProductionTrafficWeight: ecsfake.Percent(10)}}
	return f
}

// TestScriptedRolloutRollsBackWithECS: with --rollback, a service whose
// canary rollout timed out is rolled back by ECS itself
// (StopServiceDeployment, stopType ROLLBACK), waited for until
// ROLLBACK_SUCCESSFUL, and the record says so; the service that
// succeeded is redeployed in place with what it ran before, and the
// floating tags point back at the previous digests. The canary's
// lifecycle reaches the Deployer's events.
func TestScriptedRolloutRollsBackWithECS(t *testing.T) {
	t.Parallel()
	api := scriptedService("api", tdAPI, canaryFrame(tdAPI))
	backFrame := func(status string, running int32, state string) ecsfake.Frame {
		f := ecsfake.Frame{Deployments: []ecsfake.Deployment{fakeDeployment("ecs-svc/2222", "PRIMARY", tdAPI, running, 0, state)}, RunningCount: 2,
			Deployment: &ecsfake.ServiceDeployment{Status: status}}
		return f
	}
	api.OnStop = []ecsfake.Frame{backFrame("ROLLBACK_IN_PROGRESS", 1, "IN_PROGRESS"), backFrame("ROLLBACK_SUCCESSFUL", 2, "COMPLETED")}
	worker := scriptedService("worker", tdWorker, completedFrame(tdWorker))
	worker.Then = []ecsfake.Script{{Update: inProgressFrame(tdWorker), Frames: []ecsfake.Frame{completedFrame(tdWorker)}}}
	srv := scriptedServerWith(t, ecsfake.Supported, api, worker)
	clock := clocktest.NewAuto(ecsfake.T0)
	f := newFixture(t, WithCluster(func(p ClusterParams) (Cluster, error) {
		p.Clock = clock
		return NewECSCluster(srv.Client(), p), nil
	}))
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback, in.Timeout = true, time.Minute })
	if !errors.Is(err, ErrTimeout) || res.Status != history.StatusRolledBack {
		t.Fatalf("got %s, %v; want rolled back after ErrTimeout", res.Status, err)
	}
	stops := srv.Stops("api")
	if len(stops) != 1 || stops[0]["stopType"] != "ROLLBACK" || stops[0]["serviceDeploymentArn"] != ecsfake.DeploymentARN("api") {
		t.Errorf("StopServiceDeployment of api: got %v, want one, stopType ROLLBACK, of its service deployment", stops)
	}
	if n := len(srv.Stops("worker")); n != 0 {
		t.Errorf("StopServiceDeployment of worker: got %d, want none (it succeeded)", n)
	}
	if a, w := len(srv.Updates("api")), len(srv.Updates("worker")); a != 1 || w != 2 {
		t.Errorf("UpdateService calls: api %d, worker %d; want 1 and 2 (ECS rolls api back, buoy redeploys worker)", a, w)
	}
	for _, img := range f.project.Images {
		if got, want := f.w.tagged(img.Repository, "env.stage"), oldDigest(img.ID); got != want {
			t.Errorf("%s:env.stage after the rollback: got %s, want %s", img.Repository, got, want)
		}
	}
	rec := f.deployment(res.Deployment.ID)
	for _, want := range []string{"ECS rolled back api itself (StopServiceDeployment, stopType ROLLBACK)", "buoy redeployed worker with what ran before"} {
		if rec.Status != history.StatusRolledBack || !strings.Contains(rec.Reason, want) {
			t.Errorf("record: got %s %q, want rolled back, saying %q", rec.Status, rec.Reason, want)
		}
	}
	done := map[string]string{}
	for _, e := range f.events.OfKind(event.ServiceDone) {
		done[e.Service] += e.Outcome + ": " + e.Message + "\n"
	}
	if !strings.Contains(done["api"], "ROLLBACK_SUCCESSFUL") {
		t.Errorf("api's outcomes: got %q, want the rollback's, ROLLBACK_SUCCESSFUL", done["api"])
	}
	if st := f.events.OfKind(event.Stage); len(st) == 0 || st[0].Lifecycle.Stage != "PRODUCTION_TRAFFIC_SHIFT" || st[0].Service != "api" {
		t.Errorf("stage events: got %+v, want api's PRODUCTION_TRAFFIC_SHIFT", st)
	}
	if b := f.events.OfKind(event.Bake); len(b) == 0 || b[0].Lifecycle.Bake != "canary" || b[0].Lifecycle.BakeTotal != 30*time.Minute {
		t.Errorf("bake events: got %+v, want api's 30-minute canary bake", b)
	}
}

// TestScriptedRolloutRedeploysWhereECSCannotRollBack: with --rollback and
// no service deployments API (moto's, or denied), ECS cannot roll the
// failed service back itself: buoy warns, saying why, and redeploys it
// with what it ran before, as it does the service that succeeded; no
// StopServiceDeployment is sent, and the record says both were
// redeployed by buoy.
func TestScriptedRolloutRedeploysWhereECSCannotRollBack(t *testing.T) {
	t.Parallel()
	api := scriptedService("api", tdAPI, circuitBreakerFrame(tdAPI))
	api.Then = []ecsfake.Script{{Update: inProgressFrame(tdAPI), Frames: []ecsfake.Frame{completedFrame(tdAPI)}}}
	worker := scriptedService("worker", tdWorker, completedFrame(tdWorker))
	worker.Then = []ecsfake.Script{{Update: inProgressFrame(tdWorker), Frames: []ecsfake.Frame{completedFrame(tdWorker)}}}
	f, srv := scriptedFixture(t, api, worker)
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback = true })
	if !errors.Is(err, ErrDeploymentFailed) || res.Status != history.StatusRolledBack {
		t.Fatalf("got %s, %v; want rolled back after ErrDeploymentFailed", res.Status, err)
	}
	if n := srv.Calls("StopServiceDeployment"); n != 0 {
		t.Errorf("StopServiceDeployment calls: got %d, want none (no service deployments API)", n)
	}
	if a, w := len(srv.Updates("api")), len(srv.Updates("worker")); a != 2 || w != 2 {
		t.Errorf("UpdateService calls: api %d, worker %d; want 2 each (forward, back)", a, w)
	}
	var warned []string
	for _, e := range f.events.OfKind(event.Warning) {
		if e.Service == "api" {
			warned = append(warned, e.Message)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "the service deployments API is unavailable") || !strings.Contains(warned[0], "redeploying what api ran before instead") {
		t.Errorf("warnings about api: got %q, want one saying ECS cannot roll it back, and why, and that buoy redeploys it", warned)
	}
	rec := f.deployment(res.Deployment.ID)
	if !strings.Contains(rec.Reason, "buoy redeployed api, worker with what ran before") || strings.Contains(rec.Reason, "ECS rolled back") {
		t.Errorf("record: got %q, want it to say buoy redeployed api and worker", rec.Reason)
	}
}
