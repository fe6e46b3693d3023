//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/exitcode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/demo"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/iampolicy"
)

// cliEnv is the demo's world on moto, with its own manifest, history
// table and names, and a way to run the CLI against it.
type cliEnv struct {
	t        *testing.T
	cfg      aws.Config
	world    *deployfixture.Fixture
	manifest string
	table    string
	// options and store are given to every app the env builds.
	options []deploy.Option
	store   history.Store
	// loadAWS, when set, replaces the configuration every app gets (a
	// test that checks which region a command picks).
	loadAWS func(ctx context.Context, region, profile string) (aws.Config, error)
	// ecsDeploy are given to every app's ecs-deploy runs (a clock).
	ecsDeploy []ecsdeploy.Option
	// env is the environment the app sees (default USER=alice).
	env map[string]string
	// stdin is what a person types; terminal says stdin is a terminal.
	stdin    string
	terminal bool
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	ctx := context.Background()
	e := &cliEnv{t: t, cfg: awstest.Config(t), table: awstest.Name(t, "history")}
	e.world = deployfixture.Start(ctx, t, e.cfg, demo.World(awstest.Name(t, "shop")))
	e.manifest = e.world.Manifest
	e.mustRun("init")
	return e
}

// run runs buoy with args plus --manifest and (but to validate) --table,
// and returns the exit code and what it wrote.
func (e *cliEnv) run(args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	env := e.env
	if env == nil {
		env = map[string]string{"USER": "alice"}
	}
	a := &app{
		stdin: strings.NewReader(e.stdin), stdout: &out, stderr: &errb, terminal: e.terminal,
		getenv:    func(k string) string { return env[k] },
		version:   "test",
		awsConfig: func(context.Context, string, string) (aws.Config, error) { return e.cfg, nil },
		options:   e.options,
		store:     e.store,
		ecsDeploy: e.ecsDeploy,
	}
	if e.loadAWS != nil {
		a.awsConfig = e.loadAWS
	}
	switch {
	case len(args) == 0 || args[0] == "ecs-deploy":
	case args[0] == "validate": // reads no history
		args = append(args, "--manifest", e.manifest)
	default:
		args = append(args, "--manifest", e.manifest, "--table", e.table)
	}
	code = a.main(context.Background(), args)
	return code, out.String(), errb.String()
}

