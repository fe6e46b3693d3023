package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

const ecrHost = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/"

// fixture is a project with three images (api and nginx feed the api
// service, worker feeds worker), stage and a protected prod that promotes
// from stage, and a fake AWS where every image has an old digest under
// env.stage and env.prod and a new one under latest.
type fixture struct {
	t       *testing.T
	w       *world
	store   *historytest.Faulty
	clock   *clocktest.Clock
	events  *event.Recorder
	project *manifest.Project
	d       *Deployer
}

func testProject() *manifest.Project {
	return &manifest.Project{
		ID: "demo",
		Images: []*manifest.Image{
			{ID: "api", Repository: "demo/api", Services: []string{"api"}},
			{ID: "nginx", Repository: "demo/nginx", Services: []string{"api"}},
			{ID: "worker", Repository: "demo/worker", Services: []string{"worker"}},
		},
		Services: []*manifest.Service{{ID: "api"}, {ID: "worker"}},
		Environments: []*manifest.Environment{
			{ID: "stage", Tag: "env.stage", Strategy: manifest.StrategyTag, Targets: []manifest.Target{{Cluster: "demo-stage"}}},
			{ID: "prod", Tag: "env.prod", Strategy: manifest.StrategyTag, Targets: []manifest.Target{{Cluster: "demo-prod"}},
				Protected: true, PromotesFrom: "stage"},
		},
	}
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, w: newWorld(), clock: newFakeClock(), events: &event.Recorder{}, project: testProject()}
	f.store = newStore(f.clock.Now)
	for _, img := range f.project.Images {
		f.w.push(img.Repository, oldDigest(img.ID), "env.stage", "env.prod")
		f.w.push(img.Repository, newDigest(img.ID), "latest", "ref.abc123")
	}
	for _, env := range []string{"stage", "prod"} {
		f.w.addService("demo-"+env, "api", map[string]string{
			"app":   ecrHost + "demo/api:env." + env,
			"nginx": ecrHost + "demo/nginx:env." + env,
		})
		f.w.addService("demo-"+env, "worker", map[string]string{"worker": ecrHost + "demo/worker:env." + env})
	}
	all := append([]Option{
		WithClock(f.clock), WithSink(f.events), WithLockWait(0),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{f.w, p.Target.Cluster}, nil }),
	}, opts...)
	d, err := New(f.project, f.store, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.d = d
	return f
}

func oldDigest(img string) string { return sha("0000" + img) }
func newDigest(img string) string { return sha("1111" + img) }

func (f *fixture) releaseDeploy(env string, mod ...func(*ReleaseDeployInput)) (*Result, error) {
	in := ReleaseDeployInput{Request: Request{Environment: env, RequestedBy: "alice@laptop"}}
	for _, m := range mod {
		m(&in)
	}
	return f.d.ReleaseDeploy(context.Background(), in)
}

func (f *fixture) deployment(id string) *history.Deployment {
	f.t.Helper()
	d, err := f.store.GetDeployment(context.Background(), "demo", id)
	if err != nil {
		f.t.Fatalf("GetDeployment %s: %v", id, err)
	}
	return d
}

