//go:build integration

package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// script is what ECS plays for one service whose task definition is td:
// one Script per UpdateService, the last repeating.
type script func(td string) []ecsfake.Script

// scriptedECS plays the fixture's services on the scripted ECS server,
// for the tests whose rollouts moto cannot play (slow, failing, rolled
// back). It returns the server and the ECS endpoint to give the CLI
// (AWS_ENDPOINT_URL_ECS): the rollout's calls go to the scripted server,
// DescribeTaskDefinition to moto, which holds the task definitions the
// fixture registered; ECR and DynamoDB stay on moto.
func scriptedECS(ctx context.Context, t *testing.T, f *deployfixture.Fixture, s script) (*ecsfake.Server, string) {
	t.Helper()
	var services []ecsfake.Service
	for name, deps := range f.ECSDeployments(ctx, t) {
		td := deps[0].TaskDefinition
		rs := s(*td)
		services = append(services, ecsfake.Service{Name: name, TaskDefinition: *td, DesiredCount: 2,
			Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment("ecs-svc/0", "PRIMARY", *td, 2, "COMPLETED")}, RunningCount: 2},
			Update: rs[0].Update, Frames: rs[0].Frames, Then: rs[1:]})
	}
	fake := ecsfake.New(t, ecsfake.Unsupported, services...)
	return fake, fake.WithTaskDefinitionsAt(t, awstest.Endpoint(t))
}

// ecsDeployment is an ECS deployment of a fixture service (2 tasks).
func ecsDeployment(id, status, td string, running int32, state string) ecsfake.Deployment {
	return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: td, DesiredCount: 2, RunningCount: running,
		RolloutState: state, CreatedAt: ecsfake.At(0)}
}

// rollingOut is deployment id rolling out: ECS answers the update with
// it, and it stays in progress (1 of 2 tasks running) for polls polls,
// then completes; with polls < 0 it never completes.
func rollingOut(td, id string, polls int) ecsfake.Script {
	old := ecsDeployment("ecs-svc/0", "ACTIVE", td, 2, "COMPLETED")
	progress := ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment(id, "PRIMARY", td, 1, "IN_PROGRESS"), old}, RunningCount: 3}
	r := ecsfake.Script{Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment(id, "PRIMARY", td, 0, "IN_PROGRESS"), old}, RunningCount: 2}}
	for range max(polls, 1) {
		r.Frames = append(r.Frames, progress)
	}
	if polls >= 0 {
		r.Frames = append(r.Frames, ecsfake.Frame{Deployments: []ecsfake.Deployment{ecsDeployment(id, "PRIMARY", td, 2, "COMPLETED")}, RunningCount: 2})
	}
	return r
}

// failing is deployment id failed by the circuit breaker at the first
// poll, which rolls the service back to the previous deployment.
func failing(td, id string) ecsfake.Script {
	r := rollingOut(td, id, 0)
	ours := ecsDeployment(id, "ACTIVE", td, 0, "FAILED")
	ours.FailedTasks = 3
	ours.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	r.Frames = []ecsfake.Frame{{Deployments: []ecsfake.Deployment{ecsDeployment(id+"-rollback", "PRIMARY", td, 0, "IN_PROGRESS"), ours}, RunningCount: 2,
		Tasks: []ecsfake.Task{{TaskArn: "arn:aws:ecs:" + awstest.Region + ":" + awstest.AccountID + ":task/" + ecsfake.Cluster + "/" + strings.ReplaceAll(id, "/", "-"),
			StartedBy: id, LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "TaskFailedToStart",
			StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"}}}}
	return r
}

// waitFor waits until cond holds, checking it again each time changed
// (the channel of the fake that sees what cond reads: a proxy's or the
// scripted ECS's Changed) fires. It fails the test at once, with what r
// said, if r exits first, and calls r hung after hangGuard.
func waitFor(t *testing.T, r *run, what string, changed func() <-chan struct{}, cond func() bool) {
	t.Helper()
	guard := time.After(hangGuard)
	for {
		next := changed() // before checking, so that no change is missed
		if cond() {
			return
		}
		select {
		case <-next:
		case <-r.exited:
			if cond() {
				return
			}
			t.Fatalf("buoy exited before %s\n%s", what, r.output())
		case <-guard:
			_ = r.cmd.Process.Kill()
			<-r.exited // its output is complete
			t.Fatalf("buoy never got to %s within %s\n%s", what, hangGuard, r.output())
		}
	}
}