func (e *cliEnv) mustRun(args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code != 0 {
		e.t.Fatalf("buoy %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func (e *cliEnv) runJSON(v any, args ...string) int {
	e.t.Helper()
	code, out, errs := e.run(append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("buoy %s: stdout is not JSON (%v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errs)
	}
	return code
}

func (e *cliEnv) tagged(image, tag string) string {
	e.t.Helper()
	digest := e.world.TagDigest(context.Background(), e.t, e.world.Image(image).Repository, tag)
	if digest == "" {
		e.t.Fatalf("%s:%s does not exist", image, tag)
	}
	return digest
}

func TestCLIDemoScenario(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)

	if out := e.mustRun("validate"); !strings.Contains(out, "is valid") {
		t.Errorf("validate: got %q, want it to say the manifest is valid", out)
	}
	if out := e.mustRun("plan", "--environment", "stage"); !strings.Contains(out, "would move") {
		t.Errorf("plan: got\n%s\nwant tags that would move", out)
	}
	var res resultJSON
	if code := e.runJSON(&res, "release-deploy", "--environment", "stage", "--from-label", "latest"); code != 0 {
		t.Fatalf("release-deploy: exit %d (%s), want 0", code, res.Error)
	}
	if res.Status != history.StatusSucceeded || len(res.Services) != 2 || res.Stats["ECS.UpdateService"] != 2 {
		t.Errorf("release-deploy: got status %s, %d services, stats %v; want succeeded, 2 services, 2 UpdateService",
			res.Status, len(res.Services), res.Stats)
	}
	// The history's calls count too, the lock's release included.
	if res.Stats["DynamoDB.PutItem"] == 0 || res.Stats["DynamoDB.DeleteItem"] != 1 {
		t.Errorf("release-deploy stats: got %v; want DynamoDB.PutItem calls and 1 DynamoDB.DeleteItem (the lock's release)", res.Stats)
	}
	// Seven writes (release, lock, the record created, written as each
	// stage begins and closed, the current record), and the record's
	// progress: at most one more write per tag moved and service updated.
	if most := 7 + len(res.Images) + len(res.Services); res.Stats["DynamoDB.PutItem"] < 7 || res.Stats["DynamoDB.PutItem"] > most {
		t.Errorf("DynamoDB.PutItem calls: got %d, want 7 and at most one more per tag moved and service updated (%d)", res.Stats["DynamoDB.PutItem"], most)
	}
	for _, img := range demo.ImageIDs() {
		if got, want := e.tagged(img, "env.stage"), e.world.Image(img).New; got != want {
			t.Errorf("%s:env.stage: got %s, want %s", img, got, want)
		}
	}

	var promoted resultJSON
	if code := e.runJSON(&promoted, "promote", "--environment", "prod"); code != 0 {
		t.Fatalf("promote: exit %d (%s), want 0", code, promoted.Error)
	}
	if promoted.Release != res.Release {
		t.Errorf("promote: got release %s, want stage's %s", promoted.Release, res.Release)
	}
	if got, want := e.tagged("worker", "env.prod"), e.world.Image("worker").New; got != want {
		t.Errorf("worker:env.prod: got %s, want %s", got, want)
	}

	// moto's services report running tasks but list none, so ECS says
	// no digest: status must say so, and not that all agree.
	status := e.mustRun("status")
	for _, want := range []string{"stage: release " + res.Release, "prod: release " + res.Release,
		"unknown: nothing seen differs, but ECS did not say", "running tasks reported a digest for"} {
		if !strings.Contains(status, want) {
			t.Errorf("status:\n%s\nlacks %q", status, want)
		}
	}
	if strings.Contains(status, "agree:") || strings.Contains(status, "ECS agree") {
		t.Errorf("status says the record and ECS agree though ECS reported no digest:\n%s", status)
	}
	hist := e.mustRun("history")
	if strings.Index(hist, promoted.Deployment) > strings.Index(hist, res.Deployment) {
		t.Errorf("history is not newest first:\n%s", hist)
	}
	if out := e.mustRun("show-release", res.Release[:10]); !strings.Contains(out, e.world.Image("nginx").New) {
		t.Errorf("show-release:\n%s\nlacks nginx's digest %s", out, e.world.Image("nginx").New)
	}
	var policy iampolicy.Document
	if code := e.runJSON(&policy, "iam-policy"); code != 0 || len(policy.Statement) < 3 {
		t.Errorf("iam-policy: exit %d, %d statements; want 0 and at least 3", code, len(policy.Statement))
	}
}

// TestCLIConfirmsOnATerminal: on a terminal, a release-deploy to the
// protected prod asks once, before anything moves, and a yes deploys it:
// prod's floating tags point at the release's digests.
func TestCLIConfirmsOnATerminal(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.stdin, e.terminal = "y\n", true
	code, _, stderr := e.run("release-deploy", "--environment", "prod")
	if code != 0 {
		t.Fatalf("release-deploy to prod, confirmed: exit %d, want 0\nstderr: %s", code, stderr)
	}
	if n := strings.Count(stderr, "prod is protected. Deploy to it? [y/N] "); n != 1 {
		t.Errorf("asked %d times, want once\nstderr: %s", n, stderr)
	}
	for _, img := range demo.ImageIDs() {
		if got, want := e.tagged(img, "env.prod"), e.world.Image(img).New; got != want {
			t.Errorf("%s:env.prod: got %s, want %s", img, got, want)
		}
	}
}

func TestCLIBadInputExitsTwo(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"missing image", []string{"release-deploy", "--environment", "stage", "--from-label", "ref.nope"},
			[]string{"images not found", "web (" + e.world.Image("web").Repository + ":ref.nope)", "worker"}},
		{"unknown environment", []string{"release-deploy", "--environment", "qa"}, []string{`no environment "qa"`, "stage"}},
		{"no environment without a terminal", []string{"release-deploy"}, []string{"missing --environment"}},
		{"protected without --yes", []string{"release-deploy", "--environment", "prod"}, []string{"protected", "--yes"}},
		{"promote without a current release", []string{"promote", "--environment", "prod"}, []string{"no current release"}},
		{"unknown release", []string{"deploy", "--environment", "stage", "--release", "01ZZZ"}, []string{"not found"}},
		{"bad output", []string{"status", "--output", "yaml"}, []string{"--output must be text or json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := e.run(tt.args...)
			if code != exitcode.BadInput {
				t.Errorf("exit: got %d, want %d\nstderr: %s", code, exitcode.BadInput, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q lacks %q", stderr, w)
				}
			}
		})
	}
	if got := e.tagged("web", "env.stage"); got != e.world.Image("web").Old {
		t.Errorf("bad input moved web:env.stage to %s", got)
	}
}

