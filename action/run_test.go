package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// harness is one run of the action with an injected environment.
type harness struct {
	env    map[string]string
	out    bytes.Buffer
	fake   *entrytest.Deployer
	github []ghdeploy.Option
}

func newHarness(t *testing.T, inputs map[string]string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{
		env: map[string]string{
			"GITHUB_ACTIONS":        "true",
			"GITHUB_OUTPUT":         filepath.Join(dir, "output"),
			"GITHUB_STEP_SUMMARY":   filepath.Join(dir, "summary"),
			"GITHUB_ACTOR":          "octocat",
			"GITHUB_REPOSITORY":     "acme/shop",
			"GITHUB_RUN_ID":         "1234",
			"GITHUB_SERVER_URL":     "https://github.com",
			"GITHUB_SHA":            "3f2a9c",
			"GITHUB_WORKSPACE":      "/github/workspace",
			"AWS_SECRET_ACCESS_KEY": "aws-secret",
			"AWS_SESSION_TOKEN":     "aws-session",
		},
		fake: &entrytest.Deployer{},
	}
	for k, v := range inputs {
		h.env["INPUT_"+strings.ToUpper(k)] = v
	}
	return h
}

func (h *harness) run(t *testing.T) error {
	t.Helper()
	a := githubactions.New(
		githubactions.WithWriter(&h.out),
		githubactions.WithGetenv(func(k string) string { return h.env[k] }),
	)
	return run(context.Background(), a, deps{open: h.fake.Open, github: h.github})
}

func (h *harness) outputs(t *testing.T) map[string]string {
	t.Helper()
	return readOutputs(t, h.env["GITHUB_OUTPUT"])
}

func (h *harness) summary(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(h.env["GITHUB_STEP_SUMMARY"])
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// readOutputs parses GITHUB_OUTPUT's heredoc format (cihost.ReadOutputs).
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	return cihost.ReadOutputs(t, path)
}

func succeeded() *deploy.Result {
	start := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	return &deploy.Result{
		Project:     "shop",
		Environment: "stage",
		Release: &history.Release{ID: "01JREL0000000000000000000", Images: map[string]history.ImageRef{
			"api": {Repository: "r/api", Digest: digestB},
		}},
		Deployment: &history.Deployment{ID: "01JDEP0000000000000000000"},
		Status:     history.StatusSucceeded,
		Images:     []deploy.ImageResult{{Image: "api", Tag: "env.stage", From: digestA, To: digestB, Moved: true}},
		Services: []deploy.ServiceResult{{Service: "shop-api", Cluster: "main", Images: []string{"api"},
			Outcome: history.StatusSucceeded, Duration: 42 * time.Second}},
		Started:  start,
		Finished: start.Add(time.Minute),
	}
}

func TestReleaseDeploySucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"environment": "stage", "from-label": "ref.3f2a9c", "github-token": "gh-secret"})
	h.env["GITHUB_API_URL"] = "http://127.0.0.1:1" // nothing listens: GitHub fails, the deployment does not
	h.github = []ghdeploy.Option{ghdeploy.WithRetry(0, time.Millisecond, time.Millisecond)}
	h.fake.Result = succeeded()
	h.fake.Events = []event.Event{
		{Kind: event.Plan, Image: "api", Message: "env.stage → sha256:bbbb"},
		{Kind: event.TagMoved, Image: "api", From: digestA, To: digestB},
		{Kind: event.ServiceUpdated, Service: "shop-api", Cluster: "main", Message: "deployment ecs-svc/1 started"},
		{Kind: event.Warning, Project: "shop", Environment: "stage", Service: "shop-api", Message: "desired count is 1"},
		{Kind: event.ServiceDone, Service: "shop-api", Outcome: "succeeded"},
		{Kind: event.Finished, Outcome: "succeeded", Message: "1 service"},
	}
	if err := h.run(t); err != nil {
		t.Fatalf("run: %v\n%s", err, h.out.String())
	}

	in, ok := h.fake.Calls()[0].(deploy.ReleaseDeployInput)
	if !ok {
		t.Fatalf("called with %T, want ReleaseDeployInput", h.fake.Calls()[0])
	}
	runURL := "https://github.com/acme/shop/actions/runs/1234"
	if in.Label != "ref.3f2a9c" || in.Environment != "stage" || in.Timeout != 0 {
		t.Errorf("input = %+v, want label ref.3f2a9c to stage", in)
	}
	if want := "octocat via GitHub Actions (" + runURL + ")"; in.RequestedBy != want {
		t.Errorf("RequestedBy = %q, want %q", in.RequestedBy, want)
	}
	if want := (history.CI{Provider: "github-actions", BuildURL: runURL, Commit: "3f2a9c", Actor: "octocat"}); in.CI != want {
		t.Errorf("CI = %+v, want %+v", in.CI, want)
	}
	if in.Description != runURL {
		t.Errorf("Description = %q, want the run URL %q", in.Description, runURL)
	}

	out := h.out.String()
	for _, want := range []string{
		"::add-mask::gh-secret\n", "::add-mask::aws-secret\n", "::add-mask::aws-session\n",
		"::group::Plan\n", "::group::Move floating tags\n", "::group::Roll out services\n", "::endgroup::\n",
		"api: tag sha256:aaaaaaaaaaaa → sha256:bbbbbbbbbbbb\n",
		"::warning title=buoy shop/stage%3A service shop-api::shop-api: desired count is 1\n",
		"::warning::the deployment goes on, but GitHub will not show it",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q; log:\n%s", want, out)
		}
	}
	if strings.Index(out, "::add-mask::") != 0 {
		t.Errorf("log does not start with the masks:\n%s", out)
	}
	if n := strings.Count(out, "gh-secret"); n != 1 {
		t.Errorf("the token appears %d times in the log, want once (in add-mask)", n)
	}
	if strings.Count(out, "::group::") != strings.Count(out, "::endgroup::") {
		t.Errorf("groups are not all closed:\n%s", out)
	}

	got := h.outputs(t)
	want := map[string]string{
		"release-id":    "01JREL0000000000000000000",
		"deployment-id": "01JDEP0000000000000000000",
		"status":        "succeeded",
		"images":        `{"api":"` + digestB + `"}`,
		"services":      `{"shop-api":"succeeded"}`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got["summary-markdown"], "| shop-api | api |") {
		t.Errorf("summary-markdown = %q, want the report table", got["summary-markdown"])
	}
	if s := h.summary(t); s == "" || !strings.Contains(s, "✅") {
		t.Errorf("job summary = %q, want the succeeded report", s)
	}
}

func TestFailedRollout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"environment": "stage", "rollback-on-failure": "true", "timeout": "5m", "wait": "false"})
	res := succeeded()
	res.Status = history.StatusRolledBack
	res.Services[0].Outcome = history.StatusFailed
	res.Services[0].Reason = "rolled back by the circuit breaker: 3 tasks stopped (exit code 1)"
	h.fake.Result = res
	h.fake.Err = fmt.Errorf("shop/stage: %w", deploy.ErrDeploymentFailed)
	h.fake.Events = []event.Event{
		{Kind: event.ServiceUpdated, Service: "shop-api"},
		{Kind: event.Failed, Project: "shop", Environment: "stage", Service: "shop-api", Message: "rolled back by the circuit breaker\n::error::injected"},
	}
	err := h.run(t)
	if !errors.Is(err, deploy.ErrDeploymentFailed) {
		t.Fatalf("err = %v, want ErrDeploymentFailed", err)
	}
	if !strings.Contains(err.Error(), "reasons above") {
		t.Errorf("err = %q, want it to say where to look", err)
	}
	in := h.fake.Calls()[0].(deploy.ReleaseDeployInput)
	if !in.Rollback || !in.NoWait || in.Timeout != 5*time.Minute {
		t.Errorf("request = %+v, want Rollback, NoWait and a 5m timeout", in.Request)
	}
	out := h.out.String()
	if want := "::error title=buoy shop/stage%3A service shop-api::shop-api: rolled back by the circuit breaker%0A::error::injected\n"; !strings.Contains(out, want) {
		t.Errorf("log lacks %q (escaped); log:\n%s", want, out)
	}
	got := h.outputs(t)
	if got["status"] != "rolled-back" || got["services"] != `{"shop-api":"failed"}` {
		t.Errorf("outputs = %v, want status rolled-back and the failed service", got)
	}
	if s := h.summary(t); !strings.Contains(s, "circuit breaker") {
		t.Errorf("job summary = %q, want the reason", s)
	}
}

