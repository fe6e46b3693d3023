package ecsfake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

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

// TestServiceDeploymentsInECSShapes: DescribeServiceDeployments answers
// in ECS's JSON shapes, which the SDK reads into its types: the
// strategy and its bake times, the lifecycle stage, the traffic weights,
// hooks, alarms and rollback.
func TestServiceDeploymentsInECSShapes(t *testing.T) {
	t.Parallel()
	sd := &ecsfake.ServiceDeployment{Status: "ROLLBACK_IN_PROGRESS", StatusReason: "alarms", LifecycleStage: "PRODUCTION_TRAFFIC_SHIFT",
		DeploymentConfiguration: &ecsfake.DeploymentConfiguration{Strategy: "CANARY", BakeTimeInMinutes: ecsfake.Minutes(3),
			CanaryConfiguration: &ecsfake.CanaryConfiguration{CanaryPercent: 10, CanaryBakeTimeInMinutes: 5},
			LinearConfiguration: &ecsfake.LinearConfiguration{StepPercent: 25, StepBakeTimeInMinutes: 2},
			LifecycleHooks:      []ecsfake.DeploymentLifecycleHook{{HookTargetArn: "arn:hook", TargetType: "AWS_LAMBDA", LifecycleStages: []string{"POST_SCALE_UP"}}},
			Alarms:              &ecsfake.DeploymentAlarms{AlarmNames: []string{"a", "b"}, Enable: true, Rollback: true}},
		TargetServiceRevision: &ecsfake.ServiceRevisionSummary{Arn: "arn:rev2", RequestedTaskCount: 2, RunningTaskCount: 1,
			RequestedProductionTrafficWeight: ecsfake.Percent(10), RequestedTestTrafficWeight: ecsfake.Percent(100)},
		SourceServiceRevisions: []ecsfake.ServiceRevisionSummary{{Arn: "arn:rev1", RunningTaskCount: 2, RequestedProductionTrafficWeight: ecsfake.Percent(90)}},
		LifecycleHookDetails:   []ecsfake.LifecycleHookDetail{{HookID: "h1", TargetArn: "arn:hook", TargetType: "AWS_LAMBDA", Status: "FAILED", ExpiresAt: ecsfake.At(time.Hour), TimeoutAction: "ROLLBACK"}},
		Alarms:                 &ecsfake.ServiceDeploymentAlarms{Status: "TRIGGERED", AlarmNames: []string{"a", "b"}, TriggeredAlarmNames: []string{"b"}},
		CircuitBreaker:         &ecsfake.ServiceDeploymentCircuitBreaker{Status: "MONITORING", FailureCount: 1, Threshold: 3},
		Rollback:               &ecsfake.Rollback{Reason: "alarm b", StartedAt: ecsfake.At(time.Minute), ServiceRevisionArn: "arn:rev1"}}
	srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "app", DesiredCount: 2, Before: frame("d0", "COMPLETED"),
		Update: frame("d1", "IN_PROGRESS"), Frames: []ecsfake.Frame{{Deployments: frame("d1", "IN_PROGRESS").Deployments, Deployment: sd}}})
	ctx, c := context.Background(), srv.Client()
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(ecsfake.Cluster), Service: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	primaryOf(t, c)
	out, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{ecsfake.DeploymentARN("app")}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("DescribeServiceDeployments: %v, %+v", err, out)
	}
	got := out.ServiceDeployments[0]
	cfg := got.DeploymentConfiguration
	checks := []struct {
		what      string
		got, want any
	}{
		{"arn", aws.ToString(got.ServiceDeploymentArn), ecsfake.DeploymentARN("app")},
		{"status", string(got.Status), "ROLLBACK_IN_PROGRESS"},
		{"stage", string(got.LifecycleStage), "PRODUCTION_TRAFFIC_SHIFT"},
		{"strategy", string(cfg.Strategy), "CANARY"},
		{"bake", aws.ToInt32(cfg.BakeTimeInMinutes), int32(3)},
		{"canary", words(aws.ToFloat64(cfg.CanaryConfiguration.CanaryPercent), aws.ToInt32(cfg.CanaryConfiguration.CanaryBakeTimeInMinutes)), "10 5"},
		{"linear", words(aws.ToFloat64(cfg.LinearConfiguration.StepPercent), aws.ToInt32(cfg.LinearConfiguration.StepBakeTimeInMinutes)), "25 2"},
		{"hook config", words(aws.ToString(cfg.LifecycleHooks[0].HookTargetArn), cfg.LifecycleHooks[0].LifecycleStages), "arn:hook [POST_SCALE_UP]"},
		{"alarm config", words(cfg.Alarms.AlarmNames, cfg.Alarms.Enable, cfg.Alarms.Rollback), "[a b] true true"},
		{"traffic", words(aws.ToFloat64(got.TargetServiceRevision.RequestedProductionTrafficWeight), aws.ToFloat64(got.TargetServiceRevision.RequestedTestTrafficWeight)), "10 100"},
		{"source", words(aws.ToString(got.SourceServiceRevisions[0].Arn), aws.ToFloat64(got.SourceServiceRevisions[0].RequestedProductionTrafficWeight)), "arn:rev1 90"},
		{"hook", words(aws.ToString(got.LifecycleHookDetails[0].HookId), got.LifecycleHookDetails[0].Status, got.LifecycleHookDetails[0].TimeoutAction,
			got.LifecycleHookDetails[0].ExpiresAt.Equal(ecsfake.T0.Add(time.Hour))), "h1 FAILED ROLLBACK true"},
		{"alarms", words(got.Alarms.Status, got.Alarms.TriggeredAlarmNames), "TRIGGERED [b]"},
		{"circuit breaker", words(got.DeploymentCircuitBreaker.FailureCount, got.DeploymentCircuitBreaker.Threshold), "1 3"},
		{"rollback", words(aws.ToString(got.Rollback.Reason), aws.ToString(got.Rollback.ServiceRevisionArn)), "alarm b arn:rev1"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: got %v, want %v", ck.what, ck.got, ck.want)
		}
	}
}