func TestCLIUnknownService(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	_, err := ecs.NewFromConfig(e.cfg).DeleteService(context.Background(), &ecs.DeleteServiceInput{
		Cluster: aws.String(e.world.ClusterOf("stage")), Service: aws.String("worker"), Force: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var res resultJSON
	code := e.runJSON(&res, "release-deploy", "--environment", "stage")
	if code != exitcode.BadInput || !strings.Contains(res.Error, "worker") {
		t.Fatalf("release-deploy: exit %d error %q, want %d naming worker", code, res.Error, exitcode.BadInput)
	}
	if res.Deployment == "" || res.Status != history.StatusFailed || !strings.Contains(res.Reason, "nothing was changed") {
		t.Errorf("record: got %s %s %q, want a failed record saying nothing was changed", res.Deployment, res.Status, res.Reason)
	}
	if got := e.tagged("web", "env.stage"); got != e.world.Image("web").Old {
		t.Errorf("web:env.stage moved to %s although preflight failed", got)
	}
}

func TestCLILockHeldByAnotherRun(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	store := history.NewDynamoDB(dynamodb.NewFromConfig(e.cfg), e.table)
	_, err := store.AcquireLock(context.Background(), history.Lock{Project: e.world.Project, Environment: "stage",
		Owner: "other-run", RequestedBy: "bob via buildkite", BuildURL: "https://buildkite.com/acme/shop/builds/42"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := e.run("release-deploy", "--environment", "stage", "--lock-wait", "0s")
	if code != exitcode.Locked {
		t.Errorf("exit: got %d, want %d\nstderr: %s", code, exitcode.Locked, stderr)
	}
	for _, want := range []string{"bob via buildkite", "builds/42"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name the holder (%q)", stderr, want)
		}
	}
}

// deadStore is a history store that stops working, as if the process
// had been killed, once dead is set.
type deadStore struct {
	history.Store
	dead *atomic.Bool
}

var errKilled = errors.New("killed")

func (s deadStore) UpdateDeployment(ctx context.Context, d *history.Deployment) error {
	if s.dead.Load() {
		return errKilled
	}
	return s.Store.UpdateDeployment(ctx, d)
}

func (s deadStore) RenewLock(ctx context.Context, l *history.Lock, ttl time.Duration) error {
	if s.dead.Load() {
		return errKilled
	}
	return s.Store.RenewLock(ctx, l, ttl)
}

func (s deadStore) ReleaseLock(ctx context.Context, l *history.Lock) error {
	if s.dead.Load() {
		return errKilled
	}
	return s.Store.ReleaseLock(ctx, l)
}

// dyingCluster kills the process at the first service update.
type dyingCluster struct {
	deploy.Cluster
	dead *atomic.Bool
}

func (c dyingCluster) Redeploy(context.Context, deploy.ServiceRef, string) (deploy.Started, error) {
	c.dead.Store(true)
	return deploy.Started{}, errKilled
}

func TestCLICrashHalfWayThenRerunCompletes(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	dead := &atomic.Bool{}
	e.store = deadStore{Store: history.NewDynamoDB(dynamodb.NewFromConfig(e.cfg), e.table), dead: dead}
	e.options = []deploy.Option{deploy.WithCluster(func(p deploy.ClusterParams) (deploy.Cluster, error) {
		return dyingCluster{Cluster: deploy.NewECSCluster(ecs.NewFromConfig(p.Config), p), dead: dead}, nil
	})}
	var crashed resultJSON
	// A 3s lease (the flag's, which comes after e.options): the re-run
	// takes the dead run's lock over once it has seen it unrenewed that
	// long and a margin.
	if code := e.runJSON(&crashed, "release-deploy", "--environment", "stage", "--lock-ttl", "3s"); code == 0 {
		t.Fatal("the killed run exited 0")
	}
	if got := e.tagged("web", "env.stage"); got != e.world.Image("web").New {
		t.Fatalf("web:env.stage: got %s, want the tags moved before the crash", got)
	}

	e.store, e.options = nil, nil
	var rerun resultJSON
	if code := e.runJSON(&rerun, "deploy", "--environment", "stage", "--release", crashed.Release); code != 0 {
		t.Fatalf("re-run: exit %d (%s), want 0", code, rerun.Error)
	}
	if rerun.Resumes != crashed.Deployment {
		t.Errorf("re-run resumes %q, want the crashed deployment %s", rerun.Resumes, crashed.Deployment)
	}
	if rerun.Stats["ECS.UpdateService"] != 2 || rerun.Stats["ECR.PutImage"] != 0 {
		t.Errorf("re-run stats %v: want 2 UpdateService (the services never got updated) and no PutImage", rerun.Stats)
	}
	var hist deploy.HistoryReport
	e.runJSON(&hist, "history", "--environment", "stage")
	if len(hist.Deployments) != 2 || hist.Deployments[1].Status != history.StatusFailed || !strings.Contains(hist.Deployments[1].Reason, "abandoned") {
		t.Errorf("history: got %+v, want the crashed deployment closed as failed, abandoned", hist.Deployments)
	}
}

func TestCLIDriftBlocksPromotion(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.mustRun("release-deploy", "--environment", "stage")
	hotfix := e.world.Push(context.Background(), t, e.world.Image("web").Repository, "env.stage")
	var rep deploy.StatusReport
	if code := e.runJSON(&rep, "status", "--environment", "stage"); code != 0 {
		t.Fatalf("status: exit %d", code)
	}
	drift := strings.Join(rep.Environments[0].Drift, "\n")
	if !strings.Contains(drift, e.world.Image("web").Repository+":env.stage points at "+hotfix[7:19]) {
		t.Errorf("drift:\n%s\nwant web's tag pointing at the hotfix %s", drift, hotfix)
	}
	code, _, stderr := e.run("promote", "--environment", "prod")
	if code != exitcode.BadInput || !strings.Contains(stderr, "drifted") {
		t.Errorf("promote from a drifted stage: exit %d stderr %q, want %d saying drifted", code, stderr, exitcode.BadInput)
	}
}

func TestCLIRollbackCommand(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	var first resultJSON
	e.runJSON(&first, "release-deploy", "--environment", "stage")
	newer := e.world.Push(context.Background(), t, e.world.Image("worker").Repository, "latest")
	e.mustRun("release-deploy", "--environment", "stage")
	if got := e.tagged("worker", "env.stage"); got != newer {
		t.Fatalf("worker:env.stage: got %s, want %s", got, newer)
	}
	var back resultJSON
	if code := e.runJSON(&back, "rollback", "--environment", "stage"); code != 0 {
		t.Fatalf("rollback: exit %d (%s)", code, back.Error)
	}
	if back.Release != first.Release {
		t.Errorf("rollback deployed release %s, want the first %s", back.Release, first.Release)
	}
	if got := e.tagged("worker", "env.stage"); got != e.world.Image("worker").New {
		t.Errorf("worker:env.stage after rollback: got %s, want %s", got, e.world.Image("worker").New)
	}
}

func TestCLIECSDeploy(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	image := deployfixture.URI(e.world.Image("worker").Repository) + ":ref." + deployfixture.NewCommit
	out := e.mustRun("ecs-deploy", "-c", e.world.ClusterOf("stage"), "-n", "worker", "-i", image, "-t", "60", "--max-definitions", "5")
	if !strings.Contains(out, "succeeded") || !strings.Contains(out, deployfixture.Family(e.world.ClusterOf("stage"), "worker")+":2") {
		t.Errorf("ecs-deploy:\n%s\nwant succeeded with revision 2", out)
	}
	code, _, stderr := e.run("ecs-deploy", "-c", e.world.ClusterOf("stage"), "-n", "nope", "-i", image)
	if code != exitcode.BadInput || !strings.Contains(stderr, "nope") {
		t.Errorf("ecs-deploy of an unknown service: exit %d stderr %q, want %d naming it", code, stderr, exitcode.BadInput)
	}
}
