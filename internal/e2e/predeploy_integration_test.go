//go:build integration

package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// migrationFixture is a project of one image feeding one service in
// stage, on moto, whose stage runs the pre_deploy task migrate of its own
// family (registered on moto, logging to /ecs/<family>) first.
func migrationFixture(ctx context.Context, t *testing.T, keys ...string) (*deployfixture.Fixture, string) {
	t.Helper()
	cfg := awstest.Config(t)
	w := deployfixture.OneService(t, "shop", awstest.Name(t, "buoy"), "", "")
	family := awstest.Name(t, "migrate")
	w.Environments[0].YAML = []string{deployfixture.PreDeployYAML("migrate", family, []string{"bin/migrate", "--apply"}, keys...)}
	f := deployfixture.Start(ctx, t, cfg, w)
	if _, err := deployfixture.RegisterMigration(ctx, cfg, family, f.Images[0], f.Environments[0], "/ecs/"+family); err != nil {
		t.Fatal(err)
	}
	return f, family
}

// writeLog writes lines to a log stream on moto, as a container does.
func writeLog(ctx context.Context, t *testing.T, group, stream string, lines ...string) {
	t.Helper()
	client := cloudwatchlogs.NewFromConfig(awstest.Config(t))
	if _, err := client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	var events []cwltypes.InputLogEvent
	for i, l := range lines {
		events = append(events, cwltypes.InputLogEvent{Timestamp: aws.Int64(t0.Add(time.Duration(i) * time.Millisecond).UnixMilli()), Message: aws.String(l)})
	}
	if _, err := client.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}); err != nil {
		t.Fatal(err)
	}
}

// TestCLIAFailedMigrationShowsItsLogAndMovesNothing runs release-deploy
// through the CLI with ECS played by the scripted server (the migration's
// container exits 3) and everything else on moto, where the container's
// log is: the run exits 1, shows the task, its container, exit code and
// stopped reason and the last lines of its log (read from moto), moves
// no tag, updates no service, closes its record failed with the task's
// outcome (read from DynamoDB with the SDK), and every call it made on
// moto is in the policy `buoy iam-policy` prints.
func TestCLIAFailedMigrationShowsItsLogAndMovesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f, family := migrationFixture(ctx, t)
	fake, ecsURL := scriptedECS(ctx, t, f, func(td string) []ecsfake.Script { return []ecsfake.Script{rollingOut(td, "ecs-svc/1", 0)} })
	fake.ScriptRunTask(ecsfake.OneOff{Frames: []ecsfake.Task{
		{LastStatus: "PENDING", DesiredStatus: "RUNNING"},
		{LastStatus: "RUNNING", DesiredStatus: "RUNNING"},
		{LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
			Containers: []ecsfake.Container{{Name: "app", ExitCode: exit(3)}, {Name: "log-router", ExitCode: exit(0)}}},
	}})
	var logged []string
	for i := range 40 {
		logged = append(logged, fmt.Sprintf("applying migration %02d", i))
	}
	logged = append(logged, `ERROR: relation "users" already exists`)
	writeLog(ctx, t, "/ecs/"+family, deployfixture.MigrationLogPrefix+"/app/oneoff0001", logged...)
	p := proxy(t)

	r := start(t, bin, cliEnv(t, p.URL(), "ci", "AWS_ENDPOINT_URL_ECS="+ecsURL), deployArgs(f, "--from-label", "ref."+deployfixture.NewCommit)...)
	if code := r.wait(t); code != 1 {
		t.Fatalf("exit code %d, want 1 (a failed deployment)\n%s", code, r.output())
	}
	contains(t, "the output", r.output(),
		"task     migrate: started ECS task oneoff0001 of "+family+":2",
		"task     migrate: failed after",
		"task oneoff0001 stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3",
		"log      migrate: [app] applying migration 16",
		`log      migrate: [app] ERROR: relation "users" already exists`,
		"PRE-DEPLOY TASK")
	if strings.Contains(r.output(), "applying migration 15") {
		t.Errorf("the output shows more than the last %d lines of the log:\n%s", 25, r.output())
	}

	img := f.Images[0]
	if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.Old {
		t.Errorf("%s:%s points at %s, want it still at %s", img.Repository, deployfixture.FloatingTag, got, img.Old)
	}
	if n := len(fake.Updates(img.Service)); n != 0 {
		t.Errorf("UpdateService calls: got %d, want none", n)
	}
	if n := len(fake.RunTaskRequests()); n != 1 {
		t.Errorf("RunTask calls: got %d, want 1", n)
	}
	deps := f.StoredDeployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records: got %d, want 1", len(deps))
	}
	runs, _ := deps[0]["preDeploy"].([]any)
	if reason, _ := deps[0]["reason"].(string); !strings.Contains(reason, "no tag was moved and no service updated") {
		t.Errorf("record's reason %q: want it to say nothing moved", reason)
	}
	if deps[0]["status"] != "failed" || len(runs) != 1 {
		t.Fatalf("record: status %v, preDeploy %v; want failed with migrate", deps[0]["status"], deps[0]["preDeploy"])
	}
	run := runs[0].(map[string]any)
	containers, _ := run["containers"].([]any)
	if run["outcome"] != "failed" || run["task"] != ecsfake.TaskARN(1) || run["stopCode"] != "EssentialContainerExited" || len(containers) != 2 ||
		containers[0].(map[string]any)["exitCode"] != float64(3) {
		t.Errorf("record's migrate: got %v, want failed, task %s, app exited 3", run, ecsfake.TaskARN(1))
	}
	policyCovers(t, bin, p.URL(), f.Manifest, f.Table, p.Calls())
}

