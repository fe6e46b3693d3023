package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// The --output json forms of status, history, show-release (and
// prepare) and ecs-deploy, as docs/cli.md documents them. A change here
// changes what scripts read: review the golden diff.
func TestJSONOutputGolden(t *testing.T) {
	t.Parallel()
	ci := history.CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/shop/builds/42", Commit: "3f2a9c1e", Actor: "alice"}
	rel := &history.Release{ID: "01JD3QX7Z8M4N5P6Q7R8S9T0VW", Project: "shop", CreatedAt: t0, RequestedBy: "alice via buildkite",
		Label: "ref.3f2a9c1e", CI: ci, Images: map[string]history.ImageRef{"web": {
			Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web", Tag: "ref.3f2a9c1e",
			Digest: "sha256:580466ef65191bd0a2e1", MediaType: "application/vnd.docker.distribution.manifest.v2+json"}}}
	dep := &history.Deployment{ID: "01JD3QX80000000000000000AA", Project: "shop", Environment: "stage", ReleaseID: rel.ID,
		RollbackOf: "01JD3QX60000000000000000AA", Status: history.StatusSucceeded, StartedAt: t0, FinishedAt: t0.Add(83 * time.Second),
		RequestedBy: "alice via buildkite", CI: ci,
		Images: map[string]history.TagMove{"web": {Repository: rel.Images["web"].Repository, Tag: "env.stage",
			From: "sha256:00757069b30711aa", To: "sha256:580466ef65191bd0a2e1", Moved: true, Done: true}},
		Services: []history.ServiceOutcome{{Service: "web", Cluster: "shop-stage", Region: "eu-west-1", ECSDeployment: "ecs-svc/1111",
			TaskDefinition:         "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:8",
			PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-web:7", Outcome: history.StatusSucceeded}},
		Notifications: []history.Notification{
			{Target: "slack (SLACK_WEBHOOK_URL)", Event: "start", Outcome: history.NotificationSent, Attempts: 1, At: t0},
			{Target: "webhook (DEPLOY_HOOK_URL)", Event: "success", Outcome: history.NotificationFailed,
				Error: "it answered 500 Internal Server Error (4 tries)", Attempts: 4, At: t0.Add(84 * time.Second)}},
		Version: 4}
	unlock := &history.Unlock{ID: "01JD3QX90000000000000000AA", Project: "shop", Environment: "stage", At: t0.Add(10 * time.Minute),
		RequestedBy: "bob@laptop", Reason: "build 41 was killed; its lock holds up the hotfix",
		Freed: history.Lock{Project: "shop", Environment: "stage", Owner: "9f2c4e1a7b3d5f60", RequestedBy: "alice via buildkite",
			BuildURL: ci.BuildURL, AcquiredAt: t0, ExpiresAt: t0.Add(2 * time.Minute), Token: "KJ3D8W2QXZ7VN4M5", TTL: 2 * time.Minute}}
	status := sampleStatus(rel, dep)
	single := &ecsdeploy.Result{Service: "api", Cluster: "production", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:ref.3f2a9c1e",
		TaskDefinition:         "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:12",
		PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:11", ECSDeployment: "ecs-svc/2222",
		Outcome: history.StatusRolledBack, Reason: "the circuit breaker stopped deployment ecs-svc/2222; rolled back to api:11",
		Deregistered: []string{"arn:aws:ecs:eu-west-1:123456789012:task-definition/api:9"}, Stats: map[string]int{"ECS.UpdateService": 2}}
	exit1, exit0 := int32(1), int32(0)
	task := &ecsdeploy.Result{Cluster: "jobs", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:ref.3f2a9c1e",
		TaskDefinition:         "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:8",
		PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:7", Outcome: history.StatusFailed,
		Reason: "task 0f1e2d3c stopped (EssentialContainerExited: Essential container in task exited): essential container migrate exited with code 1",
		Task: &ecsdeploy.TaskResult{ARN: "arn:aws:ecs:eu-west-1:123456789012:task/jobs/0f1e2d3c", Outcome: "tasks-stopped", LastStatus: "STOPPED",
			StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
			Diagnosis: "task 0f1e2d3c stopped (EssentialContainerExited: Essential container in task exited): essential container migrate exited with code 1",
			Containers: []ecsdeploy.ContainerResult{
				{Name: "migrate", Essential: true, ExitCode: &exit1, LogGroup: "/ecs/migrate", LogStream: "ecs/migrate/0f1e2d3c",
					Logs: []string{"applying 0042_orders", "ERROR: relation \"orders\" already exists"}},
				{Name: "log-router", Essential: false, ExitCode: &exit0}}},
		Stats: map[string]int{"ECS.RunTask": 1, "ECS.DescribeTasks": 4, "CloudWatchLogs.GetLogEvents": 1}}

	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"status", func(b *bytes.Buffer) error { return writeJSON(b, status) }},
		{"history", func(b *bytes.Buffer) error {
			return writeJSON(b, &deploy.HistoryReport{Project: "shop", Releases: []*history.Release{rel}, Deployments: []*history.Deployment{dep},
				Unlocks: []*history.Unlock{unlock}})
		}},
		{"release", func(b *bytes.Buffer) error { return printRelease(b, "json", rel) }},
		{"ecs-deploy", func(b *bytes.Buffer) error { return writeJSON(b, single) }},
		{"ecs-deploy-task", func(b *bytes.Buffer) error { return writeJSON(b, task) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.write(&b); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tt.name+".json", b.String())
		})
	}
}
