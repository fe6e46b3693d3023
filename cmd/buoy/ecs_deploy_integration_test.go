//go:build integration

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestCLIECSDeployRollback: the new revision's rollout is stopped by the
// circuit breaker; with --enable-rollback buoy puts the service back on
// the revision it ran, waits for that, and says so; without it, it only
// reports the failure.
func TestCLIECSDeployRollback(t *testing.T) {
	t.Parallel()
	for _, rollback := range []bool{true, false} {
		t.Run(map[bool]string{true: "enabled", false: "disabled"}[rollback], func(t *testing.T) {
			t.Parallel()
			testECSDeployRollback(t, rollback)
		})
	}
}

func testECSDeployRollback(t *testing.T, enable bool) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	family, repo := awstest.Name(t, "api"), awstest.Name(t, "shop/api")
	motoECS := ecs.NewFromConfig(cfg)
	td, err := motoECS.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("api"), Image: aws.String(deployfixture.URI(repo) + ":ref." + deployfixture.OldCommit), Memory: aws.Int32(512), Essential: aws.Bool(true)},
			{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), Memory: aws.Int32(64)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	td1 := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	td2 := strings.TrimSuffix(td1, ":1") + ":2" // what ecs-deploy will register

	dep := func(id, status, taskDef string, running, failed int32, state, reason string) ecsfake.Deployment {
		return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: taskDef, DesiredCount: 2, RunningCount: running,
			FailedTasks: failed, RolloutState: state, RolloutStateReason: reason, CreatedAt: ecsfake.At(0)}
	}
	old := dep("ecs-svc/0000", "PRIMARY", td1, 2, 0, "COMPLETED", "")
	oldActive := old
	oldActive.Status = "ACTIVE"
	ours := dep("ecs-svc/1111", "PRIMARY", td2, 0, 0, "IN_PROGRESS", "")
	failed := dep("ecs-svc/1111", "ACTIVE", td2, 0, 3, "FAILED", "ECS deployment circuit breaker: tasks failed to start.")
	// The first update (to revision 2) is stopped by the circuit breaker;
	// the second, the rollback to revision 1, completes.
	back := dep("ecs-svc/3333", "PRIMARY", td1, 0, 0, "IN_PROGRESS", "")
	backDone := dep("ecs-svc/3333", "PRIMARY", td1, 2, 0, "COMPLETED", "")
	fake := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
		Name: "api", TaskDefinition: td1, DesiredCount: 2,
		Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{old}, RunningCount: 2},
		Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{ours, oldActive}, RunningCount: 2},
		Frames: []ecsfake.Frame{{Deployments: []ecsfake.Deployment{oldActive, failed}, RunningCount: 2, Tasks: []ecsfake.Task{{
			TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/t1", StartedBy: "ecs-svc/1111",
			LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "TaskFailedToStart",
			StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found",
		}}}},
		Then: []ecsfake.Script{{
			Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{back, failed}, RunningCount: 0},
			Frames: []ecsfake.Frame{{Deployments: []ecsfake.Deployment{backDone}, RunningCount: 2}},
		}},
	})

	// Task definitions live in moto (really registered, revisions and
	// all); the service is played by the scripted server.
	e := &cliEnv{t: t, cfg: cfg}
	e.cfg.BaseEndpoint = aws.String(fake.WithTaskDefinitionsAt(t, awstest.Endpoint(t)))
	args := []string{"ecs-deploy", "-c", ecsfake.Cluster, "-n", "api", "-i", deployfixture.URI(repo), "-e", "GIT_TAG", "-t", "60", "--max-definitions", "1"}
	if enable {
		args = append(args, "--enable-rollback")
	}
	e.env = map[string]string{"GIT_TAG": "ref." + deployfixture.NewCommit}
	var res struct {
		TaskDefinition, PreviousTaskDefinition, ECSDeployment, Reason string
		Outcome                                                       history.Status
		Stats                                                         map[string]int
	}
	code := e.runJSON(&res, args...)

	if code != exitcode.Failed {
		t.Errorf("exit: got %d, want %d (the deployment failed)", code, exitcode.Failed)
	}
	wantOutcome := map[bool]history.Status{true: history.StatusRolledBack, false: history.StatusFailed}[enable]
	if res.Outcome != wantOutcome || res.TaskDefinition != td2 || res.PreviousTaskDefinition != td1 || res.ECSDeployment != "ecs-svc/1111" {
		t.Errorf("result: got %+v; want %s from %s to %s in ecs-svc/1111", res, wantOutcome, td1, td2)
	}
	// --max-definitions cleans up after a success only: nothing here.
	if n := res.Stats["ECS.ListClusters"] + res.Stats["ECS.DeregisterTaskDefinition"]; n != 0 {
		t.Errorf("after a failed rollout: %d ListClusters and DeregisterTaskDefinition calls (%v), want none", n, res.Stats)
	}
	if !strings.Contains(res.Reason, "circuit breaker") || !strings.Contains(res.Reason, "CannotPullContainerError") {
		t.Errorf("reason %q does not say what happened", res.Reason)
	}

	// The new revision is really registered in moto: the image's
	// container points at the new tag, the sidecar is untouched.
	out, err := motoECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td2)})
	if err != nil {
		t.Fatalf("read the new revision %s: %v", td2, err)
	}
	images := map[string]string{}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		images[aws.ToString(c.Name)] = aws.ToString(c.Image)
	}
	if images["api"] != deployfixture.URI(repo)+":ref."+deployfixture.NewCommit || !strings.HasSuffix(images["log-router"], "fluent-bit:stable") {
		t.Errorf("revision 2 runs %v, want api on ref.%s and the log router as it was", images, deployfixture.NewCommit)
	}

	// ECS saw the update to revision 2, and with rollback enabled only, an
	// update back to revision 1.
	ups := fake.Updates("api")
	if len(ups) == 0 || ups[0]["taskDefinition"] != td2 {
		t.Fatalf("updates: got %v, want the first to %s", ups, td2)
	}
	backs := ups[1:]
	switch {
	case enable && (len(backs) != 1 || backs[0]["taskDefinition"] != td1 || backs[0]["forceNewDeployment"] != true):
		t.Errorf("rollback updates: got %v, want one forced update to %s", backs, td1)
	case !enable && len(backs) != 0:
		t.Errorf("without --enable-rollback, got rollback updates %v", backs)
	}
}
