package main

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/golden"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/report"
)

var t0 = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

const (
	digestA = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	digestB = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// result returns a result of a release-deploy of catalogue to stage.
func result(status history.Status, svcOutcome history.Status, reason string) *deploy.Result {
	return &deploy.Result{
		Project:     "catalogue",
		Environment: "stage",
		Release:     &history.Release{ID: "01JD0000000000000000000000", Project: "catalogue"},
		Deployment:  &history.Deployment{ID: "01JD0000010000000000000000", Status: status},
		Status:      status,
		Images: []deploy.ImageResult{
			{Image: "api", Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/catalogue/api", Tag: "env.stage", From: digestA, To: digestB, Moved: true},
		},
		Services: []deploy.ServiceResult{
			{Service: "catalogue-api", Cluster: "stage", Images: []string{"api"}, Outcome: svcOutcome, Reason: reason, Duration: 95 * time.Second},
		},
		Started:  t0,
		Finished: t0.Add(2 * time.Minute),
	}
}

func deployEvents() []event.Event {
	return []event.Event{
		{Kind: event.Plan, Image: "api", Service: "catalogue-api", From: digestA, To: digestB},
		{Kind: event.TagMoved, Image: "api", From: digestA, To: digestB},
		{Kind: event.ServiceUpdated, Service: "catalogue-api", Cluster: "stage", To: "arn:aws:ecs:eu-west-1:123456789012:task-definition/catalogue-api:7"},
		{Kind: event.Progress, Service: "catalogue-api", Cluster: "stage", Message: "1/2 tasks running"},
		{Kind: event.ServiceDone, Service: "catalogue-api", Cluster: "stage", Outcome: "succeeded"},
		{Kind: event.Finished, Outcome: "succeeded"},
	}
}

// runPlugin runs the plugin with config against fake, with a stub agent,
// and returns the error, the job log and the agent calls.
func runPlugin(t *testing.T, config string, fake *entrytest.Deployer, failAgent bool) (string, []agentCall, error) {
	t.Helper()
	return runPluginWith(t, config, nil, fake.Open, failAgent)
}

// runPluginWith is runPlugin with extra (or replaced) variables and any
// way of opening the deployer.
func runPluginWith(t *testing.T, config string, extra map[string]string, open entry.OpenFunc, failAgent bool) (string, []agentCall, error) {
	t.Helper()
	dir, calls := stubAgent(t, failAgent)
	env := buildEnv(config, dir+":/usr/bin:/bin")
	for k, v := range extra {
		env[k] = v
	}
	var out bytes.Buffer
	err := run(context.Background(), envFunc(env), deps{
		open:   open,
		agent:  agent{run: execRunner{env: envList(env)}},
		stdout: &out,
	})
	log := out.String()
	got := calls()
	for _, secret := range []string{env["AWS_SECRET_ACCESS_KEY"], env["BUILDKITE_AGENT_ACCESS_TOKEN"]} {
		if strings.Contains(log, secret) || strings.Contains(fmt.Sprint(got), secret) {
			t.Errorf("a secret was printed or passed to buildkite-agent: %q", secret)
		}
	}
	return log, got, err
}

func TestReleaseDeploySucceeds(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Events: deployEvents(), Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
	log, calls, err := runPlugin(t,
		`{"environment":"stage","from-label":"ref.3f2a9c1","timeout":"10m","rollback-on-failure":true,"manifest":"deploy/buoy.yaml","project":"catalogue"}`,
		fake, false)
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit code = %d (%v), want 0\n%s", code, err, log)
	}

	if got, want := fake.Opened().Manifest, "deploy/buoy.yaml"; got != want {
		t.Errorf("opened manifest %q, want %q", got, want)
	}
	if got, want := fake.Opened().Project, "catalogue"; got != want {
		t.Errorf("opened project %q, want %q", got, want)
	}
	if got := fake.Opened().Region; got != "" {
		t.Errorf("opened region %q, want none (the agent's) when aws-region is not set", got)
	}
	want := deploy.ReleaseDeployInput{
		Label: "ref.3f2a9c1",
		Request: deploy.Request{
			Environment: "stage",
			RequestedBy: "Ada Lovelace via Buildkite (https://buildkite.com/acme/catalogue/builds/42)",
			Description: "https://buildkite.com/acme/catalogue/builds/42",
			CI: history.CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/catalogue/builds/42",
				Commit: "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39", Actor: "Ada Lovelace"},
			Timeout:  10 * time.Minute,
			Rollback: true,
		},
	}
	if len(fake.Calls()) != 1 || !reflect.DeepEqual(fake.Calls()[0], want) {
		t.Errorf("deployer called with\n%#v\nwant\n%#v", fake.Calls(), want)
	}

	notes := annotations(calls)
	if len(notes) != 1 {
		t.Fatalf("got %d annotations, want 1: %v", len(notes), calls)
	}
	if got, want := notes[0].Args, []string{"annotate", "--style", "success", "--context", "buoy-catalogue-stage"}; !reflect.DeepEqual(got, want) {
		t.Errorf("annotate args = %q, want %q", got, want)
	}
	golden.Check(t, "testdata/release-deploy-succeeded.md", notes[0].Stdin)
	golden.Check(t, "testdata/release-deploy-succeeded.log", log)

	wantMeta := map[string]string{
		"buoy:status": "succeeded", "buoy:stage:status": "succeeded",
		"buoy:release-id": "01JD0000000000000000000000", "buoy:stage:release-id": "01JD0000000000000000000000",
		"buoy:deployment-id": "01JD0000010000000000000000", "buoy:stage:deployment-id": "01JD0000010000000000000000",
	}
	if got := metaData(calls); !reflect.DeepEqual(got, wantMeta) {
		t.Errorf("meta-data = %v, want %v", got, wantMeta)
	}
}