func TestCommandsCallTheirOperation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		inputs map[string]string
		want   string
	}{
		{map[string]string{"command": "deploy", "environment": "stage", "release": "01J"}, "deploy.DeployInput"},
		{map[string]string{"command": "deploy", "environment": "stage", "release": "latest"}, "deploy.DeployInput"},
		{map[string]string{"command": "promote", "environment": "prod", "from-environment": "stage"}, "deploy.PromoteInput"},
		{map[string]string{"command": "rollback", "environment": "prod"}, "deploy.RollbackInput"},
		{map[string]string{"command": "plan", "environment": "prod"}, "deploy.ReleaseDeployInput"},
		{map[string]string{"command": "plan", "environment": "prod", "from-environment": "stage"}, "deploy.PromoteInput"},
		{map[string]string{"command": "plan", "environment": "prod", "release": "01J"}, "deploy.DeployInput"},
		{map[string]string{"command": "prepare", "from-label": "latest"}, "deploy.PrepareInput"},
		{map[string]string{"command": "status"}, "deploy.StatusInput"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.inputs), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.inputs)
			h.fake.Result = succeeded()
			h.fake.Report = &deploy.StatusReport{Project: "shop"}
			if err := h.run(t); err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := fmt.Sprintf("%T", h.fake.Calls()[0]); got != tt.want {
				t.Errorf("called with %s, want %s", got, tt.want)
			}
			if tt.inputs["command"] == "plan" {
				if !strings.Contains(fmt.Sprintf("%+v", h.fake.Calls()[0]), "DryRun:true") {
					t.Errorf("plan called %+v, want DryRun", h.fake.Calls()[0])
				}
			}
		})
	}
}

func TestPrepareWritesRelease(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"command": "prepare"})
	h.fake.Result = succeeded()
	h.fake.Result.Release.Project = "shop"
	h.fake.Result.Release.Label = "latest"
	if err := h.run(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	got := h.outputs(t)
	if got["release-id"] != "01JREL0000000000000000000" || got["images"] != `{"api":"`+digestB+`"}` {
		t.Errorf("outputs = %v, want the release id and digests", got)
	}
	if !strings.Contains(h.summary(t), "| api | r/api | `sha256:bbbbbbbbbbbb` |") {
		t.Errorf("summary = %q, want the release's images", h.summary(t))
	}
}

func TestStatusWarnsAboutDrift(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"command": "status", "environment": "prod"})
	h.fake.Report = &deploy.StatusReport{Project: "shop", Environments: []deploy.EnvironmentStatus{{
		Environment: "prod",
		Current:     &history.Current{ReleaseID: "01JREL", DeploymentID: "01JDEP"},
		Images:      []deploy.ImageStatus{{Image: "api", Tag: "env.prod", Recorded: digestA, Tagged: digestB}},
		Services:    []deploy.ServiceStatus{{Service: "shop-api", Cluster: "main", Running: 2, Desired: 2}},
		Drift:       []string{"env.prod of api points at sha256:bbbbbbbbbbbb, not the recorded sha256:aaaaaaaaaaaa"},
	}}}
	if err := h.run(t); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(h.out.String(), "::warning title=buoy shop/prod::drift: env.prod of api points at") {
		t.Errorf("log lacks the drift warning:\n%s", h.out.String())
	}
	got := h.outputs(t)
	if got["status"] != "drift" || got["release-id"] != "01JREL" || got["services"] != `{"shop-api":"2/2 running"}` {
		t.Errorf("outputs = %v, want drift, the release and the services", got)
	}
	if !strings.Contains(h.summary(t), "⚠️ shop/prod runs release `01JREL`") {
		t.Errorf("summary = %q, want a drift heading", h.summary(t))
	}
}

