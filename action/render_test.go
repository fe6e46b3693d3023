package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

func TestAnnotateManifest(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	r := newRenderer(a, "/github/workspace")
	cause := errors.New("2 problems")
	err := r.annotateManifest([]manifest.Diagnostic{
		{Pos: manifest.Position{File: "/github/workspace/deploy/buoy.yaml", Line: 7, Column: 5}, Message: `unknown key "servces"`, Hint: "did you mean services?"},
		{Pos: manifest.Position{File: "deploy/buoy.yaml", Line: 12, Column: 3}, Message: "duplicate image id api"},
	}, cause)
	want := "::error col=5,file=deploy/buoy.yaml,line=7,title=buoy: invalid manifest::unknown key \"servces\" (did you mean services?)\n" +
		"::error col=3,file=deploy/buoy.yaml,line=12,title=buoy: invalid manifest::duplicate image id api\n"
	want = strings.ReplaceAll(want, "title=buoy: invalid", "title=buoy%3A invalid")
	if out.String() != want {
		t.Errorf("annotations =\n%s\nwant\n%s", out.String(), want)
	}
	var re *reportedError
	if !errors.As(err, &re) || !errors.Is(err, cause) {
		t.Fatalf("err = %v, want a reportedError wrapping the cause", err)
	}
	if want := "the manifest deploy/buoy.yaml has 2 problems (annotated above): fix it and run again"; re.summary != want {
		t.Errorf("summary = %q, want %q", re.summary, want)
	}
}

func TestEventsInGroups(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	r := newRenderer(a, "")
	for _, e := range []event.Event{
		{Kind: event.Plan, Image: "api", Message: "move env.stage"},
		{Kind: event.Plan, Service: "web", Cluster: "main", Message: "redeploy"},
		{Kind: event.TagMoved, Image: "api", To: digestA, From: digestA},
		{Kind: event.Progress, Service: "web", Message: "1/2 running"},
		{Kind: event.Progress, Service: "web", Cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/main", Message: "2/2 running"},
		{Kind: event.ServiceDone, Service: "web", Outcome: "failed", Message: "task stopped: exit code 137"},
		{Kind: event.Failed, Service: "web", File: "buoy.yaml", Line: 3, Message: "boom"},
		{Kind: event.Finished, Outcome: "failed", Message: "deployment failed: web: task stopped: exit code 137"},
	} {
		r.Emit(e)
	}
	r.Close()
	want := strings.Join([]string{
		"::group::Plan",
		"api: move env.stage",
		"web (main): redeploy",
		"::endgroup::",
		"::group::Move floating tags",
		"api: tag already at sha256:aaaaaaaaaaaa",
		"::endgroup::",
		"::group::Roll out services",
		"web: 1/2 running",
		"web (main): 2/2 running",
		"web: failed: task stopped: exit code 137",
		"::error file=buoy.yaml,line=3,title=buoy%3A service web::web: boom",
		"::endgroup::",
		"deployment failed: web: task stopped: exit code 137",
		"",
	}, "\n")
	if out.String() != want {
		t.Errorf("log =\n%s\nwant\n%s", out.String(), want)
	}
}

// TestLifecycleEventsGolden: the lifecycle of a canary rollout goes in
// the "Roll out services" group, one escaped line per event; the failed
// hook and the alarm in ALARM are also warning annotations. No text of
// an event becomes a workflow command.
func TestLifecycleEventsGolden(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	r := newRenderer(a, "")
	for _, e := range entrytest.LifecycleEvents() {
		r.Emit(e)
	}
	r.Close()
	golden.Check(t, "testdata/lifecycle.log", out.String())
}

// TestHeartbeatsGolden: a rollout stuck for 3 minutes shows a line every
// 30 s in the rollout's log group, its outside text unable to issue a
// workflow command.
func TestHeartbeatsGolden(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	a := githubactions.New(githubactions.WithWriter(&out), githubactions.WithGetenv(func(string) string { return "" }))
	r := newRenderer(a, "")
	for _, e := range entrytest.StuckRollout(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)) {
		r.Emit(e)
	}
	r.Close()
	golden.Check(t, "testdata/heartbeat.log", out.String())
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "not from buoy") && (strings.HasPrefix(strings.TrimSpace(line), "::") || strings.Contains(line, "##[")) {
			t.Errorf("a line could issue a workflow command: %q", line)
		}
	}
}