func TestReleaseDeployMovesTagsAndRedeploysEveryService(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	if res.Status != history.StatusSucceeded {
		t.Errorf("status: got %s, want succeeded", res.Status)
	}
	for _, img := range f.project.Images {
		if got, want := f.w.tagged(img.Repository, "env.stage"), newDigest(img.ID); got != want {
			t.Errorf("%s:env.stage: got %s, want %s", img.Repository, got, want)
		}
		if got, want := f.w.tagged(img.Repository, "env.prod"), oldDigest(img.ID); got != want {
			t.Errorf("%s:env.prod changed: got %s, want %s", img.Repository, got, want)
		}
	}
	var updates []string
	for _, c := range f.w.sideEffects() {
		if strings.HasPrefix(c, "UpdateService") {
			updates = append(updates, c)
		}
	}
	slices.Sort(updates)
	if want := []string{"UpdateService api ", "UpdateService worker "}; !slices.Equal(updates, want) {
		t.Errorf("service updates: got %q, want %q (one per service)", updates, want)
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusSucceeded || rec.FinishedAt.IsZero() {
		t.Errorf("record: got status %s finished %v, want succeeded and finished", rec.Status, rec.FinishedAt)
	}
	if len(rec.Images) != 3 || !rec.Images["api"].Moved || !rec.Images["api"].Done {
		t.Errorf("record images: got %+v, want 3 tag moves, api moved and done", rec.Images)
	}
	cur, err := f.store.GetCurrent(context.Background(), "demo", "stage")
	if err != nil || cur.ReleaseID != res.Release.ID || cur.DeploymentID != rec.ID {
		t.Errorf("current of stage: got %+v, %v; want release %s deployment %s", cur, err, res.Release.ID, rec.ID)
	}
	if lockHeld(f.store, "demo", "stage") {
		t.Error("the lock of stage is still held after the deployment")
	}
	if got := len(f.events.OfKind(event.Plan)); got != 5 {
		t.Errorf("plan events: got %d, want 5 (3 images, 2 services)", got)
	}
	if fin := f.events.OfKind(event.Finished); len(fin) != 1 || fin[0].Outcome != "succeeded" {
		t.Errorf("finished events: got %+v, want one succeeded", fin)
	}
	// Four writes (the plan, the two stages, the close) and at most one
	// more per tag moved and per service updated: progress is written as
	// it is made, writes in flight coalesced.
	if got := f.store.Writes()["UpdateDeployment"]; got > 4+3+2 {
		t.Errorf("deployment record updates: got %d, want at most 9 (4, and one per tag moved and service updated)", got)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.DryRun = true })
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if res.Status != StatusPlanned {
		t.Errorf("status: got %s, want %s", res.Status, StatusPlanned)
	}
	if got := f.w.sideEffects(); len(got) != 0 {
		t.Errorf("a dry run changed AWS: %q", got)
	}
	if len(f.store.Writes()) != 0 {
		t.Errorf("a dry run wrote the history: %v", f.store.Writes())
	}
	if len(res.Images) != 3 || !res.Images[0].Moved || res.Images[0].To != newDigest("api") {
		t.Errorf("planned images: got %+v, want 3 that would move", res.Images)
	}
	if len(res.Services) != 2 || res.Services[0].Outcome != StatusPlanned {
		t.Errorf("planned services: got %+v, want 2 planned", res.Services)
	}
}

func TestLockHeldByAnotherRunFailsNamingTheHolder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := history.Lock{Project: "demo", Environment: "stage", Owner: "other-run",
		RequestedBy: "bob via buildkite", BuildURL: "https://buildkite.com/acme/demo/builds/7"}
	if _, err := f.store.AcquireLock(context.Background(), other, time.Hour); err != nil {
		t.Fatal(err)
	}
	res, err := f.releaseDeploy("stage")
	if !errors.Is(err, history.ErrLocked) {
		t.Fatalf("error: got %v, want history.ErrLocked", err)
	}
	var locked *history.LockedError
	if !errors.As(err, &locked) || locked.Held.RequestedBy != "bob via buildkite" {
		t.Errorf("error: got %v, want a *history.LockedError naming bob", err)
	}
	if !strings.Contains(err.Error(), "builds/7") {
		t.Errorf("error %q does not name the holder's build", err)
	}
	if res == nil || res.Status != history.StatusFailed {
		t.Errorf("result: got %+v, want a failed result", res)
	}
	if got := f.w.sideEffects(); len(got) != 0 {
		t.Errorf("changed AWS without the lock: %q", got)
	}
}

func TestLockWaitTakesTheLockOnceFreed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithLockWait(time.Minute), WithPollInterval(time.Second))
	f.clock.AutoAdvance(time.Minute)
	other := history.Lock{Project: "demo", Environment: "stage", Owner: "other-run", RequestedBy: "bob"}
	if _, err := f.store.AcquireLock(context.Background(), other, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	res, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatalf("ReleaseDeploy after waiting for the lock: %v", err)
	}
	if res.Status != history.StatusSucceeded {
		t.Errorf("status: got %s, want succeeded", res.Status)
	}
	if w := f.events.OfKind(event.Warning); len(w) == 0 || !strings.Contains(w[0].Message, "bob") {
		t.Errorf("warnings: got %+v, want one saying it waits for bob's lock", w)
	}
}

func TestRecordIsWrittenBeforeAnySideEffect(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	var checked []string
	f.w.beforeChange = func(what string) {
		mu.Lock()
		defer mu.Unlock()
		deps, _ := f.store.ListDeployments(context.Background(), "demo", "stage", 0)
		if len(deps) != 1 || deps[0].Status != history.StatusInProgress {
			t.Errorf("before %s: got deployments %+v, want one in progress", what, deps)
		}
		checked = append(checked, what)
	}
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatal(err)
	}
	if len(checked) == 0 {
		t.Fatal("no side effect was checked")
	}
}

