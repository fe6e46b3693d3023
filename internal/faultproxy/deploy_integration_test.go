//go:build integration

package faultproxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// services is how many services (each fed by its own image) the deploy
// tests deploy.
const services = 20

// deployer opens the fixture's project with clients configured by cfg.
func deployer(ctx context.Context, t *testing.T, f *deployfixture.Fixture, cfg aws.Config) *deploy.Deployer {
	t.Helper()
	d, _, err := deploy.Open(ctx, deploy.Config{
		ManifestPath: f.Manifest, Table: f.Table, AWS: cfg,
		Options: []deploy.Option{deploy.WithPollInterval(100 * time.Millisecond), deploy.WithLockWait(0)},
	})
	if err != nil {
		t.Fatalf("open the project: %v", err)
	}
	return d
}

func releaseDeploy(ctx context.Context, t *testing.T, f *deployfixture.Fixture, cfg aws.Config) (*deploy.Result, error) {
	t.Helper()
	return deployer(ctx, t, f, cfg).ReleaseDeploy(ctx, deploy.ReleaseDeployInput{
		Request: deploy.Request{Environment: deployfixture.Environment, RequestedBy: "ci", Timeout: 2 * time.Minute},
	})
}

// updates counts the UpdateService calls that reached ECS, by service.
func updates(t *testing.T, calls []faultproxy.Call) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, c := range calls {
		if c.Operation != "UpdateService" || !c.Forwarded() {
			continue
		}
		var in struct{ Service string }
		if err := json.Unmarshal(c.Body, &in); err != nil {
			t.Fatalf("decode an UpdateService request: %v", err)
		}
		out[in.Service]++
	}
	return out
}

// checkDeployed asserts the environment runs the release: every tag at
// the new digest, every service updated exactly once by calls, the
// deployment record succeeded and complete, the current record and the
// lock as they should be.
func checkDeployed(ctx context.Context, t *testing.T, f *deployfixture.Fixture, dep *history.Deployment, calls []faultproxy.Call) {
	t.Helper()
	for _, img := range f.Images {
		if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.New {
			t.Errorf("%s:%s points at %s, want %s", img.Repository, deployfixture.FloatingTag, got, img.New)
		}
	}
	got := updates(t, calls)
	for _, img := range f.Images {
		if got[img.Service] != 1 {
			t.Errorf("service %s: updated %d times, want once", img.Service, got[img.Service])
		}
	}
	if dep.Status != history.StatusSucceeded || dep.FinishedAt.IsZero() {
		t.Errorf("deployment record %s: status %s, finished %v; want succeeded and finished", dep.ID, dep.Status, dep.FinishedAt)
	}
	if len(dep.Images) != len(f.Images) || len(dep.Services) != len(f.Images) {
		t.Errorf("deployment record: %d images, %d services; want %d of each", len(dep.Images), len(dep.Services), len(f.Images))
	}
	for id, m := range dep.Images {
		if !m.Done {
			t.Errorf("record: tag of image %s not done: %+v", id, m)
		}
	}
	for _, s := range dep.Services {
		if s.Outcome != history.StatusSucceeded || s.ECSDeployment == "" {
			t.Errorf("record: service %s outcome %s, ECS deployment %q; want succeeded with a deployment id", s.Service, s.Outcome, s.ECSDeployment)
		}
	}
	cur, err := f.Store().GetCurrent(ctx, f.Project, deployfixture.Environment)
	if err != nil || cur.DeploymentID != dep.ID {
		t.Errorf("current record: got %+v, %v; want deployment %s", cur, err, dep.ID)
	}
	checkUnlocked(ctx, t, f)
}

// reasonCounts returns the counts a closed record's reason ends with,
// "tags moved: ...", without their parentheses.
func reasonCounts(reason string) string {
	i := strings.LastIndex(reason, "(tags moved: ")
	if i < 0 {
		return ""
	}
	return strings.TrimSuffix(reason[i+1:], ")")
}

