//go:build integration

package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestKilledWhileECSRollsOut: ECS (the scripted server) is slowly rolling
// out the deployments buoy started, and buoy is polling them, when the
// run is killed (SIGKILL). Its record says what it was waiting for. Once
// its 3s lease has run out, the re-run takes over. Where ECS still rolls
// the dead run's deployment out, the re-run adopts it: no second
// UpdateService, it follows ecs-svc/1 to completion, and its record says
// it adopted it from the dead run. Where the circuit breaker rolled it
// back while no run watched, the re-run says so and starts ecs-svc/2.
// The history shows both runs truthfully.
func TestKilledWhileECSRollsOut(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	for _, tc := range []struct {
		name string
		// meanwhile is what ECS does with the dead run's deployment of
		// a service running td while no run watches it.
		meanwhile func(td string) []ecsfake.Frame
		adopted   bool
		want      []string // in the re-run's output
	}{
		{"still rolling out: adopted", func(td string) []ecsfake.Frame { return rollingOut(td, "ecs-svc/1", 2).Frames }, true,
			[]string{"adopted ECS deployment ecs-svc/1 from deployment", "ecs-svc/1 completed"}},
		{"rolled back by the circuit breaker: redeployed", func(td string) []ecsfake.Frame { return failing(td, "ecs-svc/1").Frames }, false,
			[]string{"ECS deployment ecs-svc/1, started by deployment", "is not adopted: ECS marked it as failed (ECS deployment circuit breaker: tasks failed to start.); it failed while no run watched it",
				"new ECS deployment ecs-svc/2", "ecs-svc/2 completed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
			fake, ecsURL := scriptedECS(ctx, t, f, func(td string) []ecsfake.Script {
				return []ecsfake.Script{rollingOut(td, "ecs-svc/1", -1), rollingOut(td, "ecs-svc/2", 2)}
			})
			ecsEnv := "AWS_ENDPOINT_URL_ECS=" + ecsURL
			first := start(t, bin, cliEnv(t, awstest.Endpoint(t), "first-run", slices.Concat(deadRunCI, []string{ecsEnv})...),
				deployArgs(f, "--lock-ttl", "3s")...)
			waitFor(t, first, "its third poll of each service in progress", fake.Changed, func() bool {
				for _, img := range f.Images {
					if fake.Polls(img.Service) < 3 {
						return false
					}
				}
				return true
			})
			dying := f.Deployments(ctx, t)
			first.kill(t)
			contains(t, "the killed run's output", first.output(), "ecs-svc/1 PRIMARY IN_PROGRESS: 1/2 running")
			if len(dying) != 1 {
				t.Fatalf("history while ECS rolls out: got %d records, want the run's own", len(dying))
			}
			for _, so := range dying[0].Services {
				if so.ECSDeployment != "ecs-svc/1" || so.Outcome != history.StatusInProgress {
					t.Errorf("record of %s while ECS rolls it out: ECS deployment %q, %s; want ecs-svc/1, in progress", so.Service, so.ECSDeployment, so.Outcome)
				}
				fake.Continue(so.Service, tc.meanwhile(so.TaskDefinition)...)
			}

			second := start(t, bin, cliEnv(t, awstest.Endpoint(t), "second-run", ecsEnv), deployArgs(f)...)
			if code := second.wait(t); code != 0 {
				t.Fatalf("re-run: exit %d, want 0\n%s", code, second.output())
			}
			contains(t, "the re-run's output", second.output(), append([]string{"took over the lock of " + deadRunBy}, tc.want...)...)
			rerun, dead := rerunAndDead(ctx, t, f, history.StatusSucceeded)
			wantECS, wantFrom, wantUpdates := "ecs-svc/2", "", 2
			if tc.adopted {
				wantECS, wantFrom, wantUpdates = "ecs-svc/1", dead.ID, 1
			}
			for _, so := range rerun.Services {
				if so.ECSDeployment != wantECS || so.AdoptedFrom != wantFrom || so.Outcome != history.StatusSucceeded {
					t.Errorf("re-run's record of %s: ECS deployment %q adopted from %q, %s; want %s adopted from %q, succeeded",
						so.Service, so.ECSDeployment, so.AdoptedFrom, so.Outcome, wantECS, wantFrom)
				}
				if tc.adopted && !strings.HasPrefix(so.Reason, "adopted ECS deployment ecs-svc/1 from deployment "+dead.ID) {
					t.Errorf("re-run's record of %s: reason %q, want it to say it adopted ecs-svc/1 from %s", so.Service, so.Reason, dead.ID)
				}
			}
			for _, so := range dead.Services {
				if so.ECSDeployment != "ecs-svc/1" {
					t.Errorf("killed run's record of %s: ECS deployment %q, want ecs-svc/1", so.Service, so.ECSDeployment)
				}
			}
			for _, img := range f.Images {
				if n := len(fake.Updates(img.Service)); n != wantUpdates {
					t.Errorf("%s: %d UpdateService calls over both runs, want %d", img.Service, n, wantUpdates)
				}
				if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.New {
					t.Errorf("%s:%s after the re-run: %s, want the release's %s", img.Repository, deployfixture.FloatingTag, got, img.New)
				}
			}
			if cur, err := f.Store().GetCurrent(ctx, f.Project, deployfixture.Environment); err != nil || cur.DeploymentID != rerun.ID {
				t.Errorf("current record: got %+v, %v; want the re-run %s", cur, err, rerun.ID)
			}
		})
	}
}

