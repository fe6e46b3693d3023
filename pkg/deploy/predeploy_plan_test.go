package deploy

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestPreDeployRunsARevisionPinningTheReleaseAsItIs: a task definition
// whose containers already run the release's digests is run as it is:
// no revision is registered.
func TestPreDeployRunsARevisionPinningTheReleaseAsItIs(t *testing.T) {
	t.Parallel()
	f, srv, _ := taskFixture(t, migrationExits(0))
	pinned := ecsfake.TaskDefinitionARN("migrate", 7)
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: pinned, NetworkMode: "bridge",
		Containers: []ecsfake.ContainerDefinition{{Name: "app", Image: ecrHost + "demo/api@" + newDigest("api")}}})
	f.project.Environments[0].PreDeploy[0].NetworkFrom = ""
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	if n := len(srv.Registered()); n != 0 {
		t.Errorf("RegisterTaskDefinition calls: got %d, want none", n)
	}
	runs := srv.RunTaskRequests()
	if len(runs) != 1 || runs[0]["taskDefinition"] != pinned || runs[0]["networkConfiguration"] != nil || runs[0]["launchType"] != nil {
		t.Errorf("RunTask requests: got %v, want one of %s with no network or launch type (bridge, the cluster's default)", runs, pinned)
	}
}

// TestPreDeployPlanIsCheckedBeforeAnythingRuns: a dry run shows the task
// and runs nothing; a task that cannot run the release (its container is
// not in the task definition, it runs none of the project's images, it
// needs subnets it is not given) is refused as invalid input before any
// task runs or tag moves.
func TestPreDeployPlanIsCheckedBeforeAnythingRuns(t *testing.T) {
	t.Parallel()
	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		f, srv, _ := taskFixture(t)
		res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.DryRun = true })
		if err != nil {
			t.Fatalf("dry run: %v", err)
		}
		var plans []string
		for _, e := range f.events.OfKind(event.Plan) {
			if e.Task != "" {
				plans = append(plans, e.Message)
			}
		}
		want := "run migrate in cluster demo-stage: a revision of migrate:3 with the release's images pinned, container app running bin/migrate --apply, launch type FARGATE, network of service api; waits up to 1m0s"
		if len(plans) != 1 || plans[0] != want {
			t.Errorf("plan events of tasks: got %q, want %q", plans, want)
		}
		if len(res.PreDeploy) != 1 || res.PreDeploy[0].Outcome != StatusPlanned || res.PreDeploy[0].TaskDefinition != tdMigrate {
			t.Errorf("result's pre_deploy: got %+v, want migrate planned from %s", res.PreDeploy, tdMigrate)
		}
		if n, m := len(srv.Registered()), len(srv.RunTaskRequests()); n+m != 0 {
			t.Errorf("a dry run registered %d revisions and ran %d tasks, want none", n, m)
		}
	})
	tests := []struct {
		name   string
		change func(*ecsfake.Server, *manifest.PreDeployTask)
		want   string
	}{
		{"no such container", func(_ *ecsfake.Server, task *manifest.PreDeployTask) { task.Container = "web" },
			`task definition migrate:3 has no container "web" (its containers: app, log-router)`},
		{"none of the project's images", func(srv *ecsfake.Server, task *manifest.PreDeployTask) {
			srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: ecsfake.TaskDefinitionARN("other", 1),
				Containers: []ecsfake.ContainerDefinition{{Name: "app", Image: "postgres:16"}}})
			task.TaskDefinition = "other"
		}, "task definition other:1 runs none of the project's images (its containers: app=postgres:16), so it would not run the release"},
		{"awsvpc without subnets", func(_ *ecsfake.Server, task *manifest.PreDeployTask) { task.NetworkFrom = "worker" },
			"task definition migrate:3 uses the awsvpc network mode, which needs subnets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv, _ := taskFixture(t, migrationExits(0))
			tt.change(srv, f.project.Environments[0].PreDeploy[0])
			res, err := f.releaseDeploy("stage")
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "pre_deploy task migrate: "+tt.want) {
				t.Fatalf("error: got %v, want invalid input saying %q", err, tt.want)
			}
			if n := len(srv.RunTaskRequests()); n != 0 {
				t.Errorf("RunTask calls: got %d, want none", n)
			}
			nothingMoved(t, f, srv)
			if rec := f.deployment(res.Deployment.ID); rec.Status != history.StatusFailed {
				t.Errorf("record: got %s, want failed", rec.Status)
			}
		})
	}
}