func TestFailedRolloutFailsTheStep(t *testing.T) {
	t.Parallel()
	reason := "rolled back by the circuit breaker: 3 tasks stopped (CannotPullContainerError)"
	fake := &entrytest.Deployer{
		Events: append(deployEvents()[:4],
			event.Event{Kind: event.ServiceDone, Service: "catalogue-api", Cluster: "stage", Outcome: "failed", Message: reason},
			event.Event{Kind: event.Failed, Service: "catalogue-api", Message: reason}),
		Result: result(history.StatusFailed, history.StatusFailed, reason),
		Err:    fmt.Errorf("release-deploy catalogue to stage: %w: catalogue-api %s", deploy.ErrDeploymentFailed, reason),
	}
	log, calls, err := runPlugin(t, `{"environment":"stage"}`, fake, false)
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit code = %d (%v), want 1", code, err)
	}
	if !strings.Contains(log, "\n^^^ +++\n") {
		t.Errorf("log does not expand the failed section with ^^^ +++:\n%s", log)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "error" || notes[0].Args[4] != "buoy-stage" {
		t.Fatalf("annotations = %v, want one with --style error --context buoy-stage", notes)
	}
	golden.Check(t, "testdata/release-deploy-failed.md", notes[0].Stdin)
	golden.Check(t, "testdata/release-deploy-failed.log", log)
	if got := metaData(calls)["buoy:status"]; got != "failed" {
		t.Errorf("buoy:status = %q, want failed", got)
	}
}

