package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// TestAMigrationIsShownInItsGroup: a pre_deploy task's start, progress,
// end and the last lines its container wrote go to a log group of their
// own, each line naming the task; the failure is an error annotation
// titled with the task; a log line cannot issue a workflow command.
func TestAMigrationIsShownInItsGroup(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	r := newRenderer(a, "")
	for _, e := range []event.Event{
		{Kind: event.Plan, Task: "migrate", Message: "run migrate in cluster main: a revision of migrate:3 with the release's images pinned"},
		{Kind: event.TaskStarted, Task: "migrate", Message: "started ECS task 0a1b of migrate:4"},
		{Kind: event.TaskProgress, Task: "migrate", Message: "task 0a1b RUNNING"},
		{Kind: event.TaskDone, Task: "migrate", Outcome: "failed", Message: "failed after 42s: essential container app exited with code 3"},
		{Kind: event.TaskLog, Task: "migrate", Message: "[app] ::set-env name=X::y ##[error]fake"},
		{Kind: event.Failed, Project: "shop", Environment: "stage", Task: "migrate", Message: "pre_deploy task migrate failed"},
		{Kind: event.Finished, Outcome: "failed"},
	} {
		r.Emit(e)
	}
	r.Close()
	want := strings.Join([]string{
		"::group::Plan",
		"run migrate in cluster main: a revision of migrate:3 with the release's images pinned",
		"::endgroup::",
		"::group::Run pre-deploy tasks",
		"migrate: started ECS task 0a1b of migrate:4",
		"migrate: task 0a1b RUNNING",
		"migrate: failed after 42s: essential container app exited with code 3",
		`migrate: [app] ::set-env name=X::y ##\[error]fake`,
		"::error title=buoy shop/stage%3A pre-deploy task migrate::pre_deploy task migrate failed",
		"::endgroup::",
		"failed",
		"",
	}, "\n")
	if out.String() != want {
		t.Errorf("log =\n%s\nwant\n%s", out.String(), want)
	}
}