// TestStatusNeverSaysInSyncWhenECSDidNotSay: an environment whose tasks
// reported no digest is not in sync: the status output is unknown, the
// summary's heading is not ✅, and each unknown becomes a warning; one
// that agrees is in-sync; drift anywhere wins.
func TestStatusNeverSaysInSyncWhenECSDidNotSay(t *testing.T) {
	t.Parallel()
	agrees := deploy.EnvironmentStatus{Environment: "stage", State: deploy.Agrees,
		Current:  &history.Current{ReleaseID: "01JREL", DeploymentID: "01JDEP"},
		Services: []deploy.ServiceStatus{{Service: "shop-api", Cluster: "main", Running: 2, Desired: 2, State: deploy.Agrees}}}
	unknown := deploy.EnvironmentStatus{Environment: "prod", State: deploy.Unknown,
		Current:  &history.Current{ReleaseID: "01JREL", DeploymentID: "01JDEP"},
		Services: []deploy.ServiceStatus{{Service: "shop-api", Cluster: "main", Running: 2, Desired: 2, State: deploy.Unknown}},
		Unknown:  []string{"service shop-api: none of its 2 running tasks reported a digest for api, so ECS did not say what it runs"}}
	drifted := deploy.EnvironmentStatus{Environment: "qa", State: deploy.Drifted, Drift: []string{"service shop-api runs 1 of 2 tasks"}}
	for _, tc := range []struct {
		name    string
		envs    []deploy.EnvironmentStatus
		status  string
		summary []string
	}{
		{"agrees", []deploy.EnvironmentStatus{agrees}, "in-sync", []string{"### ✅ shop/stage runs release `01JREL`", "| 2/2 | ✅ agrees |"}},
		{"unknown", []deploy.EnvironmentStatus{agrees, unknown}, "unknown",
			[]string{"### ❔ shop/prod runs release `01JREL`", "| 2/2 | ❔ unknown |", "- unknown: service shop-api: none of its 2 running tasks reported a digest"}},
		{"drift wins", []deploy.EnvironmentStatus{unknown, drifted}, "drift", []string{"### ⚠️ shop/qa", "- drift: service shop-api runs 1 of 2 tasks"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, map[string]string{"command": "status"})
			h.fake.Report = &deploy.StatusReport{Project: "shop", Environments: tc.envs}
			if err := h.run(t); err != nil {
				t.Fatalf("run: %v", err)
			}
			if got := h.outputs(t)["status"]; got != tc.status {
				t.Errorf("status output: got %q, want %q", got, tc.status)
			}
			summary := h.summary(t)
			for _, want := range tc.summary {
				if !strings.Contains(summary, want) {
					t.Errorf("summary lacks %q:\n%s", want, summary)
				}
			}
			if tc.status != "in-sync" && strings.Contains(summary, "### ✅ shop/prod") {
				t.Errorf("summary says prod agrees though ECS did not say:\n%s", summary)
			}
			if hasUnknown := strings.Contains(h.out.String(), "::warning title=buoy shop/prod::unknown: service shop-api"); hasUnknown != (tc.status != "in-sync") {
				t.Errorf("log warns about the unknown: %v, want %v:\n%s", hasUnknown, tc.status != "in-sync", h.out.String())
			}
		})
	}
}

func TestInvalidInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inputs map[string]string
		want   []string
	}{
		{"missing environment", map[string]string{}, []string{"input environment is required for command release-deploy"}},
		{"unknown command", map[string]string{"command": "destroy", "environment": "x"}, []string{`"destroy" is not a command`, "release-deploy, prepare"}},
		{"bad boolean", map[string]string{"environment": "x", "wait": "yes"}, []string{`input wait: "yes" is not a boolean`}},
		{"bad duration", map[string]string{"environment": "x", "timeout": "30"}, []string{`input timeout: "30" is not a duration: write it like 30m`}},
		{"negative duration", map[string]string{"environment": "x", "timeout": "-5m"}, []string{"more than zero"}},
		{"release and source", map[string]string{"environment": "x", "release": "1", "from-environment": "y"}, []string{"cannot be used together"}},
		{"several at once", map[string]string{"dry-run": "maybe", "confirm": "1"}, []string{"environment is required", "dry-run", "confirm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.inputs)
			err := h.run(t)
			var ie *inputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *inputError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
			if h.fake.Opened() != nil || len(h.fake.Calls()) > 0 {
				t.Errorf("the deployer was opened or called despite invalid inputs")
			}
		})
	}
}

