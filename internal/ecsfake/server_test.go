package ecsfake_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// frame is a frame whose primary deployment has id and rollout state.
func frame(id, state string) ecsfake.Frame {
	return ecsfake.Frame{Deployments: []ecsfake.Deployment{{ID: id, Status: "PRIMARY", RolloutState: state}}}
}

// primaryOf describes app and returns its first deployment's id and
// rollout state.
func primaryOf(t *testing.T, c *ecs.Client) string {
	t.Helper()
	out, err := c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(ecsfake.Cluster), Services: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Services[0].Deployments[0]
	return aws.ToString(d.Id) + " " + string(d.RolloutState)
}

// TestThenScriptsEachUpdate: the first update plays Update and Frames,
// later ones Then in order, the last repeating.
func TestThenScriptsEachUpdate(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
		Name: "app", DesiredCount: 1,
		Before: frame("d0", "COMPLETED"),
		Update: frame("d1", "IN_PROGRESS"), Frames: []ecsfake.Frame{frame("d1", "FAILED")},
		Then: []ecsfake.Script{
			{Update: frame("d2", "IN_PROGRESS"), Frames: []ecsfake.Frame{frame("d2", "IN_PROGRESS"), frame("d2", "COMPLETED")}},
			{Update: frame("d3", "IN_PROGRESS"), Frames: []ecsfake.Frame{frame("d3", "COMPLETED")}},
		},
	})
	ctx, c := context.Background(), srv.Client()
	primary := func() string { return primaryOf(t, c) }
	update := func() string {
		out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(ecsfake.Cluster), Service: aws.String("app"), ForceNewDeployment: true})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Service.Deployments[0].Id)
	}
	var got []string
	got = append(got, primary(), update(), primary(), update(), primary(), primary(), primary(), update(), primary(), update(), primary())
	want := []string{"d0 COMPLETED", "d1", "d1 FAILED", "d2", "d2 IN_PROGRESS", "d2 COMPLETED", "d2 COMPLETED", "d3", "d3 COMPLETED", "d3", "d3 COMPLETED"}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Fatalf("calls: got %q, want %q", got, want)
		}
	}
}

// TestContinuePlaysWithoutAnUpdate: Continue makes the next
// DescribeServices play its frames from the first, the last repeating,
// without an UpdateService; the next update still plays its own script.
func TestContinuePlaysWithoutAnUpdate(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
		Name: "app", DesiredCount: 1,
		Before: frame("d0", "COMPLETED"),
		Update: frame("d1", "IN_PROGRESS"), Frames: []ecsfake.Frame{frame("d1", "IN_PROGRESS")},
		Then: []ecsfake.Script{{Update: frame("d2", "IN_PROGRESS"), Frames: []ecsfake.Frame{frame("d2", "COMPLETED")}}},
	})
	ctx, c := context.Background(), srv.Client()
	primary := func() string { return primaryOf(t, c) }
	var got []string
	got = append(got, primary())
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(ecsfake.Cluster), Service: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	got = append(got, primary(), primary())
	srv.Continue("app", frame("d1", "IN_PROGRESS"), frame("d1", "FAILED"))
	got = append(got, primary(), primary(), primary())
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(ecsfake.Cluster), Service: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	got = append(got, primary())
	want := []string{"d0 COMPLETED", "d1 IN_PROGRESS", "d1 IN_PROGRESS", "d1 IN_PROGRESS", "d1 FAILED", "d1 FAILED", "d2 COMPLETED"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("states seen: got %q, want %q", got, want)
	}
	if n := len(srv.Updates("app")); n != 2 {
		t.Errorf("updates: got %d, want 2 (Continue is not one)", n)
	}
}

// TestListTasksPagesAndDescribeTasksCap: as in ECS, ListTasks finds a
// service's running tasks in pages of at most 100 with a nextToken, and
// DescribeTasks refuses more than 100 tasks at once.
func TestListTasksPagesAndDescribeTasksCap(t *testing.T) {
	t.Parallel()
	var tasks []ecsfake.Task
	for i := range 230 {
		tasks = append(tasks, ecsfake.Task{TaskArn: fmt.Sprintf("task-%03d", i), LastStatus: "RUNNING", DesiredStatus: "RUNNING"})
	}
	tasks = append(tasks, ecsfake.Task{TaskArn: "stopped", LastStatus: "STOPPED", DesiredStatus: "STOPPED"})
	srv := ecsfake.New(t, ecsfake.Unsupported,
		ecsfake.Service{Name: "app", DesiredCount: 230, Before: ecsfake.Frame{RunningCount: 230, Tasks: tasks}},
		ecsfake.Service{Name: "other", DesiredCount: 1, Before: ecsfake.Frame{RunningCount: 1, Tasks: []ecsfake.Task{{TaskArn: "other-1", DesiredStatus: "RUNNING"}}}})
	ctx, c := context.Background(), srv.Client()
	var pages []int
	var all []string
	var next *string
	for {
		out, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(ecsfake.Cluster), ServiceName: aws.String("app"), NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		pages, all = append(pages, len(out.TaskArns)), append(all, out.TaskArns...)
		if next = out.NextToken; next == nil {
			break
		}
	}
	if fmt.Sprint(pages) != "[100 100 30]" || len(all) != 230 || all[229] != "task-229" {
		t.Errorf("pages %v, %d tasks (last %q); want [100 100 30], the 230 running tasks of app in order", pages, len(all), all[len(all)-1])
	}
	if _, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(ecsfake.Cluster), Tasks: all[:101]}); err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Errorf("DescribeTasks of 101 tasks: got %v, want InvalidParameterException", err)
	}
	out, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(ecsfake.Cluster), Tasks: all[:100]})
	if err != nil || len(out.Tasks) != 100 {
		t.Errorf("DescribeTasks of 100 tasks: got %d tasks, %v; want 100", len(out.Tasks), err)
	}
}