// TestPreDeployNeedsATaskRunner: a Cluster that cannot run tasks (one a
// caller plugged in) refuses an environment with pre_deploy tasks before
// anything runs.
func TestPreDeployNeedsATaskRunner(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.project.Environments[0].PreDeploy = []*manifest.PreDeployTask{{ID: "migrate", TaskDefinition: "migrate"}}
	_, err := f.releaseDeploy("stage")
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "cannot run tasks") {
		t.Fatalf("error: got %v, want invalid input saying the cluster cannot run tasks", err)
	}
	if got := f.w.sideEffects(); len(got) != 0 {
		t.Errorf("side effects: got %q, want none", got)
	}
}

// TestTaskLaunchTakesTheManifestsWordOverTheServices: the manifest's
// network replaces the service's; a launch type replaces a capacity
// provider strategy and the other way round, as ECS takes one or the
// other; a platform version replaces the service's.
func TestTaskLaunchTakesTheManifestsWordOverTheServices(t *testing.T) {
	t.Parallel()
	no := false
	spot := []manifest.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 1}}
	service := TaskLaunch{CapacityProviders: []manifest.CapacityProvider{{Name: "FARGATE", Weight: 2, Base: 1}}, PlatformVersion: "1.3.0",
		Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-svc"}, AssignPublicIP: "ENABLED"}
	tests := []struct {
		name string
		task manifest.PreDeployTask
		want TaskLaunch
	}{
		{"nothing said: the service's", manifest.PreDeployTask{}, service},
		{"a launch type", manifest.PreDeployTask{LaunchType: "FARGATE"}, TaskLaunch{LaunchType: "FARGATE", PlatformVersion: "1.3.0",
			Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-svc"}, AssignPublicIP: "ENABLED"}},
		{"a capacity provider strategy and a platform version", manifest.PreDeployTask{CapacityProviderStrategy: spot, PlatformVersion: "LATEST"},
			TaskLaunch{CapacityProviders: spot, PlatformVersion: "LATEST", Subnets: []string{"subnet-svc"}, SecurityGroups: []string{"sg-svc"}, AssignPublicIP: "ENABLED"}},
		{"a network of its own", manifest.PreDeployTask{Network: &manifest.TaskNetwork{Subnets: []string{"subnet-own"}, AssignPublicIP: &no}},
			TaskLaunch{CapacityProviders: service.CapacityProviders, PlatformVersion: "1.3.0", Subnets: []string{"subnet-own"}, AssignPublicIP: "DISABLED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := service
			overrideLaunch(&got, &tt.task)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("launch:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestLaunchOfAFoundService: how rollout found a service launching its
// tasks becomes the launch a pre_deploy task takes from it.
func TestLaunchOfAFoundService(t *testing.T) {
	t.Parallel()
	got := launchOf(rollout.Launch{CapacityProviderStrategy: []rollout.CapacityProviderItem{{CapacityProvider: "FARGATE_SPOT", Weight: 3, Base: 1}},
		PlatformVersion: "1.4.0", Network: &rollout.NetworkConfiguration{Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"}})
	want := &TaskLaunch{CapacityProviders: []manifest.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3, Base: 1}}, PlatformVersion: "1.4.0",
		Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("launch:\n got %+v\nwant %+v", got, want)
	}
}

// TestALogLineIsShownAsOneLine: a line a container wrote loses its
// colours and other control characters (what is left of another escape
// shows, harmless), and its line breaks become spaces, before any
// renderer sees it.
func TestALogLineIsShownAsOneLine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                            "plain",
		"\x1b[31mERROR\x1b[0m: failed":     "ERROR: failed",
		"\x1b]0;title\x07after":            "]0;titleafter",
		"two\nlines\r\nand\ta tab\x07\x00": "two lines  and a tab",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