func TestNoOutputFilesNoPanic(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"environment": "stage"})
	delete(h.env, "GITHUB_OUTPUT")
	delete(h.env, "GITHUB_STEP_SUMMARY")
	h.fake.Result = succeeded()
	if err := h.run(t); err != nil {
		t.Fatalf("run without GITHUB_OUTPUT: %v", err)
	}
	if len(h.fake.Calls()) != 1 {
		t.Errorf("deployer called %d times, want 1", len(h.fake.Calls()))
	}
}

// TestGitHubDeploymentStatuses: with a github-token, the action looks
// for the deployment an earlier try of this step created (none here),
// creates one (a production one for a protected environment, naming the
// run's step in its payload), marks it in progress and then with the
// outcome.
func TestGitHubDeploymentStatuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, environment string
		fail              bool
		production        bool
	}{
		{name: "succeeds in a protected environment", environment: "prod", production: true},
		{name: "fails in a protected environment", environment: "prod", fail: true, production: true},
		{name: "succeeds in an unprotected environment", environment: "stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				var body bytes.Buffer
				_, _ = body.ReadFrom(r.Body)
				got = append(got, r.Method+" "+r.URL.RequestURI()+" "+body.String())
				if r.Method == http.MethodGet {
					_, _ = w.Write([]byte(`[]`))
					return
				}
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"id": 9}`))
			}))
			t.Cleanup(srv.Close)
			h := newHarness(t, map[string]string{"environment": tt.environment, "github-token": "tok", "environment-url": "https://shop.example"})
			h.env["GITHUB_API_URL"] = srv.URL
			h.env["GITHUB_RUN_ATTEMPT"], h.env["GITHUB_JOB"], h.env["GITHUB_ACTION"] = "2", "deploy", "buoy"
			h.fake.Manifest = shopProject()
			h.fake.Result = succeeded()
			if tt.fail {
				h.fake.Result.Status = history.StatusFailed
				h.fake.Err = deploy.ErrDeploymentFailed
			}
			err := h.run(t)
			if tt.fail != (err != nil) {
				t.Fatalf("run: err = %v, want failure %v", err, tt.fail)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 4 {
				t.Fatalf("GitHub got %d requests, want 4 (look up, create, in_progress, final):\n%s", len(got), strings.Join(got, "\n"))
			}
			if want := "GET /repos/acme/shop/deployments?environment=" + tt.environment + "&per_page=100&sha=3f2a9c&task=deploy "; got[0] != want {
				t.Errorf("look up = %q, want %q", got[0], want)
			}
			for _, want := range []string{`"environment":"` + tt.environment + `"`, `"ref":"3f2a9c"`,
				fmt.Sprintf(`"production_environment":%v`, tt.production), `"transient_environment":false`,
				`"payload":{"buoy":{"run_id":"1234","run_attempt":"2","job":"deploy","step":"buoy","project":"shop"}}`} {
				if !strings.HasPrefix(got[1], "POST /repos/acme/shop/deployments ") || !strings.Contains(got[1], want) {
					t.Errorf("create = %s, want it to hold %s", got[1], want)
				}
			}
			if !strings.Contains(got[2], `"state":"in_progress"`) || !strings.Contains(got[2], `"log_url":"https://github.com/acme/shop/actions/runs/1234"`) {
				t.Errorf("first status = %s, want in_progress with the run's log URL", got[2])
			}
			want := `"state":"success"`
			if tt.fail {
				want = `"state":"failure"`
			}
			if !strings.HasPrefix(got[3], "POST /repos/acme/shop/deployments/9/statuses ") || !strings.Contains(got[3], want) ||
				!strings.Contains(got[3], `"environment_url":"https://shop.example"`) {
				t.Errorf("final status = %s, want %s with the environment URL", got[3], want)
			}
		})
	}
}

// shopProject is the project shop: stage, and prod protected.
func shopProject() *manifest.Project {
	return &manifest.Project{ID: "shop", Environments: []*manifest.Environment{
		{ID: "stage"}, {ID: "prod", Protected: true, PromotesFrom: "stage"}}}
}

func TestNoGitHubDeploymentForDryRuns(t *testing.T) {
	t.Parallel()
	for _, inputs := range []map[string]string{
		{"environment": "prod", "github-token": "tok", "dry-run": "true"},
		{"environment": "prod", "github-token": "tok", "command": "plan"},
	} {
		h := newHarness(t, inputs)
		h.env["GITHUB_API_URL"] = "http://127.0.0.1:1"
		h.fake.Result = succeeded()
		if err := h.run(t); err != nil {
			t.Fatalf("run %v: %v", inputs, err)
		}
		if strings.Contains(h.out.String(), "GitHub") {
			t.Errorf("run %v talked to GitHub:\n%s", inputs, h.out.String())
		}
	}
}

func TestSafeLine(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"plain":                      "plain",
		"::error::x":                 "  : :error: :x",
		"  ::warning::x":             "    : :warning: :x",
		"a\n::set-env name=X::y":     "a ::set-env name=X::y",
		"service: 1/2 running":       "service: 1/2 running",
		"line one\r\nline two\rlast": "line one line two last",
		"stopped: ##[error]x":        `stopped: ##\[error]x`,
		"##[set-output name=x;]y":    `##\[set-output name=x;]y`,
		"###[error]x":                `###\[error]x`,
		"#\u200b#[error]x":           `##\[error]x`,
		"\u00a0::error::x":           "  \u00a0: :error: :x",
		"esc \x1b[31mred":            "esc [31mred",
	}
	for in, want := range tests {
		if got := safeLine(in); got != want {
			t.Errorf("safeLine(%q) = %q, want %q", in, got, want)
		}
		if got := safeLine(in); strings.HasPrefix(strings.TrimSpace(got), "::") || strings.ContainsAny(got, "\r\n") || strings.Contains(got, "##[") {
			t.Errorf("safeLine(%q) = %q could start a workflow command", in, got)
		}
	}
}