func TestFailedRolloutClosesTheRecordWithWhatHappened(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.w.failRollout["worker"] = "rolled back by the circuit breaker: 3 tasks stopped (exit code 1)"
	res, err := f.releaseDeploy("stage")
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want ErrDeploymentFailed", err)
	}
	if res == nil || res.Deployment == nil {
		t.Fatalf("result: got %+v, want the closed deployment", res)
	}
	// The last line says "deployment failed" once, then why.
	if fin := f.events.OfKind(event.Finished); len(fin) != 1 || fin[0].Outcome != "failed" ||
		strings.Count(fin[0].Message, "deployment failed") != 1 || !strings.HasPrefix(fin[0].Message, "deployment failed: ") ||
		!strings.Contains(fin[0].Message, "circuit breaker") {
		t.Errorf("finished events: got %+v, want one saying \"deployment failed: \" once, then the circuit breaker", fin)
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusFailed {
		t.Errorf("record status: got %s, want failed", rec.Status)
	}
	for _, want := range []string{"circuit breaker", "tags moved: 3", "services updated: 2"} {
		if !strings.Contains(rec.Reason, want) {
			t.Errorf("record reason %q lacks %q", rec.Reason, want)
		}
	}
	var worker history.ServiceOutcome
	for _, so := range rec.Services {
		if so.Service == "worker" {
			worker = so
		}
	}
	if worker.Outcome != history.StatusFailed || worker.ECSDeployment == "" {
		t.Errorf("worker outcome: got %+v, want failed with its ECS deployment id", worker)
	}
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current of stage after a failure: got %v, want not set", err)
	}
	if lockHeld(f.store, "demo", "stage") {
		t.Error("the lock is still held after a failure")
	}
}

func TestFailedRolloutRollsBackWhenAsked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.w.failRollout["api"] = "tasks stopped: CannotPullContainerError"
	res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback = true })
	if !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("error: got %v, want ErrDeploymentFailed", err)
	}
	if res.Status != history.StatusRolledBack {
		t.Errorf("status: got %s, want rolled-back", res.Status)
	}
	for _, img := range f.project.Images {
		if got, want := f.w.tagged(img.Repository, "env.stage"), oldDigest(img.ID); got != want {
			t.Errorf("%s:env.stage after rollback: got %s, want %s", img.Repository, got, want)
		}
	}
	var updates int
	for _, c := range f.w.sideEffects() {
		if strings.HasPrefix(c, "UpdateService") {
			updates++
		}
	}
	if updates != 4 {
		t.Errorf("service updates: got %d, want 4 (2 forward, 2 back)", updates)
	}
}

func TestCrashHalfWayThenRerunCompletes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rel := f.prepare()
	// The process dies after moving the tags, while updating services:
	// nothing more reaches the history, the lock stays.
	f.w.onRedeploy = func(string) error {
		f.store.SetDead(true)
		return historytest.ErrDied
	}
	first, err := f.d.Deploy(context.Background(), DeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}, Release: rel.ID})
	if err == nil {
		t.Fatal("the crashed run reported success")
	}
	crashed := f.deployment(first.Deployment.ID)
	if crashed.Status != history.StatusInProgress {
		t.Fatalf("crashed record: got %s, want left in progress", crashed.Status)
	}

	f.store.SetDead(false)
	f.w.onRedeploy = nil
	f.rerunWaits()
	before := len(f.w.sideEffects())

	second, err := f.d.Deploy(context.Background(), DeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}, Release: rel.ID})
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if second.Deployment.Resumes != crashed.ID {
		t.Errorf("re-run resumes: got %q, want %s", second.Deployment.Resumes, crashed.ID)
	}
	var updates []string
	for _, c := range f.w.sideEffects()[before:] {
		if strings.HasPrefix(c, "UpdateService") {
			updates = append(updates, c)
		}
		if strings.HasPrefix(c, "PutImage") {
			t.Errorf("re-run moved a tag again: %s", c)
		}
	}
	if len(updates) != 2 {
		t.Errorf("re-run service updates: got %q, want both services although their tags had moved", updates)
	}
	old := f.deployment(crashed.ID)
	if old.Status != history.StatusFailed || !strings.Contains(old.Reason, "abandoned") || !strings.Contains(old.Reason, second.Deployment.ID) {
		t.Errorf("crashed record after re-run: got %s %q, want failed, abandoned, naming %s", old.Status, old.Reason, second.Deployment.ID)
	}
}