// TestStopServiceDeployment: as ECS, the server stops only a deployment
// in progress (ConflictException otherwise); with stopType ROLLBACK the
// service then plays its OnStop frames.
func TestStopServiceDeployment(t *testing.T) {
	t.Parallel()
	inProgress := frame("d1", "IN_PROGRESS")
	inProgress.Deployment = &ecsfake.ServiceDeployment{Status: "IN_PROGRESS"}
	back := frame("d2", "IN_PROGRESS")
	back.Deployment = &ecsfake.ServiceDeployment{Status: "ROLLBACK_IN_PROGRESS"}
	done := frame("d2", "COMPLETED")
	done.Deployment = &ecsfake.ServiceDeployment{Status: "ROLLBACK_SUCCESSFUL"}
	srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "app", DesiredCount: 1, Before: frame("d0", "COMPLETED"),
		Update: frame("d1", "IN_PROGRESS"), Frames: []ecsfake.Frame{inProgress}, OnStop: []ecsfake.Frame{back, done}})
	ctx, c := context.Background(), srv.Client()
	if _, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String(ecsfake.Cluster), Service: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	stop := func() error {
		_, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(ecsfake.DeploymentARN("app")), StopType: "ROLLBACK"})
		return err
	}
	var conflict *types.ConflictException
	if err := stop(); !errors.As(err, &conflict) {
		t.Errorf("stop before any poll saw the deployment in progress: got %v, want ConflictException", err)
	}
	got := []string{primaryOf(t, c)}
	if err := stop(); err != nil {
		t.Fatalf("stop of a deployment in progress: %v", err)
	}
	got = append(got, primaryOf(t, c), primaryOf(t, c), primaryOf(t, c))
	if want := "d1 IN_PROGRESS, d2 IN_PROGRESS, d2 COMPLETED, d2 COMPLETED"; strings.Join(got, ", ") != want {
		t.Errorf("states: got %q, want %q", strings.Join(got, ", "), want)
	}
	if err := stop(); !errors.As(err, &conflict) {
		t.Errorf("stop of a deployment rolled back: got %v, want ConflictException", err)
	}
	if n := len(srv.Stops("app")); n != 3 {
		t.Errorf("Stops: got %d, want 3", n)
	}
}

// words writes values apart by spaces, as fmt.Sprintln does.
func words(vs ...any) string { return strings.TrimSuffix(fmt.Sprintln(vs...), "\n") }
