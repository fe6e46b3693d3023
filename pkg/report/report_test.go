package report_test

import (
	"github.com/buoy-deploy/buoy/internal/golden"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

const (
	d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	d3 = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func sample(status history.Status) *deploy.Result {
	start := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	return &deploy.Result{
		Project:     "catalogue",
		Environment: "stage",
		Release:     &history.Release{ID: "01JD0000000000000000000000"},
		Deployment:  &history.Deployment{ID: "01JD0000010000000000000000"},
		Status:      status,
		Images: []deploy.ImageResult{
			{Image: "api", Tag: "env.stage", From: d1, To: d2, Moved: true},
			{Image: "nginx", Tag: "env.stage", To: d3},
			{Image: "worker", Tag: "env.stage", To: d1, Moved: true},
			{Image: "docs", Tag: "env.stage", To: d3},
		},
		Services: []deploy.ServiceResult{
			{Service: "catalogue-api", Images: []string{"api", "nginx"}, Outcome: history.StatusSucceeded, Duration: 95 * time.Second},
			{Service: "catalogue-worker", Images: []string{"worker"}, Outcome: history.StatusFailed,
				Reason: "rolled back by the circuit breaker: 3 tasks stopped (CannotPullContainerError)", Duration: 41 * time.Second},
		},
		Started:  start,
		Finished: start.Add(2 * time.Minute),
	}
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	got := report.Markdown("release-deploy", sample(history.StatusFailed))
	golden.Check(t, filepath.Join("testdata", "failed.md"), got)
}

func TestMarkdownEscapesInput(t *testing.T) {
	t.Parallel()
	r := sample(history.StatusSucceeded)
	r.Services[0].Service = "evil|<script>alert(1)</script>\n| injected | row |"
	r.Services[0].Reason = "[click](http://x)"
	got := report.Markdown("deploy", r)
	for _, bad := range []string{"<script>", "\n| injected", "[click](http"} {
		if strings.Contains(got, bad) {
			t.Errorf("Markdown contains unescaped %q:\n%s", bad, got)
		}
	}
	if rows := strings.Count(got, "\n|"); rows != 2+3+1 {
		t.Errorf("table lines: got %d, want 6 (header, rule, 3 service rows, 1 unfed image)\n%s", rows, got)
	}
}

func TestShortDigest(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		d1:        "sha256:111111111111",
		"":        "",
		"sha256:": "sha256:",
		"latest":  "latest",
	} {
		if got := report.ShortDigest(in); got != want {
			t.Errorf("ShortDigest(%q): got %q, want %q", in, got, want)
		}
	}
}

func TestMarkdownCodeSpans(t *testing.T) {
	t.Parallel()
	r := sample(history.StatusSucceeded)
	r.Images[0].Tag = "env_stage`|x"
	got := report.Markdown("deploy", r)
	if !strings.Contains(got, "`env_stage'\\|x`") {
		t.Errorf("tag code span: want `env_stage'\\|x` (underscore kept, backtick and pipe neutralised), got:\n%s", got)
	}
}

// TestMarkdownNamesSSMParameters: for a project whose images are in SSM
// the table shows the parameter written where a tag would be.
func TestMarkdownNamesSSMParameters(t *testing.T) {
	t.Parallel()
	r := &deploy.Result{Project: "storage", Environment: "stage", Status: history.StatusSucceeded, Images: []deploy.ImageResult{
		{Image: "bag_register", Parameter: "/storage/images/stage/bag_register", To: "sha256:580466ef65191bd0a2e1", Moved: true},
	}}
	got := report.Markdown("release-deploy", r)
	if want := "| | bag\\_register | `/storage/images/stage/bag_register` → `sha256:580466ef6519` | | |"; !strings.Contains(got, want) {
		t.Errorf("Markdown:\n%s\nwant a row %q", got, want)
	}
}

// TestMarkdownShowsPreDeployTasks: a result that ran pre_deploy tasks
// shows them first, each with its outcome, ECS's reason and time; the
// task's reason (ECS's and the container's words) is escaped.
func TestMarkdownShowsPreDeployTasks(t *testing.T) {
	t.Parallel()
	r := sample(history.StatusFailed)
	r.PreDeploy = []deploy.TaskResult{{Task: "migrate", Cluster: "catalogue-stage", Outcome: history.StatusFailed, Duration: 42 * time.Second,
		Reason: "task 0a1b stopped (EssentialContainerExited): essential container app exited with code 3 | <b>"}}
	got := report.Markdown("release-deploy", r)
	golden.Check(t, filepath.Join("testdata", "pre-deploy-failed.md"), got)
	if strings.Contains(got, "<b>") || strings.Index(got, "migrate") > strings.Index(got, "catalogue-api") {
		t.Errorf("Markdown: want the task escaped and shown before the services:\n%s", got)
	}
}
