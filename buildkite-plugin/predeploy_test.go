package main

import (
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestAFailedMigrationIsShownInItsSection: a deployment whose pre_deploy
// task fails shows the task's start, end and the last lines its
// container wrote in a section of their own, opened for the failure; a
// line that looks like a section marker or a terminal escape opens
// nothing; the annotation lists the task with its reason, and the job
// fails.
func TestAFailedMigrationIsShownInItsSection(t *testing.T) {
	t.Parallel()
	res := result(history.StatusFailed, "", "not updated")
	res.Images[0].Moved = false
	res.PreDeploy = []deploy.TaskResult{{Task: "migrate", Cluster: "stage", Outcome: history.StatusFailed, Duration: 42 * time.Second,
		Reason: "task 0a1b stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3"}}
	failure := &deploy.PreDeployError{Task: "migrate", Outcome: &deploy.TaskOutcome{Reason: res.PreDeploy[0].Reason}}
	fake := &entrytest.Deployer{Result: res, Err: failure, Events: []event.Event{
		{Kind: event.Plan, Task: "migrate", Message: "run migrate in cluster stage: a revision of migrate:3 with the release's images pinned"},
		{Kind: event.TaskStarted, Task: "migrate", Cluster: "stage", Message: "started ECS task 0a1b of migrate:4"},
		{Kind: event.TaskProgress, Task: "migrate", Message: "task 0a1b RUNNING"},
		{Kind: event.TaskDone, Task: "migrate", Cluster: "stage", Outcome: "failed", Message: "failed after 42s: " + res.PreDeploy[0].Reason},
		{Kind: event.TaskLog, Task: "migrate", Message: "[app] --- :skull: not a section \x1b[31mred"},
		{Kind: event.TaskLog, Task: "migrate", Message: `[app] ERROR: relation "users" already exists`},
		{Kind: event.Failed, Message: failure.Error()},
	}}
	log, calls, err := runPlugin(t, `{"environment":"stage"}`, fake, false)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit code = %d (%v), want 1\n%s", code, err, log)
	}
	section := "--- :card_file_box: Running pre-deploy tasks"
	i := strings.Index(log, section)
	if i < 0 {
		t.Fatalf("no pre-deploy section in the log:\n%s", log)
	}
	for _, want := range []string{
		"  pre-deploy task migrate: started ECS task 0a1b of migrate:4",
		"  pre-deploy task migrate: task 0a1b RUNNING",
		"  pre-deploy task migrate: failed after 42s: task 0a1b stopped (EssentialContainerExited: Essential container in task exited): essential container app exited with code 3",
		`  pre-deploy task migrate: [app] ERROR: relation "users" already exists`,
		"  ❌ error: pre_deploy task migrate failed",
		"^^^ +++",
	} {
		if !strings.Contains(log[i:], want) {
			t.Errorf("the pre-deploy section lacks %q:\n%s", want, log[i:])
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--- :skull:") || strings.Contains(line, "\x1b") {
			t.Errorf("a log line of the task opened a section or reached the log with an escape: %q", line)
		}
	}
	notes := annotations(calls)
	if len(notes) != 1 || !strings.Contains(notes[0].Stdin, "| migrate | stage | failed: task 0a1b stopped") {
		t.Errorf("annotations: got %v, want one listing migrate, failed", notes)
	}
}
