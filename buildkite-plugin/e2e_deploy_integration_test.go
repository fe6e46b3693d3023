//go:build integration

package main

import (
	"context"
	"fmt"
	"github.com/buoy-deploy/buoy/internal/golden"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// world is a project deployed on moto by deployfixture.OneService: one
// image in ECR (an old build under env.stage, a new one under
// ref.<deployfixture.NewCommit> and latest), one ECS service running it
// through the floating tag, the history table, and the manifest in a
// checkout directory.
type world struct {
	dir, table, repo, cluster, service string
	repoURI                            string
	digest                             string // of the new build
	ecr                                *ecr.Client
	store                              history.Store
}

// commit is the commit the stubbed agent's build is of (BUILDKITE_COMMIT).
const commit = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"

// newWorld builds a world; with ecsCluster set, the manifest names that
// cluster and service (played by a scripted ECS server) instead of
// creating them in moto.
func newWorld(t *testing.T, ecsCluster, ecsService string) *world {
	t.Helper()
	return worldOf(t, deployfixture.OneService(t, "catalogue", awstest.Name(t, "history"), ecsCluster, ecsService))
}

// worldOf builds w, a deployfixture.OneService world, on moto.
func worldOf(t *testing.T, w *deployfixture.World) *world {
	t.Helper()
	cfg := awstest.Config(t)
	f := deployfixture.Start(context.Background(), t, cfg, w)
	img := f.Images[0]
	return &world{dir: f.Dir, table: f.Table, repo: img.Repository, cluster: f.Cluster, service: img.Service,
		repoURI: deployfixture.URI(img.Repository), digest: img.New, ecr: ecr.NewFromConfig(cfg), store: f.Store()}
}

// normalise replaces what changes from run to run (ids, digests, names,
// times) with placeholders, for golden files.
func normalise(s string) string {
	for _, r := range []struct{ re, with string }{
		{`[0-9A-HJKMNP-TV-Z]{26}`, "<ULID>"},
		{`sha256:[0-9a-f]{12,64}`, "sha256:<digest>"},
		{`\b[0-9A-HJKMNP-TV-Z]{10}\b`, "<id>"},
		{`\b([0-9]+h)?([0-9]+m)?[0-9]+(\.[0-9]+)?(ms|s)\b`, "<duration>"},
		{`-[0-9a-f]{8}\b`, "-<rand>"},
		{`ecs-svc/[0-9]{6,}`, "ecs-svc/<n>"},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
	}
	return s
}

var ulid = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)

func TestE2EReleaseDeployToMoto(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "", "")
	code, log, calls := runBinary(t, buildPlugin(t), w.dir,
		fmt.Sprintf(`{"environment":"stage","from-label":"ref.%s","table":%q,"timeout":"2m"}`, deployfixture.NewCommit, w.table), nil)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, log)
	}
	t.Logf("job log:\n%s", log)
	for _, section := range []string{"--- :ship: buoy release-deploy to stage", "--- :label: Moving tags", "--- :hourglass: Waiting for ECS",
		"+++ :white_check_mark: catalogue: release-deploy "} {
		if !hasSection(log, section) {
			t.Errorf("the job log has no section %q", section)
		}
	}

	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "success" || notes[0].Args[4] != "buoy-stage" {
		t.Fatalf("annotations = %v, want one --style success --context buoy-stage\n%s", notes, log)
	}
	golden.Check(t, "testdata/e2e-release-deploy.md", normalise(notes[0].Stdin))

	meta := metaData(calls)
	if meta["buoy:status"] != "succeeded" || meta["buoy:stage:status"] != "succeeded" {
		t.Errorf("status meta-data = %v, want succeeded", meta)
	}
	for _, key := range []string{"buoy:release-id", "buoy:deployment-id", "buoy:stage:release-id", "buoy:stage:deployment-id"} {
		if !ulid.MatchString(meta[key]) {
			t.Errorf("meta-data %s = %q, want an id", key, meta[key])
		}
	}

	// The history knows who asked, from where.
	ctx := context.Background()
	d, err := w.store.GetDeployment(ctx, "catalogue", meta["buoy:deployment-id"])
	if err != nil {
		t.Fatalf("read the deployment back: %v", err)
	}
	if want := "Ada Lovelace via Buildkite (https://buildkite.com/acme/catalogue/builds/42)"; d.RequestedBy != want {
		t.Errorf("RequestedBy = %q, want %q", d.RequestedBy, want)
	}
	if want := (history.CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/catalogue/builds/42", Commit: commit, Actor: "Ada Lovelace"}); d.CI != want {
		t.Errorf("CI = %+v, want %+v", d.CI, want)
	}
	if d.Description != "https://buildkite.com/acme/catalogue/builds/42" || d.ReleaseID != meta["buoy:release-id"] || d.Status != history.StatusSucceeded {
		t.Errorf("deployment = %+v", d)
	}

	// The floating tag now points at the label's digest.
	img, err := w.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(w.repo),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("env.stage")}}})
	if err != nil || len(img.Images) != 1 {
		t.Fatalf("read env.stage: %v %v", err, img)
	}
	if got := aws.ToString(img.Images[0].ImageId.ImageDigest); got != w.digest {
		t.Errorf("env.stage points at %s, want %s", got, w.digest)
	}
}