// checkUnlocked asserts that the environment's lock was released: another
// run takes it at once.
func checkUnlocked(ctx context.Context, t *testing.T, f *deployfixture.Fixture) {
	t.Helper()
	l, err := f.Store().AcquireLock(ctx, history.Lock{Project: f.Project, Environment: deployfixture.Environment, Owner: "checker", RequestedBy: "checker"}, time.Minute)
	if err != nil {
		t.Errorf("the lock was not released: %v", err)
		return
	}
	_ = f.Store().ReleaseLock(ctx, l)
}

// TestReleaseDeployUnderFaults: a 20-service release-deploy with a fifth
// of every AWS call (ECR, ECS, DynamoDB) throttled, failed with 500/503
// or reset ends in the right state: every tag moved, every service
// updated once, one complete deployment record.
func TestReleaseDeployUnderFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: services})
	p, cfg := proxied(t, faultproxy.WithRate(0.2), faultproxy.WithSeed(20))

	res, err := releaseDeploy(ctx, t, f, cfg)
	if err != nil {
		t.Fatalf("release-deploy under 20%% faults: %v", err)
	}
	deps := f.Deployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records: got %d, want 1", len(deps))
	}
	if res.Deployment == nil || res.Deployment.ID != deps[0].ID {
		t.Errorf("result names deployment %v, the store holds %s", res.Deployment, deps[0].ID)
	}
	checkDeployed(ctx, t, f, deps[0], p.Calls())
	if p.TotalInjected() < 10 {
		t.Errorf("only %d faults injected in %d calls: the test proves little", p.TotalInjected(), len(p.Calls()))
	}
	t.Logf("%d calls, faults injected: %v", len(p.Calls()), p.Injected())
}

// TestReleaseDeployFaultsOutlastRetries: when ECS refuses every
// UpdateService for longer than the retry budget, the run fails saying
// so, its record is closed as failed and says what did and did not
// happen, the lock is released, and a re-run without faults completes
// the deployment.
func TestReleaseDeployFaultsOutlastRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: services})
	p, cfg := proxied(t, faultproxy.WithRate(1), faultproxy.WithOperations("UpdateService"))

	_, err := releaseDeploy(ctx, t, f, cfg)
	if err == nil {
		t.Fatal("release-deploy with every UpdateService failing: got nil error")
	}
	if !errors.Is(err, deploy.ErrDeploymentFailed) {
		t.Errorf("error %v: want it to wrap deploy.ErrDeploymentFailed", err)
	}
	for _, want := range []string{"UpdateService", "exceeded maximum number of attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	deps := f.Deployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records after the failed run: got %d, want 1", len(deps))
	}
	failed := deps[0]
	if failed.Status != history.StatusFailed || failed.FinishedAt.IsZero() {
		t.Errorf("failed run's record: status %s, finished %v; want failed and finished", failed.Status, failed.FinishedAt)
	}
	// Updates refused by AWS are not updated; updates cut short when the
	// first refusal stopped the others are of unknown outcome (a request
	// in flight may have been applied): 20 in all, none said updated.
	var unknown, notUpdated int
	if _, err := fmt.Sscanf(reasonCounts(failed.Reason), "tags moved: 20, not moved: 0; services updated: 0, updating (outcome unknown): %d, not updated: %d", &unknown, &notUpdated); err != nil {
		if _, err := fmt.Sscanf(reasonCounts(failed.Reason), "tags moved: 20, not moved: 0; services updated: 0, not updated: %d", &notUpdated); err != nil {
			t.Errorf("failed run's reason %q does not count 20 tags moved and no service updated", failed.Reason)
		}
	}
	if unknown+notUpdated != 20 {
		t.Errorf("failed run's reason %q: %d updates of unknown outcome and %d not made; want 20 in all", failed.Reason, unknown, notUpdated)
	}
	for _, so := range failed.Services {
		if so.ECSDeployment != "" || (!strings.HasPrefix(so.Reason, "updating: outcome unknown") && !strings.HasPrefix(so.Reason, "to redeploy")) {
			t.Errorf("failed run's record: service %s %+v; want not updated, or updating with its outcome unknown", so.Service, so)
		}
	}
	for id, m := range failed.Images {
		if !m.Moved || !m.Done {
			t.Errorf("failed run's record: image %s tag %+v; want moved (the tags did move)", id, m)
		}
	}
	if got := updates(t, p.Calls()); len(got) != 0 {
		t.Errorf("services updated although every UpdateService failed: %v", got)
	}
	checkUnlocked(ctx, t, f)

	before := len(p.Calls())
	p.SetRate(0)
	res, err := releaseDeploy(ctx, t, f, cfg)
	if err != nil {
		t.Fatalf("re-run without faults: %v", err)
	}
	deps = f.Deployments(ctx, t)
	if len(deps) != 2 || deps[0].ID != res.Deployment.ID || deps[1].ID != failed.ID || deps[1].Status != history.StatusFailed {
		t.Fatalf("history after the re-run: got %d records; want the re-run's, then the failed one still failed", len(deps))
	}
	checkDeployed(ctx, t, f, deps[0], p.Calls()[before:])
}

