package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// dieWhileWaiting makes the process "die" once it waits for ECS: every
// service is updated and recorded as waiting, and every later store
// write fails.
func (f *fixture) dieWhileWaiting() {
	f.w.onWait = func() error {
		f.store.SetDead(true)
		return historytest.ErrDied
	}
}

func (f *fixture) deploy(relID string) (*Result, error) {
	return f.d.Deploy(context.Background(), DeployInput{
		Request: Request{Environment: "stage", RequestedBy: "ci"}, Release: relID})
}

// killed deploys rel with die set up, checks that the run died, and
// returns its record as it left it.
func (f *fixture) killed(rel *history.Release, die func()) *history.Deployment {
	f.t.Helper()
	die()
	res, err := f.deploy(rel.ID)
	if !errors.Is(err, historytest.ErrDied) {
		f.t.Fatalf("the dying run: got %v, want it to die", err)
	}
	dead := f.deployment(res.Deployment.ID)
	if dead.Status != history.StatusInProgress {
		f.t.Fatalf("the dead run's record: got %s, want in progress", dead.Status)
	}
	f.revive()
	return dead
}

// dieAsECSAccepts makes the process "die" just as ECS accepts the first
// service update: the update is made, but no store write succeeds after.
func (f *fixture) dieAsECSAccepts() {
	f.w.onRedeploy = func(string) error {
		f.store.SetDead(true)
		return nil
	}
}

// updates returns the services that UpdateService reached, from the
// side effects at index from on.
func (f *fixture) updates(from int) []string {
	var out []string
	for _, c := range f.w.sideEffects()[from:] {
		if name, ok := strings.CutPrefix(c, "UpdateService "); ok {
			out = append(out, strings.Fields(name)[0])
		}
	}
	slices.Sort(out)
	return out
}

// recorded returns the record's outcome of service name.
func recorded(t *testing.T, dep *history.Deployment, name string) history.ServiceOutcome {
	t.Helper()
	for _, so := range dep.Services {
		if so.Service == name {
			return so
		}
	}
	t.Fatalf("record %s has no service %s", dep.ID, name)
	return history.ServiceOutcome{}
}

