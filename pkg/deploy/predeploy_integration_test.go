//go:build integration

package deploy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
)

// migrationWorld is a project of one image feeding one service in stage,
// on moto, whose stage runs the pre_deploy task migrate of its own
// family (keys added to its entry), and the family's first revision.
func migrationWorld(ctx context.Context, t *testing.T, keys ...string) (*deployfixture.Fixture, string, string) {
	t.Helper()
	cfg := awstest.Config(t)
	w := deployfixture.OneService(t, "shop", awstest.Name(t, "buoy"), "", "")
	family := awstest.Name(t, "migrate")
	w.Environments[0].YAML = []string{deployfixture.PreDeployYAML("migrate", family, []string{"bin/migrate", "--apply"}, keys...)}
	f := deployfixture.Start(ctx, t, cfg, w)
	first, err := deployfixture.RegisterMigration(ctx, cfg, family, f.Images[0], f.Environments[0], "/ecs/"+family)
	if err != nil {
		t.Fatal(err)
	}
	return f, family, first
}

func releaseDeploy(ctx context.Context, t *testing.T, f *deployfixture.Fixture) (*deploy.Result, *event.Recorder, error) {
	t.Helper()
	events := &event.Recorder{}
	d, _, err := deploy.Open(ctx, deploy.Config{ManifestPath: f.Manifest, Table: f.Table, AWS: awstest.Config(t), Sink: events,
		Options: []deploy.Option{deploy.WithPollInterval(100 * time.Millisecond), deploy.WithLockWait(0)}})
	if err != nil {
		t.Fatalf("open the project: %v", err)
	}
	res, err := d.ReleaseDeploy(ctx, deploy.ReleaseDeployInput{Request: deploy.Request{Environment: "stage", RequestedBy: "ci", Timeout: 2 * time.Minute},
		Label: "ref." + deployfixture.NewCommit})
	return res, events, err
}

// TestMotoPreDeployRunsTheMigrationFromTheRelease: moto runs the
// migration on FARGATE from a second revision of its family, whose app
// container runs the release's digest, with its command; then the tag
// moves and the service is updated; the record, read from DynamoDB, says
// which task ran which revision and that it succeeded.
func TestMotoPreDeployRunsTheMigrationFromTheRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, family, first := migrationWorld(ctx, t, "launch_type: FARGATE")
	before := primary(ctx, t, f)
	res, events, err := releaseDeploy(ctx, t, f)
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	client := ecs.NewFromConfig(awstest.Config(t))
	td, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(family)})
	if err != nil {
		t.Fatal(err)
	}
	revision := aws.ToString(td.TaskDefinition.TaskDefinitionArn)
	img := f.Images[0]
	if revision == first || aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image) != deployfixture.URI(img.Repository)+"@"+img.New {
		t.Errorf("the family's latest revision: %s running %s; want a new one running %s@%s", revision,
			aws.ToString(td.TaskDefinition.ContainerDefinitions[0].Image), deployfixture.URI(img.Repository), img.New)
	}
	arns, err := client.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(f.Cluster), Family: aws.String(family)})
	if err != nil || len(arns.TaskArns) != 1 {
		t.Fatalf("tasks of %s: %v, %v; want one", family, arns, err)
	}
	tasks, err := client.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(f.Cluster), Tasks: arns.TaskArns})
	if err != nil || len(tasks.Tasks) != 1 {
		t.Fatalf("describe the task: %v", err)
	}
	task := tasks.Tasks[0]
	var command []string
	if o := task.Overrides; o != nil && len(o.ContainerOverrides) == 1 && aws.ToString(o.ContainerOverrides[0].Name) == "app" {
		command = o.ContainerOverrides[0].Command
	}
	if aws.ToString(task.TaskDefinitionArn) != revision || task.LaunchType != ecstypes.LaunchTypeFargate || !slices.Equal(command, []string{"bin/migrate", "--apply"}) {
		t.Errorf("task: %s on %s, app's command %q; want %s on FARGATE running bin/migrate --apply",
			aws.ToString(task.TaskDefinitionArn), task.LaunchType, command, revision)
	}
	if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.New {
		t.Errorf("%s:%s points at %s, want %s", img.Repository, deployfixture.FloatingTag, got, img.New)
	}
	if after := primary(ctx, t, f); after == before {
		t.Errorf("service %s: PRIMARY deployment still %s, want a new one", img.Service, after)
	}

	deps := f.StoredDeployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records: got %d, want 1", len(deps))
	}
	rec := deps[0]
	runs, _ := rec["preDeploy"].([]any)
	if rec["status"] != "succeeded" || len(runs) != 1 {
		t.Fatalf("record: status %v, preDeploy %v; want succeeded with migrate", rec["status"], rec["preDeploy"])
	}
	run := runs[0].(map[string]any)
	if run["id"] != "migrate" || run["outcome"] != "succeeded" || run["task"] != arns.TaskArns[0] || run["taskDefinition"] != revision {
		t.Errorf("record's migrate: got %v, want succeeded, task %s of %s", run, arns.TaskArns[0], revision)
	}
	if len(res.PreDeploy) != 1 || res.PreDeploy[0].Outcome != "succeeded" {
		t.Errorf("result's pre_deploy: got %+v", res.PreDeploy)
	}
	kinds := map[event.Kind]int{}
	for _, e := range events.Events() {
		kinds[e.Kind]++
	}
	if kinds[event.TaskStarted] != 1 || kinds[event.TaskDone] != 1 || kinds[event.TaskProgress] == 0 {
		t.Errorf("events: %v; want the task started, its progress and its end", kinds)
	}
}