// TestTakeoverNamesTheDeadRun: a run that finds the lock and record of a
// dead run (its lease expired) takes both over and says whose they were:
// requester and CI build.
func TestTakeoverNamesTheDeadRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	const by, build = "carol via github-actions", "https://github.com/acme/demo/actions/runs/42"
	dead := history.Lock{Project: "demo", Environment: "stage", Owner: "dead-run", RequestedBy: by, BuildURL: build}
	if _, err := f.store.AcquireLock(ctx, dead, time.Minute); err != nil {
		t.Fatal(err)
	}
	rel, err := f.d.Prepare(ctx, PrepareInput{Label: "latest", RequestedBy: by})
	if err != nil {
		t.Fatal(err)
	}
	left := &history.Deployment{Project: "demo", Environment: "stage", ReleaseID: rel.ID, Status: history.StatusInProgress,
		StartedAt: f.clock.Now(), RequestedBy: by, CI: history.CI{Provider: "github-actions", BuildURL: build}}
	if err := f.store.CreateDeployment(ctx, left); err != nil {
		t.Fatal(err)
	}
	f.rerunWaits()

	res, err := f.d.Deploy(ctx, DeployInput{Request: Request{Environment: "stage", RequestedBy: "dave"}, Release: rel.ID})
	if err != nil {
		t.Fatalf("Deploy after the dead run's lease expired: %v", err)
	}
	var warnings []string
	for _, e := range f.events.OfKind(event.Warning) {
		warnings = append(warnings, e.Message)
	}
	all := strings.Join(warnings, "\n")
	for _, want := range []string{
		"took over the lock of " + by + " (" + build + "), whose lease expired: this run saw it unrenewed for 1m4s (its lease, 1m0s, and a margin of 4s)",
		"deployment " + left.ID + ", started by " + by + " (" + build + "), was left in progress by a run that died",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if res.Deployment.Resumes != left.ID {
		t.Errorf("resumes: got %q, want %s", res.Deployment.Resumes, left.ID)
	}
}

func TestProtectedEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		run     func(f *fixture) (*Result, error)
		wantErr error
	}{
		{"deploy without confirmation", func(f *fixture) (*Result, error) {
			return f.releaseDeploy("prod")
		}, ErrConfirmationRequired},
		{"deploy with confirmation", func(f *fixture) (*Result, error) {
			return f.releaseDeploy("prod", func(in *ReleaseDeployInput) { in.Confirm = true })
		}, nil},
		{"promote from its source", func(f *fixture) (*Result, error) {
			if _, err := f.releaseDeploy("stage"); err != nil {
				return nil, err
			}
			return f.d.Promote(context.Background(), PromoteInput{Request: Request{Environment: "prod"}})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			res, err := tt.run(f)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("error: got %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && len(f.w.sideEffects()) != 0 {
				t.Errorf("refused deployment changed AWS: %q", f.w.sideEffects())
			}
			if tt.wantErr == nil && res.Status != history.StatusSucceeded {
				t.Errorf("status: got %s, want succeeded", res.Status)
			}
		})
	}
}

func TestPromoteRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(f *fixture)
		want  string
	}{
		{"no current release", func(*fixture) {}, "no current release"},
		{"drifted source", func(f *fixture) {
			if _, err := f.releaseDeploy("stage"); err != nil {
				t.Fatal(err)
			}
			f.w.push("demo/worker", sha("2222hotfix"), "env.stage")
		}, "drifted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.setup(f)
			before := len(f.w.sideEffects())
			_, err := f.d.Promote(context.Background(), PromoteInput{Request: Request{Environment: "prod"}, From: "stage"})
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: got %v, want ErrInvalidInput saying %q", err, tt.want)
			}
			if got := f.w.sideEffects()[before:]; len(got) != 0 {
				t.Errorf("refused promotion changed AWS: %q", got)
			}
		})
	}
}

func TestPreflightFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		setup     func(f *fixture)
		label     string
		want      []string
		wantRecod bool
	}{
		{"missing images are all named", func(*fixture) {}, "ref.nope", []string{"api (demo/api:ref.nope)", "worker (demo/worker:ref.nope)"}, false},
		{"unknown service", func(f *fixture) {
			f.w.mu.Lock()
			delete(f.w.services, "demo-stage/worker")
			f.w.mu.Unlock()
		}, "", []string{"service not found: worker", "cluster demo-stage"}, true},
		{"service not using the floating tag", func(f *fixture) {
			f.w.addService("demo-stage", "worker", map[string]string{"worker": ecrHost + "demo/worker:latest"})
		}, "", []string{"without the tag env.stage"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tt.setup(f)
			res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Label = tt.label })
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error: got %v, want ErrInvalidInput", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := f.w.sideEffects(); len(got) != 0 {
				t.Errorf("failed preflight changed AWS: %q", got)
			}
			if tt.wantRecod {
				rec := f.deployment(res.Deployment.ID)
				if rec.Status != history.StatusFailed || !strings.Contains(rec.Reason, "nothing was changed") {
					t.Errorf("record: got %s %q, want failed saying nothing was changed", rec.Status, rec.Reason)
				}
			}
		})
	}
}