func TestCommandsCallTheirOperation(t *testing.T) {
	t.Parallel()
	planned := result(deploy.StatusPlanned, deploy.StatusPlanned, "")
	planned.Deployment = nil
	tests := []struct {
		name   string
		config string
		result *deploy.Result
		want   any
		style  string
		status string
	}{
		{"deploy a release", `{"command":"deploy","environment":"stage","release":"01JD00","wait":false}`,
			result(history.StatusSucceeded, history.StatusSucceeded, ""),
			deploy.DeployInput{Release: "01JD00", Request: deploy.Request{NoWait: true}}, "success", "succeeded"},
		{"promote", `{"command":"promote","environment":"prod","from-environment":"stage","description":"weekly release"}`,
			result(history.StatusSucceeded, history.StatusSucceeded, ""),
			deploy.PromoteInput{From: "stage", Request: deploy.Request{Description: "weekly release"}}, "success", "succeeded"},
		{"rollback with confirmation", `{"command":"rollback","environment":"prod","confirm":true}`,
			result(history.StatusSucceeded, history.StatusSucceeded, ""),
			deploy.RollbackInput{Request: deploy.Request{Confirm: true}}, "success", "succeeded"},
		{"plan a release-deploy", `{"command":"plan","environment":"stage","from-label":"latest"}`, planned,
			deploy.ReleaseDeployInput{Label: "latest", Request: deploy.Request{DryRun: true}}, "info", "planned"},
		{"plan a promote", `{"command":"plan","environment":"prod","from-environment":"stage"}`, planned,
			deploy.PromoteInput{From: "stage", Request: deploy.Request{DryRun: true}}, "info", "planned"},
		{"plan a deploy of the latest release", `{"command":"plan","environment":"stage","release":"latest"}`, planned,
			deploy.DeployInput{Request: deploy.Request{DryRun: true}}, "info", "planned"},
		{"deploy the latest release", `{"command":"deploy","environment":"stage","release":"latest"}`,
			result(history.StatusSucceeded, history.StatusSucceeded, ""),
			deploy.DeployInput{Request: deploy.Request{}}, "success", "succeeded"},
		{"dry-run a deploy", `{"command":"deploy","environment":"stage","dry-run":true}`, planned,
			deploy.DeployInput{Request: deploy.Request{DryRun: true}}, "info", "planned"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &entrytest.Deployer{Result: tt.result}
			log, calls, err := runPlugin(t, tt.config, fake, false)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, log)
			}
			if len(fake.Calls()) != 1 {
				t.Fatalf("deployer calls = %v, want one", fake.Calls())
			}
			if got, want := stripRequest(fake.Calls()[0]), tt.want; !reflect.DeepEqual(got, want) {
				t.Errorf("deployer called with %#v, want %#v", got, want)
			}
			notes := annotations(calls)
			if len(notes) != 1 || notes[0].Args[2] != tt.style {
				t.Errorf("annotations = %v, want one with style %s", notes, tt.style)
			}
			meta := metaData(calls)
			if meta["buoy:status"] != tt.status {
				t.Errorf("buoy:status = %q, want %q", meta["buoy:status"], tt.status)
			}
			if _, ok := meta["buoy:release-id"]; ok == (tt.status == "planned") {
				t.Errorf("buoy:release-id set = %v for status %s; a plan sets no ids", ok, tt.status)
			}
		})
	}
}

// stripRequest clears the fields of an input's Request that every command
// sets the same way, so table tests compare only what differs.
func stripRequest(in any) any {
	clear := func(r *deploy.Request) {
		r.Environment, r.RequestedBy, r.CI = "", "", history.CI{}
		if r.Description == "https://buildkite.com/acme/catalogue/builds/42" {
			r.Description = ""
		}
	}
	switch v := in.(type) {
	case deploy.DeployInput:
		clear(&v.Request)
		return v
	case deploy.PromoteInput:
		clear(&v.Request)
		return v
	case deploy.RollbackInput:
		clear(&v.Request)
		return v
	case deploy.ReleaseDeployInput:
		clear(&v.Request)
		return v
	}
	return in
}

