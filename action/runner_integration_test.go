//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/buoy-deploy/buoy/internal/golden"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// world is one project set up in moto by deployfixture.OneService: an
// ECR repository with an old build under env.stage and a new one under
// latest and ref.<deployfixture.NewCommit>, an ECS cluster and service
// that run it through env.stage (or, with a cluster given, a service that
// a scripted ECS server plays), the history table, and a buoy.yaml for it.
type world struct {
	Repo, Cluster, Service, Table string
	Digest                        string // of the new build
	Manifest                      string // buoy.yaml's text
}

func newWorld(ctx context.Context, t *testing.T, cluster, service string) *world {
	t.Helper()
	return worldOf(ctx, t, deployfixture.OneService(t, "shop", awstest.Name(t, "buoy"), cluster, service))
}

// worldOf builds w, a deployfixture.OneService world, on moto.
func worldOf(ctx context.Context, t *testing.T, w *deployfixture.World) *world {
	t.Helper()
	f := deployfixture.Start(ctx, t, awstest.Config(t), w)
	img := f.Images[0]
	return &world{Repo: img.Repository, Cluster: f.Cluster, Service: img.Service, Table: f.Table, Digest: img.New, Manifest: f.YAML()}
}

// runnerFor is a runner aimed at moto with w's manifest in its workspace.
func runnerFor(t *testing.T, w *world) *runner {
	t.Helper()
	r := newRunner(t, buildAction(t))
	if err := os.WriteFile(filepath.Join(r.Workspace, "buoy.yaml"), []byte(w.Manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Env["AWS_ENDPOINT_URL"] = awstest.Endpoint(t)
	r.Env["AWS_ACCESS_KEY_ID"] = "testing"
	r.Env["AWS_SECRET_ACCESS_KEY"] = "testing"
	r.Env["AWS_REGION"] = awstest.Region
	r.Env["AWS_MAX_ATTEMPTS"] = "1"
	r.Inputs["table"] = w.Table
	return r
}

// normalise replaces what changes from run to run (ids, digests, names,
// durations) so that a job summary can be compared with a golden file.
func normalise(s string, w *world) string {
	s = strings.NewReplacer(w.Repo, "REPO", w.Cluster, "CLUSTER", w.Service, "SERVICE").Replace(s)
	s = regexp.MustCompile(`sha256:[0-9a-f]{12,64}`).ReplaceAllString(s, "sha256:DIGEST")
	s = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`).ReplaceAllString(s, "ULID")
	s = regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{10}\b`).ReplaceAllString(s, "SHORTID")
	s = regexp.MustCompile(`\b\d[\dhm.]*(ms|s)\b`).ReplaceAllString(s, "TIME")
	s = regexp.MustCompile(`ecs-svc/\d+`).ReplaceAllString(s, "ecs-svc/ID")
	return s
}

func TestRunnerReleaseDeploySucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(ctx, t, "", "")
	r := runnerFor(t, w)
	r.Inputs["environment"] = "stage"
	r.Inputs["from-label"] = "ref." + deployfixture.NewCommit
	r.Inputs["timeout"] = "2m"
	res := r.run(t)

	if res.ExitCode != 0 {
		t.Fatalf("exit code = %d, want 0", res.ExitCode)
	}
	if res.Outputs["status"] != "succeeded" {
		t.Errorf("status output = %q, want succeeded", res.Outputs["status"])
	}
	for _, k := range []string{"release-id", "deployment-id"} {
		if len(res.Outputs[k]) != 26 {
			t.Errorf("%s output = %q, want a ULID", k, res.Outputs[k])
		}
	}
	var images, services map[string]string
	if err := json.Unmarshal([]byte(res.Outputs["images"]), &images); err != nil || images["api"] != w.Digest {
		t.Errorf("images output = %q (%v), want api -> %s", res.Outputs["images"], err, w.Digest)
	}
	if err := json.Unmarshal([]byte(res.Outputs["services"]), &services); err != nil || services[w.Service] != "succeeded" {
		t.Errorf("services output = %q (%v), want %s -> succeeded", res.Outputs["services"], err, w.Service)
	}
	if strings.TrimSpace(res.Outputs["summary-markdown"]) != strings.TrimSpace(res.Summary) {
		t.Errorf("summary-markdown output differs from the job summary")
	}
	for _, want := range []string{"::group::", "::endgroup::"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(res.Stdout, "::error") {
		t.Errorf("stdout has an error annotation for a successful deployment")
	}
	golden.Check(t, "testdata/summary-succeeded.md", normalise(res.Summary, w))

	// The history records who asked, from where.
	cfg := awstest.Config(t)
	store := history.NewDynamoDB(dynamodb.NewFromConfig(cfg), w.Table)
	d, err := store.GetDeployment(ctx, "shop", res.Outputs["deployment-id"])
	if err != nil {
		t.Fatalf("read the deployment back: %v", err)
	}
	runURL := "https://github.com/acme/shop/actions/runs/987654"
	if d.RequestedBy != "octocat via GitHub Actions ("+runURL+")" || d.CI.BuildURL != runURL || d.CI.Commit != "3f2a9c1d" || d.CI.Provider != "github-actions" {
		t.Errorf("deployment record: requested by %q, CI %+v; want octocat via GitHub Actions and the run", d.RequestedBy, d.CI)
	}
	if d.Description != runURL {
		t.Errorf("description = %q, want the run URL", d.Description)
	}
}

func TestRunnerBadManifest(t *testing.T) {
	t.Parallel()
	w := &world{Manifest: "version: 1\nprojects:\n  - id: shop\n    imagez: []\n"}
	r := runnerFor(t, w)
	r.Inputs["environment"] = "stage"
	r.Inputs["table"] = "unused"
	res := r.run(t)
	if res.ExitCode != 2 {
		t.Errorf("exit code = %d, want 2 (bad input)", res.ExitCode)
	}
	if !regexp.MustCompile(`::error col=\d+,file=buoy\.yaml,line=4,title=buoy%3A invalid manifest::.*imagez`).MatchString(res.Stdout) {
		t.Errorf("stdout lacks an annotation on buoy.yaml line 4 about imagez:\n%s", res.Stdout)
	}
	if !strings.Contains(res.Stdout, "::error::the manifest buoy.yaml has") {
		t.Errorf("stdout lacks the closing error that names the manifest:\n%s", res.Stdout)
	}
}

// TestRunnerFailedRollout points ECS at a scripted server whose service is
// rolled back by the circuit breaker; ECR, DynamoDB stay on moto.
func TestRunnerFailedRollout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const (
		tdOld = "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:1"
		ourID = "ecs-svc/1111"
	)
	dep := func(id, status string, running, failed int32, state string) ecsfake.Deployment {
		return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: tdOld, DesiredCount: 2, RunningCount: running,
			FailedTasks: failed, RolloutState: state, CreatedAt: ecsfake.At(0)}
	}
	failed := dep(ourID, "ACTIVE", 0, 3, "FAILED")
	failed.RolloutStateReason = "ECS deployment circuit breaker: tasks failed to start."
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
		Name: "shop-api", TaskDefinition: tdOld, DesiredCount: 2,
		Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{dep("ecs-svc/0000", "PRIMARY", 2, 0, "COMPLETED")}, RunningCount: 2},
		Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{dep(ourID, "PRIMARY", 0, 0, "IN_PROGRESS"), dep("ecs-svc/0000", "ACTIVE", 2, 0, "COMPLETED")}, RunningCount: 2},
		Frames: []ecsfake.Frame{{
			Deployments: []ecsfake.Deployment{dep("ecs-svc/2222", "PRIMARY", 0, 0, "IN_PROGRESS"), failed}, RunningCount: 2,
			Tasks: []ecsfake.Task{{TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/t1", StartedBy: ourID,
				LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "TaskFailedToStart",
				StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"}},
		}},
	})
	w := newWorld(ctx, t, ecsfake.Cluster, "shop-api")
	r := runnerFor(t, w)
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: tdOld, Containers: []ecsfake.ContainerDefinition{
		{Name: "api", Image: fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s:env.stage", awstest.AccountID, awstest.Region, w.Repo)}}})
	r.Env["AWS_ENDPOINT_URL_ECS"] = srv.URL
	r.Inputs["environment"] = "stage"
	r.Inputs["timeout"] = "2m"
	res := r.run(t)

	if res.ExitCode != 1 {
		t.Errorf("exit code = %d, want 1", res.ExitCode)
	}
	if s := res.Outputs["status"]; s != "failed" && s != "rolled-back" {
		t.Errorf("status output = %q, want failed", s)
	}
	var services map[string]string
	if err := json.Unmarshal([]byte(res.Outputs["services"]), &services); err != nil || services["shop-api"] != "failed" {
		t.Errorf("services output = %q (%v), want shop-api -> failed", res.Outputs["services"], err)
	}
	if !regexp.MustCompile(`(?m)^::error title=buoy shop/stage[^:]*::.*shop-api.*circuit breaker`).MatchString(res.Stdout) {
		t.Errorf("stdout lacks an error annotation for shop-api that names the circuit breaker:\n%s", res.Stdout)
	}
	if !strings.Contains(res.Summary, "CannotPullContainerError") && !strings.Contains(res.Summary, "circuit breaker") {
		t.Errorf("job summary lacks the reason:\n%s", res.Summary)
	}
	golden.Check(t, "testdata/summary-failed.md", normalise(res.Summary, w))
}