// TestKilledWhileRollingBack: a release-deploy --rollback whose rollout
// ECS fails is killed (SIGKILL) while rolling back: while it moves the
// tag back (stalled in PutImage on moto), or while it redeploys the
// service (stalled in UpdateService on the scripted ECS). Its record says
// it was rolling back, and why. The re-run (the same command) deploys the
// release again; ECS fails it again, and it rolls back: the tag ends at
// the digest from before the killed run, even when that run had left it
// at the release; the killed run's record is closed as abandoned, saying
// it was rolling back and naming the re-run, whose record is rolled back.
//
// Nothing here depends on timing: the test waits on what the fakes saw
// (the stalled call, which never goes on by itself, so the kill lands
// after the record said "rolling back after:" and before the rollback's
// call; the one update ECS got; where the tag was left), and the re-run's
// waits for ECS end by the scripted ECS, not by a timeout.
func TestKilledWhileRollingBack(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	stages := []struct {
		name string
		ecs  bool   // the stalled call goes to ECS, not to moto
		op   string // the call of the rollback the run is stuck in
		// movedBack: the killed run had moved the tag back (it is stuck
		// after that), so the tag is at the old digest, not the new.
		movedBack bool
	}{
		{"moving tags back", false, "PutImage", false},
		{"redeploying back", true, "UpdateService", true},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1})
			fake, ecsURL := scriptedECS(ctx, t, f, func(td string) []ecsfake.Script {
				return []ecsfake.Script{failing(td, "ecs-svc/1"), failing(td, "ecs-svc/2"), rollingOut(td, "ecs-svc/3", 1)}
			})
			var p *faultproxy.Proxy // stalls the second call of op: the rollback's
			aws := proxy(t)
			if st.ecs {
				p = proxyFor(t, ecsURL, stall(st.op, 1)...)
				ecsURL = p.URL()
			} else {
				p = proxyFor(t, awstest.Endpoint(t), stall(st.op, 1)...)
				aws = p
			}
			env := func(user string, extra ...string) []string {
				return cliEnv(t, aws.URL(), user, slices.Concat(extra, []string{"AWS_ENDPOINT_URL_ECS=" + ecsURL})...)
			}
			// Everything below waits on what the fakes saw, never on time:
			// the stalled call never goes on by itself, so the killed run
			// did exactly what it had done when it was stuck.
			// A 10s lease, not the 3s of the other kills: the record is
			// read after the stall, and a run whose renewals a loaded
			// machine (-race, every package at once) holds up for 3s
			// can lose its lock and close its record before the test
			// reads it (the likeliest reading of the one failure seen,
			// in a full -race run). The re-run waits for the lease to
			// run out.
			first := start(t, bin, env("first-run", deadRunCI...), deployArgs(f, "--rollback", "--lock-ttl", "10s")...)
			waitForStall(t, p, first)
			dying := f.Deployments(ctx, t)
			first.kill(t)
			if len(dying) != 1 || dying[0].Status != history.StatusInProgress || !strings.HasPrefix(dying[0].Reason, "rolling back after: ") ||
				!strings.Contains(dying[0].Reason, "circuit breaker") {
				t.Fatalf("record of the run rolling back: got %s; want one in progress, rolling back after the circuit breaker's failure", records(dying))
			}
			img := f.Images[0]
			if n := len(fake.Updates(img.Service)); n != 1 {
				t.Fatalf("UpdateService calls that reached ECS from the killed run: %d, want 1 (forward; its rollback's is stalled or not made)", n)
			}
			wantTag := img.New
			if st.movedBack {
				wantTag = img.Old
			}
			if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != wantTag {
				t.Fatalf("%s:%s when the run was killed: %s, want %s", img.Repository, deployfixture.FloatingTag, got, wantTag)
			}

			// The re-run's waits for ECS are its own: no time limit that a
			// loaded machine could reach (the scripted ECS ends them).
			p.SetRate(0)
			second := start(t, bin, env("second-run"), deployArgs(f, "--rollback", "--timeout", "30m")...)
			if code := second.wait(t); code != 1 {
				// Say how many updates reached ECS: more than 3 means the
				// killed run's stalled call got through after all, and the
				// re-run played a later script than the one meant for it.
				t.Fatalf("re-run: exit %d, want 1 (the rollout failed again, rolled back); %d updates reached ECS\n%s",
					code, len(fake.Updates(f.Images[0].Service)), second.output())
			}
			contains(t, "the re-run's output", second.output(), "took over the lock of "+deadRunBy,
				"started by "+deadRunBy+", was left in progress", "rolling back to what ran before")
			_, dead := rerunAndDead(ctx, t, f, history.StatusRolledBack)
			for _, want := range []string{"rolling back after: ", "circuit breaker"} {
				if !strings.Contains(dead.Reason, want) {
					t.Errorf("killed run's record: reason %q, want it to say %q", dead.Reason, want)
				}
			}
			if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.Old {
				t.Errorf("%s:%s after the re-run's rollback: %s, want %s (from before the killed run)", img.Repository, deployfixture.FloatingTag, got, img.Old)
			}
			if n := len(fake.Updates(img.Service)); n != 3 {
				t.Errorf("UpdateService calls that reached ECS: %d, want 3 (killed run forward; re-run forward and back)", n)
			}
			if _, err := f.Store().GetCurrent(ctx, f.Project, deployfixture.Environment); !errors.Is(err, history.ErrNotFound) {
				t.Errorf("current record: %v, want none: the release never ran", err)
			}
		})
	}
}