func TestErrorsWithoutResult(t *testing.T) {
	t.Parallel()
	locked := &history.LockedError{Held: history.Lock{Project: "catalogue", Environment: "prod",
		RequestedBy: "Grace via Buildkite", ExpiresAt: t0}}
	tests := []struct {
		name   string
		err    error
		code   int
		style  string
		status string
	}{
		{"locked", fmt.Errorf("promote catalogue to prod: %w", locked), exitcode.Locked, "warning", "locked"},
		{"protected", fmt.Errorf("promote: %w: prod is protected", deploy.ErrConfirmationRequired), exitcode.BadInput, "warning", "confirmation-required"},
		{"unknown release", fmt.Errorf("deploy: %w: no release 01ZZ", deploy.ErrInvalidInput), exitcode.BadInput, "error", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &entrytest.Deployer{Err: tt.err}
			log, calls, err := runPlugin(t, `{"command":"promote","environment":"prod"}`, fake, false)
			if code := exitCode(err); code != tt.code {
				t.Errorf("exit code = %d, want %d", code, tt.code)
			}
			notes := annotations(calls)
			if len(notes) != 1 || notes[0].Args[2] != tt.style || notes[0].Args[4] != "buoy-prod" {
				t.Fatalf("annotations = %v, want one --style %s --context buoy-prod", notes, tt.style)
			}
			if !strings.Contains(log, "^^^ +++") {
				t.Errorf("log does not expand the failure:\n%s", log)
			}
			if got := metaData(calls)["buoy:prod:status"]; got != tt.status {
				t.Errorf("buoy:prod:status = %q, want %q", got, tt.status)
			}
		})
	}
}

func TestBadConfigurationChangesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config, context, want string
	}{
		{"unknown option", `{"environment":"stage","env":"prod"}`, "buoy-stage", `unknown option "env"`},
		{"wrong type", `{"environment":"stage","wait":"no"}`, "buoy-stage", `option "wait" must be true or false, got a string`},
		{"missing environment", `{"command":"promote","project":"catalogue"}`, "buoy-catalogue", `option "environment" is missing`},
		{"no configuration", ``, "buoy", "BUILDKITE_PLUGIN_CONFIGURATION is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &entrytest.Deployer{}
			log, calls, err := runPlugin(t, tt.config, fake, false)
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code = %d (%v), want 2", code, err)
			}
			if fake.Opened() != nil {
				t.Errorf("deployer opened despite a bad configuration")
			}
			if !strings.Contains(log, tt.want) {
				t.Errorf("log does not say %q:\n%s", tt.want, log)
			}
			notes := annotations(calls)
			if len(notes) != 1 || notes[0].Args[2] != "error" || notes[0].Args[4] != tt.context {
				t.Fatalf("annotations = %v, want one --style error --context %s", notes, tt.context)
			}
			if !strings.Contains(notes[0].Stdin, report.Escape(tt.want)) {
				t.Errorf("annotation does not say %q:\n%s", tt.want, notes[0].Stdin)
			}
			if got := metaData(calls)["buoy:status"]; got != "invalid" {
				t.Errorf("buoy:status = %q, want invalid", got)
			}
		})
	}
}