func TestOutputValueCannotCloseHeredoc(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "output")
	a := githubactions.New(githubactions.WithGetenv(func(k string) string {
		if k == "GITHUB_OUTPUT" {
			return path
		}
		return ""
	}))
	setOutput(a, "summary-markdown", "x\n"+outputDelimiter+"\nstatus<<EOF\ny")
	setOutput(a, "status", "succeeded")
	got := readOutputs(t, path)
	if got["status"] != "succeeded" {
		t.Errorf("outputs = %q, want status succeeded: a value closed the heredoc early", got)
	}
	if !strings.HasPrefix(got["summary-markdown"], "x\n") || !strings.HasSuffix(got["summary-markdown"], "\ny") {
		t.Errorf("summary-markdown = %q, want the value kept apart from the delimiter", got["summary-markdown"])
	}
}

func TestBadManifestIsAnnotated(t *testing.T) {
	t.Parallel()
	bad := "version: 1\nprojects:\n  - id: shop\n    imagez: []\n"
	_, perr := manifest.Parse("/github/workspace/deploy/buoy.yaml", []byte(bad))
	if perr == nil {
		t.Fatal("the bad manifest parsed")
	}
	h := newHarness(t, map[string]string{"environment": "stage"})
	h.fake.OpenErr = fmt.Errorf("open deploy/buoy.yaml: %w", perr)
	err := h.run(t)
	var re *reportedError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a reportedError", err)
	}
	if !strings.Contains(re.summary, "deploy/buoy.yaml") {
		t.Errorf("summary = %q, want the manifest's path", re.summary)
	}
	out := h.out.String()
	if !strings.Contains(out, "::error col=5,file=deploy/buoy.yaml,line=4,title=buoy%3A invalid manifest::") || !strings.Contains(out, "imagez") {
		t.Errorf("log lacks the annotation at deploy/buoy.yaml:4:5 about imagez:\n%s", out)
	}
}
