package rollout_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

const backID = "ecs-svc/3333"

// backTo is the script of a rollback to td that completes after one poll
// in progress.
func backTo(td string) ecsfake.Script {
	return ecsfake.Script{
		Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(backID, "PRIMARY", td, 0, 0, "IN_PROGRESS"), dep(ourID, "ACTIVE", tdNew, 1, 0, "IN_PROGRESS")}, RunningCount: 1},
		Frames: []ecsfake.Frame{
			{Deployments: []ecsfake.Deployment{dep(backID, "PRIMARY", td, 1, 0, "IN_PROGRESS"), dep(ourID, "ACTIVE", tdNew, 1, 0, "IN_PROGRESS")}, RunningCount: 2},
			{Deployments: []ecsfake.Deployment{dep(backID, "PRIMARY", td, 2, 0, "COMPLETED")}, RunningCount: 2},
		},
	}
}

// deployed redeploys service name on srv as in (the forward deployment a
// rollback undoes) and returns the Rollout and its handle.
func deployed(t *testing.T, srv *ecsfake.Server, name string, in rollout.RedeployInput) (*rollout.Rollout, rollout.Handle) {
	t.Helper()
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	return r, redeployed(t, r, name, in)
}

func scriptedApp(name, td string, then ...ecsfake.Script) ecsfake.Service {
	return ecsfake.Service{Name: name, TaskDefinition: td, DesiredCount: 2, Before: before, Update: updateResp,
		Frames: []ecsfake.Frame{rolledBack()}, Then: then}
}

func TestRollbackRedeploysWhatRanBefore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   rollout.RedeployInput
		// wantTD is the task definition the rollback asks for.
		wantTD string
	}{
		// task-definition strategy: back to the previous revision.
		{"previous task definition", rollout.RedeployInput{TaskDefinition: tdNew}, tdOld},
		// tag strategy: the same revision, redeployed so that ECS pulls
		// the digests the floating tags were moved back to.
		{"same task definition, previous digests", rollout.RedeployInput{}, tdOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, ecsfake.Supported, scriptedApp("app", tdOld, backTo(tc.wantTD)))
			r, h := deployed(t, srv, "app", tc.in)
			back, res, err := r.Rollback(context.Background(), []rollout.Handle{h}, time.Hour)
			if err != nil {
				t.Fatalf("Rollback: %v", err)
			}
			if len(back) != 1 || back[0].DeploymentID != backID || back[0].TaskDefinition != tc.wantTD || back[0].PreviousDeploymentID != ourID {
				t.Errorf("handles: got %+v, want deployment %s of %s following %s", back, backID, tc.wantTD, ourID)
			}
			if len(res) != 1 || res[0].Outcome != rollout.Succeeded || res[0].Polls != 2 {
				t.Errorf("results: got %+v, want succeeded after 2 polls", res)
			}
			ups := srv.Updates("app")
			if len(ups) != 2 {
				t.Fatalf("UpdateService calls: got %d, want 2 (forward, back)", len(ups))
			}
			if got := ups[1]; got["taskDefinition"] != tc.wantTD || got["forceNewDeployment"] != true || got["desiredCount"] != nil {
				t.Errorf("rollback's UpdateService: got %v, want taskDefinition %s, forceNewDeployment, the desired count unchanged", got, tc.wantTD)
			}
		})
	}
}

func TestRollbackRestoresTheDesiredCount(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, scriptedApp("app", tdOld, backTo(tdOld)))
	r, h := deployed(t, srv, "app", rollout.RedeployInput{TaskDefinition: tdNew})
	h.DesiredCount, h.PreviousDesiredCount = 4, 2 // the forward deployment scaled 2 -> 4
	if _, _, err := r.Rollback(context.Background(), []rollout.Handle{h}, time.Hour); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := srv.Updates("app")[1]["desiredCount"]; got != float64(2) {
		t.Errorf("rollback's desiredCount: got %v, want 2", got)
	}
}

// TestRollbackGoesOnPastAServiceItCannotRollBack rolls back three
// services: one works, one has no known previous task definition, one
// was deleted. The one that can is rolled back and waited for; the error
// names each of the others and why.
func TestRollbackGoesOnPastAServiceItCannotRollBack(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, scriptedApp("app", tdOld, backTo(tdOld)), scriptedApp("worker", tdOld, backTo(tdOld)))
	r, h := deployed(t, srv, "app", rollout.RedeployInput{TaskDefinition: tdNew})
	unknown := h
	unknown.Service, unknown.ServiceARN, unknown.PreviousTaskDefinition = "worker", ecsfake.ServiceARN("worker"), ""
	deleted := h
	deleted.Service, deleted.ServiceARN = "gone", ecsfake.ServiceARN("gone")

	back, res, err := r.Rollback(context.Background(), []rollout.Handle{h, unknown, deleted}, time.Hour)
	if len(back) != 1 || back[0].Service != "app" || len(res) != 1 || res[0].Outcome != rollout.Succeeded {
		t.Errorf("rolled back: got %+v / %+v, want app alone, succeeded", back, res)
	}
	for _, want := range []string{
		"roll back service worker: its previous task definition is unknown",
		"redeploy service gone in cluster " + ecsfake.ClusterARN(),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error: got %v, want it to say %q", err, want)
		}
	}
	var nf *types.ServiceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("error: got %v, want it to keep ECS's ServiceNotFoundException", err)
	}
	if n := len(srv.Updates("worker")); n != 0 {
		t.Errorf("worker: %d UpdateService calls, want 0", n)
	}
}

// TestRollbackThatFailsSaysSo: the rollback's own deployment is rolled
// back by the circuit breaker; the error says the rollback failed and
// carries the *ServiceError.
func TestRollbackThatFailsSaysSo(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, scriptedApp("app", tdOld, ecsfake.Script{Update: updateResp, Frames: []ecsfake.Frame{rolledBack()}}))
	r, h := deployed(t, srv, "app", rollout.RedeployInput{TaskDefinition: tdNew})
	_, res, err := r.Rollback(context.Background(), []rollout.Handle{h}, time.Hour)
	var se *rollout.ServiceError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), "roll back: ") || len(res) != 1 || res[0].Outcome == rollout.Succeeded {
		t.Errorf("Rollback: got %v (results %+v), want a failed rollback carrying a *ServiceError", err, res)
	}
}