// TestReleaseDeployStoreUnreachable: when the history table cannot be
// written, nothing else happens: no tag moves, no service is updated,
// and the error says the record could not be written.
func TestReleaseDeployStoreUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	p, cfg := proxied(t, faultproxy.WithRate(1), faultproxy.WithOperations("PutItem", "GetItem", "Query", "DeleteItem"))

	_, err := releaseDeploy(ctx, t, f, cfg)
	if err == nil {
		t.Fatal("release-deploy with DynamoDB unreachable: got nil error")
	}
	if !strings.Contains(err.Error(), "exceeded maximum number of attempts") || !strings.Contains(err.Error(), f.Table) {
		t.Errorf("error %q: want it to name the table %s and the exhausted retries", err, f.Table)
	}
	for _, img := range f.Images {
		if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != img.Old {
			t.Errorf("%s:%s moved to %s although nothing could be recorded", img.Repository, deployfixture.FloatingTag, got)
		}
	}
	for _, c := range p.Calls() {
		if c.Operation == "PutImage" || c.Operation == "UpdateService" {
			t.Errorf("side effect %s made although nothing could be recorded", c.Action())
		}
	}
}

// TestReleaseDeployStopsWhenItsRecordCannotBeWritten: DynamoDB throttles
// the first write of the deployment record after a tag moved, beyond the
// retries. The run stops there: no service is updated, the current
// record is not set, the error (not success) says the record could not
// be written, and the closing write still happens (DynamoDB takes it):
// the record is closed as failed, saying why.
func TestReleaseDeployStopsWhenItsRecordCannotBeWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	p, cfg := proxied(t, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle), faultproxy.WithLimit(attempts),
		faultproxy.WithMatch(func(op string, body []byte) bool {
			return op == "PutItem" && bytes.Contains(body, []byte("DEPLOY#")) && bytes.Contains(body, []byte(`\"moved\":true`))
		}))

	_, err := releaseDeploy(ctx, t, f, cfg)
	if err == nil {
		t.Fatal("release-deploy whose record could not be written: got nil error")
	}
	for _, want := range []string{"the deployment record cannot be written", "exceeded maximum number of attempts", "ThrottlingException"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if code := exitcode.Of(err); code != exitcode.Failed {
		t.Errorf("exit code of the error: got %d, want %d (failed)", code, exitcode.Failed)
	}
	if got := p.Injected()[faultproxy.Throttle]; got != attempts {
		t.Errorf("record writes throttled: got %d, want %d (one write, every attempt)", got, attempts)
	}
	if got := updates(t, p.Calls()); len(got) != 0 {
		t.Errorf("services updated after the record could not be written: %v", got)
	}
	deps := f.Deployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("deployment records: got %d, want 1", len(deps))
	}
	if d := deps[0]; d.Status != history.StatusFailed || !strings.Contains(d.Reason, "the deployment record cannot be written") {
		t.Errorf("record: got %s %q; want closed as failed, saying the record could not be written", d.Status, d.Reason)
	}
	if _, err := f.Store().GetCurrent(ctx, f.Project, deployfixture.Environment); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current record: got %v, want none", err)
	}
	checkUnlocked(ctx, t, f)
}
