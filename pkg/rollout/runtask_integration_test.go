//go:build integration

package rollout_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestMotoRunTaskOnFargate runs a one-off Fargate task on moto and waits
// for it: moto starts it (read back with DescribeTasks: on Fargate,
// started by buoy, of the family's latest revision), walks it to STOPPED
// one DescribeTasks at a time, and reports its container exited 0.
//
// moto (5.2.5) cannot run a task of the awsvpc network mode (its
// RunTask fails making the network interface's details) and gives every
// task definition that requires Fargate that mode, so this one requires
// nothing and keeps the bridge mode, which Fargate would refuse; the
// network configuration RunTask is given is checked against the
// scripted server (TestRunTaskRequest).
func TestMotoRunTaskOnFargate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	client := ecs.NewFromConfig(cfg)
	cluster, family := awstest.Name(t, "tasks"), awstest.Name(t, "migrate")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatal(err)
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("repo/app:v2"), Essential: aws.Bool(true),
			Memory: aws.Int32(512)}}, // moto's RunTask sums the containers' memory
	})
	if err != nil {
		t.Fatal(err)
	}

	r := rollout.New(client, rollout.WithClock(clocktest.NewAuto(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))))
	task, err := r.StartTask(ctx, rollout.TaskInput{Cluster: cluster, TaskDefinition: family, LaunchType: "FARGATE"})
	if err != nil {
		t.Fatalf("StartTask: %v", err)
	}
	if want := aws.ToString(td.TaskDefinition.TaskDefinitionArn); task.TaskDefinition != want {
		t.Errorf("task runs %s, want %s", task.TaskDefinition, want)
	}
	res, err := r.WaitTask(ctx, task, 0)
	if err != nil || res.Outcome != rollout.Succeeded || res.LastStatus != "STOPPED" {
		t.Fatalf("WaitTask: got %s (%s), %v; want succeeded", res.Outcome, res.Diagnosis, err)
	}
	if len(res.Containers) != 1 || res.Containers[0].Name != "app" || !res.Containers[0].Essential {
		t.Errorf("containers: got %+v, want the essential app", res.Containers)
	}

	out, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: []string{task.ARN}})
	if err != nil || len(out.Tasks) != 1 {
		t.Fatalf("describe the task: %v", err)
	}
	if got := out.Tasks[0]; got.LaunchType != types.LaunchTypeFargate || aws.ToString(got.StartedBy) != "buoy" {
		t.Errorf("task: launch type %s, started by %q; want FARGATE, buoy", got.LaunchType, aws.ToString(got.StartedBy))
	}
}