func TestRedeployingTheSameReleaseLeavesServicesAlone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.w.sideEffects())
	res, err := f.d.Deploy(context.Background(), DeployInput{Request: Request{Environment: "stage"}, Release: first.Release.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.w.sideEffects()[before:]; len(got) != 0 {
		t.Errorf("deploying what already runs changed AWS: %q", got)
	}
	for _, s := range res.Services {
		if s.Outcome != history.StatusSucceeded || !strings.Contains(s.Reason, "already runs") {
			t.Errorf("service %s: got %s %q, want succeeded, already runs", s.Service, s.Outcome, s.Reason)
		}
	}
}

func TestRollbackRedeploysThePreviousRelease(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range f.project.Images {
		f.w.push(img.Repository, sha("3333"+img.ID), "latest")
	}
	second, err := f.releaseDeploy("stage")
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.d.Rollback(context.Background(), RollbackInput{Request: Request{Environment: "stage"}})
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if res.Release.ID != first.Release.ID || res.Deployment.RollbackOf != second.Deployment.ID {
		t.Errorf("rollback: got release %s rollback of %s, want release %s rollback of %s",
			res.Release.ID, res.Deployment.RollbackOf, first.Release.ID, second.Deployment.ID)
	}
	if got := f.w.tagged("demo/api", "env.stage"); got != newDigest("api") {
		t.Errorf("demo/api:env.stage: got %s, want %s", got, newDigest("api"))
	}
}

func TestCancelledDeploymentClosesItsRecordAndFreesTheLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.w.onRedeploy = func(string) error { cancel(); return context.Canceled }
	res, err := f.d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: Request{Environment: "stage"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error: got %v, want context.Canceled", err)
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusCancelled {
		t.Errorf("record: got %s, want cancelled", rec.Status)
	}
	if lockHeld(f.store, "demo", "stage") {
		t.Error("the lock is still held after cancellation")
	}
}

func TestStatusReportsDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatal(err)
	}
	f.w.running["api|"+ecrHost+"demo/api"] = []string{newDigest("api"), oldDigest("api")}
	f.w.running["worker|"+ecrHost+"demo/worker"] = []string{newDigest("worker")}
	f.w.push("demo/nginx", sha("4444"), "env.stage")

	rep, err := f.d.Status(context.Background(), StatusInput{Environments: []string{"stage"}})
	if err != nil {
		t.Fatal(err)
	}
	es := rep.Environments[0]
	drift := strings.Join(es.Drift, "\n")
	for _, want := range []string{
		"demo/nginx:env.stage points at " + shortDigest(sha("4444")) + ", but release",
		"service api runs api " + shortDigest(oldDigest("api")) + ", not the recorded " + shortDigest(newDigest("api")),
	} {
		if !strings.Contains(drift, want) {
			t.Errorf("drift:\n%s\nlacks %q", drift, want)
		}
	}
	if strings.Contains(drift, "service worker") {
		t.Errorf("drift names worker, which runs its release:\n%s", drift)
	}
	if got := es.Services[1].Digests["worker"]; !slices.Equal(got, []string{newDigest("worker")}) {
		t.Errorf("worker digests: got %v, want %v", got, []string{newDigest("worker")})
	}
}

func TestHistoryIsNewestFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for range 2 {
		if _, err := f.releaseDeploy("stage"); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := f.d.History(context.Background(), HistoryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Releases) != 2 || len(rep.Deployments) != 2 || rep.Releases[0].ID < rep.Releases[1].ID {
		t.Errorf("history: got %d releases %d deployments, want 2 and 2 newest first", len(rep.Releases), len(rep.Deployments))
	}
}

// TestReleaseDeployAsksTheRegistryOnce: the label and the floating tag of
// each image are read together, once, under the lock; the plan and the
// tag moves reuse the answers.
func TestReleaseDeployAsksTheRegistryOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	var want []string
	for _, img := range f.project.Images {
		want = append(want, img.Repository+":latest", img.Repository+":env.stage")
	}
	f.w.mu.Lock()
	got := slices.Clone(f.w.asked)
	f.w.mu.Unlock()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("registry questions: got %q, want %q (each once)", got, want)
	}
}
