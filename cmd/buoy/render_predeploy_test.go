package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// migrationEvents are the events of a deployment whose migration fails:
// its plan, start, progress, end, the last lines its container wrote,
// and the failure.
func migrationEvents() []event.Event {
	return []event.Event{
		{Kind: event.Plan, Task: "migrate", Message: "run migrate in cluster shop-stage: a revision of migrate:3 with the release's images pinned, container app running bin/migrate; waits up to 15m0s"},
		{Kind: event.TaskStarted, Task: "migrate", Message: "started ECS task 0a1b2c3d of migrate:4"},
		{Kind: event.TaskProgress, Task: "migrate", Message: "task 0a1b2c3d RUNNING"},
		{Kind: event.TaskDone, Task: "migrate", Outcome: "failed", Message: "failed after 42s: task 0a1b2c3d stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3"},
		{Kind: event.TaskLog, Task: "migrate", Message: `[app] ERROR: relation "users" already exists`},
		{Kind: event.Failed, Message: "pre_deploy task migrate failed: task 0a1b2c3d stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3"},
		{Kind: event.Finished, Outcome: "failed", Message: "deployment failed"},
	}
}

func TestProgressLinesOfAMigrationGolden(t *testing.T) {
	t.Parallel()
	for _, jsonLines := range []bool{false, true} {
		t.Run(fmt.Sprint("json=", jsonLines), func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			p := newProgress(&b, jsonLines)
			for i, e := range migrationEvents() {
				e.Time = t0.Add(time.Duration(i*7) * time.Second)
				p.Emit(e)
			}
			name := "testdata/progress-pre-deploy.txt"
			if jsonLines {
				name = "testdata/progress-pre-deploy.jsonl"
			}
			golden.Check(t, name, b.String())
		})
	}
}

func TestPrintResultOfAFailedMigrationGolden(t *testing.T) {
	t.Parallel()
	r := failedResult()
	r.Deployment.Reason = "pre_deploy task migrate failed: essential container app exited with code 3; no tag was moved and no service updated"
	for i := range r.Images {
		r.Images[i].Moved = false
	}
	r.Services = []deploy.ServiceResult{{Service: "web", Cluster: "shop-stage", Reason: "not updated"}}
	r.PreDeploy = []deploy.TaskResult{{Task: "migrate", Cluster: "shop-stage", TaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/migrate:4",
		TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/shop-stage/0a1b2c3d", Outcome: history.StatusFailed, Duration: 42 * time.Second,
		Reason: "task 0a1b2c3d stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3"}}
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			failure := &deploy.PreDeployError{Task: "migrate", Outcome: &deploy.TaskOutcome{Reason: r.PreDeploy[0].Reason}}
			if err := printResult(&b, output, "release-deploy", r, failure); !errors.Is(err, deploy.ErrDeploymentFailed) {
				t.Errorf("printResult returned %v, want the deployment's error", err)
			}
			golden.Check(t, "testdata/result-pre-deploy-failed."+output, b.String())
		})
	}
}