// TestMotoPreDeployThatECSCannotRunMovesNothing: a migration ECS cannot
// run (on EC2, in a cluster with no container instance, which moto
// answers with an error) fails the deployment: no tag moved, the
// service was not updated, and the record, read from DynamoDB, is closed
// failed, naming the task.
func TestMotoPreDeployThatECSCannotRunMovesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, family, _ := migrationWorld(ctx, t, "launch_type: EC2")
	before := primary(ctx, t, f)
	res, _, err := releaseDeploy(ctx, t, f)
	var pde *deploy.PreDeployError
	if !errors.Is(err, deploy.ErrDeploymentFailed) || !errors.As(err, &pde) || pde.Task != "migrate" {
		t.Fatalf("error: got %v, want the failure of pre_deploy task migrate", err)
	}
	img := f.Images[0]
	if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.Old {
		t.Errorf("%s:%s points at %s, want it still at %s", img.Repository, deployfixture.FloatingTag, got, img.Old)
	}
	if after := primary(ctx, t, f); after != before {
		t.Errorf("service %s: PRIMARY deployment %s, want still %s (not updated)", img.Service, after, before)
	}
	arns, err := ecs.NewFromConfig(awstest.Config(t)).ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(f.Cluster), Family: aws.String(family)})
	if err != nil || len(arns.TaskArns) != 0 {
		t.Errorf("tasks of %s: %v, %v; want none", family, arns, err)
	}
	deps := f.StoredDeployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records: got %d, want 1", len(deps))
	}
	rec := deps[0]
	reason, _ := rec["reason"].(string)
	runs, _ := rec["preDeploy"].([]any)
	if rec["status"] != "failed" || rec["finishedAt"] == nil || !strings.Contains(reason, "pre_deploy task migrate did not start") || len(runs) != 1 {
		t.Fatalf("record: status %v, reason %q, preDeploy %v; want failed, naming migrate", rec["status"], reason, rec["preDeploy"])
	}
	// moto answers with an HTML page and HTTP 500, which is no refusal
	// the SDK can read: whether ECS started a task is unknown, and the
	// record says so rather than that none runs.
	if run := runs[0].(map[string]any); run["outcome"] != "in-progress" || run["task"] != nil ||
		!strings.Contains(run["reason"].(string), "outcome unknown: ECS's answer to RunTask never came") {
		t.Errorf("record's migrate: got %v, want its outcome unknown, with no task", run)
	}
	if res.Status != "failed" {
		t.Errorf("result: got %s, want failed", res.Status)
	}
}

// primary returns the id of the PRIMARY ECS deployment of the fixture's
// service, as ECS says.
func primary(ctx context.Context, t *testing.T, f *deployfixture.Fixture) string {
	t.Helper()
	for _, d := range f.ECSDeployments(ctx, t)[f.Images[0].Service] {
		if aws.ToString(d.Status) == "PRIMARY" {
			return aws.ToString(d.Id)
		}
	}
	t.Fatalf("service %s has no PRIMARY deployment", f.Images[0].Service)
	return ""
}