func TestPrepareSetsTheReleaseID(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Release: &history.Release{ID: "01JD0000000000000000000000", Project: "catalogue",
		Images: map[string]history.ImageRef{"api": {Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/catalogue/api", Digest: digestB}}}}
	_, calls, err := runPlugin(t, `{"command":"prepare","from-label":"ref.3f2a9c1"}`, fake, false)
	if err != nil {
		t.Fatal(err)
	}
	if in, ok := fake.Calls()[0].(deploy.PrepareInput); !ok || in.Label != "ref.3f2a9c1" || in.CI.Provider != "buildkite" {
		t.Errorf("Prepare called with %#v", fake.Calls()[0])
	}
	if got := metaData(calls)["buoy:release-id"]; got != "01JD0000000000000000000000" {
		t.Errorf("buoy:release-id = %q", got)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[4] != "buoy-prepare" {
		t.Fatalf("annotations = %v, want one with context buoy-prepare", notes)
	}
	golden.Check(t, "testdata/prepare.md", notes[0].Stdin)
}

func TestStatusWarnsOnDrift(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Report: &deploy.StatusReport{Project: "catalogue", Environments: []deploy.EnvironmentStatus{{
		Environment: "stage", State: deploy.Drifted,
		Current:  &history.Current{ReleaseID: "01JD0000000000000000000000"},
		Services: []deploy.ServiceStatus{{Service: "catalogue-api", Running: 1, Desired: 2, State: deploy.Drifted}},
		Drift:    []string{"env.stage of api points at sha256:2222 but the release pins sha256:1111"},
	}}}}
	_, calls, err := runPlugin(t, `{"command":"status","environment":"stage"}`, fake, false)
	if err != nil {
		t.Fatal(err)
	}
	if in := fake.Calls()[0].(deploy.StatusInput); !reflect.DeepEqual(in.Environments, []string{"stage"}) {
		t.Errorf("Status asked for %v, want [stage]", in.Environments)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "warning" {
		t.Fatalf("annotations = %v, want one --style warning", notes)
	}
	golden.Check(t, "testdata/status-drift.md", notes[0].Stdin)
}

// TestStatusUnknownIsNotASuccess: when ECS did not say what a service
// runs, the status annotation is a warning headed ❔ that says unknown
// and why, never a success that says the environment agrees.
func TestStatusUnknownIsNotASuccess(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Report: &deploy.StatusReport{Project: "catalogue", Environments: []deploy.EnvironmentStatus{
		{Environment: "stage", State: deploy.Agrees, Current: &history.Current{ReleaseID: "01JD0000000000000000000000"},
			Services: []deploy.ServiceStatus{{Service: "catalogue-api", Running: 2, Desired: 2, State: deploy.Agrees}}},
		{Environment: "prod", State: deploy.Unknown, Current: &history.Current{ReleaseID: "01JD0000000000000000000000"},
			Services: []deploy.ServiceStatus{{Service: "catalogue-api", Running: 2, Desired: 2, State: deploy.Unknown}},
			Unknown:  []string{"service catalogue-api: none of its 2 running tasks reported a digest for api, so ECS did not say what it runs"}},
	}}}
	log, calls, err := runPlugin(t, `{"command":"status"}`, fake, false)
	if err != nil {
		t.Fatal(err)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "warning" {
		t.Fatalf("annotations = %v, want one --style warning", notes)
	}
	golden.Check(t, "testdata/status-unknown.md", notes[0].Stdin)
	if !strings.Contains(log, "status unknown") || !strings.Contains(log, "prod: unknown: service catalogue-api") {
		t.Errorf("log does not say the status is unknown and why:\n%s", log)
	}
}

func TestInputCannotInjectLogSections(t *testing.T) {
	t.Parallel()
	evil := "x\n--- :skull: fake section\n+++ expanded\n^^^ +++\n~~~ raw\x1b]1339;url=https://evil.example\x07"
	res := result(history.StatusSucceeded, history.StatusSucceeded, evil)
	res.Services[0].Service = "--- svc"
	fake := &entrytest.Deployer{Result: res, Events: []event.Event{
		{Kind: event.Progress, Service: "--- svc", Message: evil},
		{Kind: event.Warning, Message: "+++ " + evil},
	}}
	log, calls, err := runPlugin(t, `{"environment":"stage","description":"--- hi"}`, fake, false)
	if err != nil {
		t.Fatal(err)
	}
	ours := []string{"--- :ship: buoy release-deploy to stage", "--- :hourglass: Waiting for ECS",
		"+++ :white_check_mark: catalogue: release-deploy 01JD000000 to stage succeeded"}
	for _, line := range strings.Split(log, "\n") {
		for _, marker := range []string{"---", "+++", "~~~", "^^^"} {
			if strings.HasPrefix(strings.TrimSpace(line), marker) && !contains(ours, line) {
				t.Errorf("input opened a log section: %q", line)
			}
		}
		if strings.ContainsAny(line, "\x1b\x07") {
			t.Errorf("a terminal escape reached the log: %q", line)
		}
	}
	body := annotations(calls)[0].Stdin
	if strings.Contains(body, "\x1b") || strings.Contains(body, "](https://evil") {
		t.Errorf("annotation carries injected markup:\n%s", body)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestAgentFailureDoesNotFailADeployment(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
	log, calls, err := runPlugin(t, `{"environment":"stage"}`, fake, true)
	if err != nil {
		t.Fatalf("run = %v, want success: the deployment succeeded", err)
	}
	if len(calls) == 0 {
		t.Fatal("buildkite-agent was never called")
	}
	if !strings.Contains(log, "could not annotate the build") || !strings.Contains(log, "stub: agent API unreachable") {
		t.Errorf("log does not warn about the failed annotation with the agent's output:\n%s", log)
	}
}

func TestAgentMissingFromPath(t *testing.T) {
	t.Parallel()
	env := buildEnv(`{"environment":"stage"}`, t.TempDir())
	var out bytes.Buffer
	fake := &entrytest.Deployer{Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
	err := run(context.Background(), envFunc(env), deps{open: fake.Open, agent: agent{run: execRunner{env: envList(env)}}, stdout: &out})
	if err != nil {
		t.Fatalf("run = %v, want success", err)
	}
	if !strings.Contains(out.String(), "buildkite-agent is not on PATH") {
		t.Errorf("log does not say buildkite-agent is missing:\n%s", out.String())
	}
}

func TestOpenFailureIsReported(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{OpenErr: fmt.Errorf("read buoy.yaml: %w: line 3: unknown key", deploy.ErrInvalidInput)}
	log, calls, err := runPlugin(t, `{"environment":"stage"}`, fake, false)
	if code := exitCode(err); code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(log, "line 3: unknown key") || len(annotations(calls)) != 1 {
		t.Errorf("the manifest error is not in the log and one annotation:\n%s\n%v", log, calls)
	}
}

// TestAWSRegionOption: aws-region, like the Action's input, is the region
// buoy opens the history table and the registries in.
func TestAWSRegionOption(t *testing.T) {
	t.Parallel()
	fake := &entrytest.Deployer{Events: deployEvents(), Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
	log, _, err := runPlugin(t, `{"environment":"stage","aws-region":"eu-west-2"}`, fake, false)
	if code := exitCode(err); code != 0 {
		t.Fatalf("exit code = %d (%v), want 0\n%s", code, err, log)
	}
	if got, want := fake.Opened().Region, "eu-west-2"; got != want {
		t.Errorf("opened region %q, want %q", got, want)
	}
}

// TestNotifySecretsGoToTheRedactor: each value buoy reads for a notify
// target is given to buildkite-agent redactor add, on standard input;
// an agent that cannot take it (before v3.67) is warned about once, and
// the deployment goes on.
func TestNotifySecretsGoToTheRedactor(t *testing.T) {
	t.Parallel()
	for _, failAgent := range []bool{false, true} {
		fake := &entrytest.Deployer{Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
		open := func(ctx context.Context, cfg entry.Config) (entry.Deployer, error) {
			for _, secret := range []string{"https://hooks.slack.invalid/T0/B0/s3cret", "hmac-key-s3cret"} {
				cfg.Mask(secret)
			}
			return fake.Open(ctx, cfg)
		}
		log, calls, err := runPluginWith(t, `{"environment":"stage"}`, nil, open, failAgent)
		if err != nil {
			t.Fatalf("agent failing %v: run = %v, want success", failAgent, err)
		}
		redacted, _ := cihost.Redacted(calls)
		if want := []string{"https://hooks.slack.invalid/T0/B0/s3cret", "hmac-key-s3cret"}; !slices.Equal(redacted, want) {
			t.Errorf("agent failing %v: redactor add got %q, want %q", failAgent, redacted, want)
		}
		if n := strings.Count(log, "could not add the notify targets' secrets to the log redactor"); n != map[bool]int{false: 0, true: 1}[failAgent] {
			t.Errorf("agent failing %v: %d warnings about the redactor, want %d:\n%s", failAgent, n, map[bool]int{false: 0, true: 1}[failAgent], log)
		}
		if strings.Contains(log, "s3cret") {
			t.Errorf("agent failing %v: the log shows a secret:\n%s", failAgent, log)
		}
	}
}