// TestRerunAdoptsTheDeadRunsECSDeployment: a run dies while ECS rolls
// out the deployments it started. The re-run adopts each service's ECS
// deployment that ECS still rolls out, with no UpdateService, waits for
// it, and says so in its record and events; it starts a new deployment
// where ECS failed the dead run's, another deployment replaced it, the
// release differs, or the dead run's record names none.
func TestRerunAdoptsTheDeadRunsECSDeployment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		// die sets up how the first run dies; meanwhile changes ECS (or
		// the release) before the re-run; both may be nil.
		die       func(f *fixture)
		meanwhile func(f *fixture)
		rerunNew  bool // the re-run deploys a new release of latest
		adopted   []string
		updated   []string
		warning   string // a warning the re-run must emit
	}{
		{name: "in progress: adopted", adopted: []string{"api", "worker"}},
		{name: "completed while no run watched: adopted", adopted: []string{"api", "worker"},
			meanwhile: func(f *fixture) { f.w.ecsDeployment("demo-stage", "api").state = "COMPLETED" }},
		{name: "failed (circuit breaker): redeployed", updated: []string{"api", "worker"},
			meanwhile: func(f *fixture) {
				f.w.ecsDeployment("demo-stage", "api").state = "FAILED"
				f.w.ecsDeployment("demo-stage", "worker").state = "FAILED"
			},
			warning: "is not adopted: ECS marked it as failed (circuit breaker); it failed while no run watched it, so a new one starts"},
		{name: "replaced: redeployed", updated: []string{"api", "worker"},
			meanwhile: func(f *fixture) {
				f.w.ecsDeployment("demo-stage", "api").id = "ecs-svc/by-hand"
				f.w.ecsDeployment("demo-stage", "worker").id = "ecs-svc/by-hand"
			},
			warning: "is not adopted: it is gone or was replaced"},
		{name: "mixed: one adopted, one failed and redeployed", adopted: []string{"api"}, updated: []string{"worker"},
			meanwhile: func(f *fixture) { f.w.ecsDeployment("demo-stage", "worker").state = "FAILED" },
			warning:   "worker: ECS deployment ecs-svc/worker-"},
		// release-deploy makes a release per run: one with the same
		// digests is the same release.
		{name: "a new release of the same digests: adopted", rerunNew: true, adopted: []string{"api", "worker"}},
		// Only worker's digest differs: api's tags are at the release,
		// but the dead run deployed another one.
		{name: "another release: redeployed", rerunNew: true, updated: []string{"api", "worker"},
			meanwhile: func(f *fixture) { f.w.push("demo/worker", sha("2222worker"), "latest") }},
		// Killed as ECS accepted api's update, before the record could
		// say so: it says api was being updated, outcome unknown, and
		// names no ECS deployment.
		{name: "not in the dead run's record: redeployed", opts: []Option{WithConcurrency(1)},
			die: func(f *fixture) { f.dieAsECSAccepts() }, updated: []string{"api", "worker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.opts...)
			rel := f.prepare()
			die := f.dieWhileWaiting
			if tc.die != nil {
				die = func() { tc.die(f) }
			}
			dead := f.killed(rel, die)
			if tc.meanwhile != nil {
				tc.meanwhile(f)
			}
			if tc.rerunNew {
				rel = f.prepare()
			}
			before := len(f.w.sideEffects())
			res, err := f.deploy(rel.ID)
			if err != nil || res.Status != history.StatusSucceeded {
				t.Fatalf("re-run: got %v, %s; want success", err, res.Status)
			}
			if got := f.updates(before); !slices.Equal(got, tc.updated) {
				t.Errorf("services the re-run updated: got %v, want %v", got, tc.updated)
			}
			rec := f.deployment(res.Deployment.ID)
			if rec.Resumes != dead.ID {
				t.Errorf("re-run resumes %q, want %s", rec.Resumes, dead.ID)
			}
			for _, name := range tc.adopted {
				x := recorded(t, dead, name).ECSDeployment
				so := recorded(t, rec, name)
				want := "adopted ECS deployment " + x + " from deployment " + dead.ID
				if x == "" || so.ECSDeployment != x || so.AdoptedFrom != dead.ID || so.Outcome != history.StatusSucceeded || !strings.HasPrefix(so.Reason, want) {
					t.Errorf("re-run's record of %s: got %+v; want ECS deployment %q adopted from %s, succeeded, saying %q", name, so, x, dead.ID, want)
				}
				if !hasEvent(f.events, event.ServiceUpdated, name+": "+want) {
					t.Errorf("no ServiceUpdated event says %q", name+": "+want)
				}
			}
			for _, name := range tc.updated {
				so := recorded(t, rec, name)
				if so.AdoptedFrom != "" || so.ECSDeployment == recorded(t, dead, name).ECSDeployment || so.Outcome != history.StatusSucceeded {
					t.Errorf("re-run's record of %s: got %+v; want a new ECS deployment, not adopted, succeeded", name, so)
				}
			}
			if n := len(f.w.adoptions()); n != len(tc.adopted) {
				t.Errorf("adoptions: got %d, want %d", n, len(tc.adopted))
			}
			if tc.warning != "" && !hasEvent(f.events, event.Warning, tc.warning) {
				t.Errorf("no warning says %q: %v", tc.warning, f.events.OfKind(event.Warning))
			}
			dead = f.deployment(dead.ID)
			if dead.Status != history.StatusFailed || !strings.Contains(dead.Reason, "abandoned") {
				t.Errorf("dead record after the re-run: got %s %q, want failed, abandoned", dead.Status, dead.Reason)
			}
		})
	}
}