func TestE2EFailedRollout(t *testing.T) {
	t.Parallel()
	const td1 = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:1"
	dep := func(id, status string, running, failed int32, state, reason string) ecsfake.Deployment {
		return ecsfake.Deployment{ID: id, Status: status, TaskDefinition: td1, DesiredCount: 2, RunningCount: running,
			FailedTasks: failed, RolloutState: state, RolloutStateReason: reason, CreatedAt: ecsfake.At(0)}
	}
	old := dep("ecs-svc/0000", "PRIMARY", 2, 0, "COMPLETED", "")
	ours := dep("ecs-svc/1111", "PRIMARY", 0, 0, "IN_PROGRESS", "")
	failed := dep("ecs-svc/1111", "ACTIVE", 0, 3, "FAILED", "ECS deployment circuit breaker: tasks failed to start.")
	back := dep("ecs-svc/2222", "PRIMARY", 0, 0, "IN_PROGRESS", "")
	oldActive := old
	oldActive.Status = "ACTIVE"
	w := newWorld(t, ecsfake.Cluster, "api")
	fake := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{
		Name: "api", TaskDefinition: td1, DesiredCount: 2,
		Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{old}, RunningCount: 2},
		Update: ecsfake.Frame{Deployments: []ecsfake.Deployment{ours, oldActive}, RunningCount: 2},
		Frames: []ecsfake.Frame{
			{Deployments: []ecsfake.Deployment{ours, oldActive}, RunningCount: 2},
			{Deployments: []ecsfake.Deployment{back, failed}, RunningCount: 2, Tasks: []ecsfake.Task{{
				TaskArn: "arn:aws:ecs:eu-west-1:123456789012:task/test-cluster/t1", StartedBy: "ecs-svc/1111",
				LastStatus: "STOPPED", DesiredStatus: "STOPPED", StopCode: "TaskFailedToStart",
				StoppedReason: "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found",
			}}},
		},
	})
	fake.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: td1, Containers: []ecsfake.ContainerDefinition{{Name: "api", Image: w.repoURI + ":env.stage"}}})
	code, log, calls := runBinary(t, buildPlugin(t), w.dir,
		fmt.Sprintf(`{"environment":"stage","from-label":"ref.%s","table":%q,"timeout":"2m"}`, deployfixture.NewCommit, w.table),
		map[string]string{"AWS_ENDPOINT_URL_ECS": fake.URL})
	if code != 1 {
		t.Fatalf("exit code = %d, want 1 (deployment failed)\n%s", code, log)
	}
	if !strings.Contains(log, "^^^ +++") {
		t.Errorf("the log does not open the failed section:\n%s", log)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "error" || notes[0].Args[4] != "buoy-stage" {
		t.Fatalf("annotations = %v, want one --style error --context buoy-stage\n%s", notes, log)
	}
	golden.Check(t, "testdata/e2e-failed-rollout.md", normalise(notes[0].Stdin))
	if got := metaData(calls)["buoy:status"]; got != "failed" && got != "rolled-back" {
		t.Errorf("buoy:status = %q, want failed or rolled-back", got)
	}
}