// rerunAndDead returns the history's two records, the re-run's (which
// must have ended with status and resume the other) and the killed
// run's (which must be closed as failed, abandoned, naming the re-run).
func rerunAndDead(ctx context.Context, t *testing.T, f *deployfixture.Fixture, status history.Status) (rerun, dead *history.Deployment) {
	t.Helper()
	deps := f.Deployments(ctx, t)
	if len(deps) != 2 {
		t.Fatalf("history: got %d records, want the killed run's and the re-run's", len(deps))
	}
	rerun, dead = deps[0], deps[1]
	if rerun.Status != status || rerun.Resumes != dead.ID || !strings.HasPrefix(rerun.RequestedBy, "second-run") {
		t.Errorf("re-run's record: status %s, resumes %q, by %s; want %s, resuming %s, by second-run", rerun.Status, rerun.Resumes, rerun.RequestedBy, status, dead.ID)
	}
	if dead.Status != history.StatusFailed || dead.FinishedAt.IsZero() || !strings.Contains(dead.Reason, "abandoned") || !strings.Contains(dead.Reason, rerun.ID) {
		t.Errorf("killed run's record: status %s, reason %q; want failed, abandoned, naming %s", dead.Status, dead.Reason, rerun.ID)
	}
	return rerun, dead
}

// records describes deployment records for a failure message: each one's
// id, status and reason (a %+v of the pointers says nothing).
func records(deps []*history.Deployment) string {
	var b strings.Builder
	for i, d := range deps {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s %s %q", d.ID, d.Status, d.Reason)
	}
	return "[" + b.String() + "]"
}