// TestRerunAdoptsThePinnedRevision: with the task-definition strategy,
// the dead run registered a revision pinning the release's digests and
// deployed it; the re-run adopts the ECS deployment running that
// revision, and registers and updates nothing. When the service has
// since been pointed at another revision, it redeploys.
func TestRerunAdoptsThePinnedRevision(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		changed bool // the service runs another revision since
		adopted bool
	}{
		{"runs the registered revision: adopted", false, true},
		{"runs another revision: redeployed", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.project.Environments[0].Strategy = manifest.StrategyTaskDefinition
			rel := f.prepare()
			dead := f.killed(rel, f.dieWhileWaiting)
			if tc.changed {
				f.w.mu.Lock()
				f.w.services["demo-stage/api"].TaskDefinition = "api:99"
				f.w.mu.Unlock()
			}
			before := len(f.w.sideEffects())
			res, err := f.deploy(rel.ID)
			if err != nil || res.Status != history.StatusSucceeded {
				t.Fatalf("re-run: got %v, %s; want success", err, res.Status)
			}
			so := recorded(t, f.deployment(res.Deployment.ID), "api")
			x := recorded(t, dead, "api")
			if adopted := so.AdoptedFrom == dead.ID && so.ECSDeployment == x.ECSDeployment && so.TaskDefinition == x.TaskDefinition; adopted != tc.adopted {
				t.Errorf("re-run's record of api: got %+v; want adopted %v (the dead run deployed %s with %s)", so, tc.adopted, x.ECSDeployment, x.TaskDefinition)
			}
			var calls []string
			for _, c := range f.w.sideEffects()[before:] {
				if strings.Contains(c, " api") {
					calls = append(calls, c)
				}
			}
			if tc.adopted != (len(calls) == 0) {
				t.Errorf("calls for api in the re-run: got %q, want none only when adopted", calls)
			}
		})
	}
}

// TestRerunOfARunRollingBackDoesNotAdopt: a run that judged its rollout
// failed and died rolling it back leaves ECS deployments its record
// names; the re-run does not follow them, even where ECS still rolls
// them out and the tags point at the release, but deploys again.
func TestRerunOfARunRollingBackDoesNotAdopt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rel := f.prepare()
	f.w.failRollout["api"] = "tasks stopped: CannotPullContainerError"
	// The rollback dies moving the tags back, leaving them at the release.
	f.w.beforeChange = func(what string) {
		if what == "PutImage" && f.w.ecsDeployment("demo-stage", "api") != nil {
			f.store.SetDead(true)
		}
	}
	first, err := f.deployRollingBack(rel.ID)
	if err == nil {
		t.Fatalf("the dying run: got %v, want it to die rolling back", err)
	}
	f.w.beforeChange = nil
	f.revive()
	dead := f.deployment(first.Deployment.ID)
	if !strings.HasPrefix(dead.Reason, rollingBackPrefix) {
		t.Fatalf("the dead record: got %s %q, want it rolling back", dead.Status, dead.Reason)
	}
	// Leave ECS and the tags as they would be had it died just before
	// moving the tags back: nothing but the record's reason then says
	// not to follow the deployments it names.
	for _, img := range f.project.Images {
		f.w.push(img.Repository, newDigest(img.ID), "env.stage")
	}
	for _, so := range dead.Services {
		*f.w.ecsDeployment("demo-stage", so.Service) = fakeECSDeployment{id: so.ECSDeployment, taskDefinition: so.TaskDefinition, state: "IN_PROGRESS"}
	}
	before := len(f.w.sideEffects())
	if _, err := f.deploy(rel.ID); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if got, want := f.updates(before), []string{"api", "worker"}; !slices.Equal(got, want) || len(f.w.adoptions()) != 0 {
		t.Errorf("re-run: updated %v, adopted %v; want %v updated, none adopted", got, f.w.adoptions(), want)
	}
}

func hasEvent(r *event.Recorder, k event.Kind, substr string) bool {
	for _, e := range r.OfKind(k) {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}