// TestCLIMigrationRunsBeforeTheTagMoves runs validate, plan and
// release-deploy of a project with a migration through the CLI on moto:
// validate names it, plan shows it and runs nothing, release-deploy runs
// it (its progress in the output) before it moves the tag, and every
// call it made, RunTask of the migration's revision among them, is in
// the policy `buoy iam-policy` prints.
func TestCLIMigrationRunsBeforeTheTagMoves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f, family := migrationFixture(ctx, t, "launch_type: FARGATE")
	p := proxy(t)
	env := cliEnv(t, p.URL(), "ci")

	v := start(t, bin, env, "validate", "--manifest", f.Manifest)
	if code := v.wait(t); code != 0 {
		t.Fatalf("validate: exit %d\n%s", code, v.output())
	}
	contains(t, "validate", v.output(), "environment stage runs pre_deploy tasks before each deployment: migrate")
	plan := start(t, bin, env, "plan", "--manifest", f.Manifest, "--table", f.Table, "-e", "stage", "--from-label", "ref."+deployfixture.NewCommit)
	if code := plan.wait(t); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, plan.output())
	}
	contains(t, "plan", plan.output(), "plan     run migrate in cluster "+f.Cluster+": a revision of "+family+":1 with the release's images pinned, container app running bin/migrate --apply, launch type FARGATE",
		"migrate          "+f.Cluster+"  planned")
	for _, c := range p.Calls() {
		if c.Operation == "RunTask" || c.Operation == "RegisterTaskDefinition" {
			t.Errorf("plan called %s", c.Operation)
		}
	}

	r := start(t, bin, env, deployArgs(f, "--from-label", "ref."+deployfixture.NewCommit)...)
	if code := r.wait(t); code != 0 {
		t.Fatalf("release-deploy: exit %d\n%s", code, r.output())
	}
	out := r.stdout.String() + r.stderr.String()
	contains(t, "release-deploy", out, "task     migrate: started ECS task", "task     migrate: succeeded after")
	if i, j := strings.Index(out, "task     migrate: succeeded"), strings.Index(out, "tag      "); i < 0 || j < 0 || i > j {
		t.Errorf("the migration did not end before the first tag moved:\n%s", out)
	}
	img := f.Images[0]
	if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.New {
		t.Errorf("%s:%s points at %s, want %s", img.Repository, deployfixture.FloatingTag, got, img.New)
	}
	doc, _ := policyCovers(t, bin, p.URL(), f.Manifest, f.Table, p.Calls())
	if !allowed(doc, "ecs:RunTask", "arn:aws:ecs:"+awstest.Region+":"+awstest.AccountID+":task-definition/"+family+":2") {
		t.Error("the policy does not allow running the migration's revision")
	}
	if allowed(doc, "ecs:RunTask", "arn:aws:ecs:"+awstest.Region+":"+awstest.AccountID+":task-definition/another-family:1") {
		t.Error("the policy allows running a task definition no pre_deploy task names")
	}
}

func exit(code int32) *int32 { return &code }
