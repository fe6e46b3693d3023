//go:build integration

package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// storedRecord is what the tests read of a history item, straight from
// DynamoDB with the SDK: the JSON in its data attribute.
type storedRecord struct {
	Status       string `json:"status"`
	Reason       string `json:"reason"`
	ReleaseID    string `json:"releaseId"`
	DeploymentID string `json:"deploymentId"`
	Images       map[string]struct {
		To     string `json:"to"`
		Moved  bool   `json:"moved"`
		Done   bool   `json:"done"`
		Moving bool   `json:"moving"`
	} `json:"images"`
}

// stored reads the item sk of the fixture's project with the SDK; ok is
// false when there is none.
func stored(ctx context.Context, t *testing.T, f *deployfixture.Fixture, sk string) (rec storedRecord, ok bool) {
	t.Helper()
	out, err := dynamodb.NewFromConfig(awstest.Config(t)).GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(f.Table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{
			"pk": &ddbtypes.AttributeValueMemberS{Value: "PROJECT#" + f.Project},
			"sk": &ddbtypes.AttributeValueMemberS{Value: sk},
		},
	})
	if err != nil {
		t.Fatalf("read %s: %v", sk, err)
	}
	if out.Item == nil {
		return rec, false
	}
	data, _ := out.Item["data"].(*ddbtypes.AttributeValueMemberS)
	if data == nil {
		t.Fatalf("item %s has no data", sk)
	}
	if err := json.Unmarshal([]byte(data.Value), &rec); err != nil {
		t.Fatalf("decode %s: %v", sk, err)
	}
	return rec, true
}

// runResult is what the tests read of a run's --output json result.
type runResult struct {
	Status     string `json:"status"`
	Release    string `json:"release"`
	Deployment string `json:"deployment"`
}

func (r *run) result(t *testing.T) runResult {
	t.Helper()
	var res runResult
	if err := json.Unmarshal(r.stdout.Bytes(), &res); err != nil {
		t.Fatalf("the run's stdout is not its JSON result: %v\n%s", err, r.output())
	}
	return res
}

// stalledRepository returns the repository of the PutImage p stalled.
func stalledRepository(t *testing.T, p *faultproxy.Proxy) string {
	t.Helper()
	for _, c := range p.Calls() {
		if c.Operation == "PutImage" && c.Fault == faultproxy.Latency {
			var in struct{ RepositoryName string }
			if err := json.Unmarshal(c.Body, &in); err != nil {
				t.Fatalf("decode the stalled PutImage: %v", err)
			}
			return in.RepositoryName
		}
	}
	t.Fatal("no PutImage was stalled")
	return ""
}

// forwardedUpdates counts the UpdateService calls a proxy let through.
func forwardedUpdates(p *faultproxy.Proxy) int {
	n := 0
	for _, c := range p.Calls() {
		if c.Operation == "UpdateService" && c.Fault == "" {
			n++
		}
	}
	return n
}

// TestStalledRunLosesItsLockAndChangesNothing: run A (a 3s lease) is
// stalled by its proxy inside its first PutImage, and its lock renewals
// stall too. Its lease runs out by its own clock and it stops. Run B
// watches A's lock, sees it unrenewed for the lease and the margin,
// takes it over and deploys release B. When A's stall ends, A moves no
// tag, updates no service and exits 1 (failed); its record is closed as
// failed, naming the lease, and says the stalled move's outcome is
// unknown. Read with the SDK: the tags point at B's
// digests, the current record says B, A's record says it lost the lock.
func TestStalledRunLosesItsLockAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	releaseB := map[string]string{}
	for _, img := range f.Images {
		releaseB[img.ID] = f.Push(ctx, t, img.Repository, "ref.b")
	}
	// A's proxy stalls its first PutImage and, from then on, every write
	// of the lock item (renewals, and the release).
	putImageSeen := false
	pa := proxy(t, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Latency), faultproxy.WithLatency(time.Minute),
		faultproxy.WithMatch(func(op string, body []byte) bool {
			switch op {
			case "PutImage":
				first := !putImageSeen
				putImageSeen = true
				return first
			case "PutItem", "DeleteItem":
				return putImageSeen && bytes.Contains(body, []byte("LOCK#"+deployfixture.Environment))
			}
			return false
		}))
	pb := proxy(t)

	a := start(t, bin, cliEnv(t, pa.URL(), "first-run", deadRunCI...), deployArgs(f, "--lock-ttl", "3s", "--output", "json")...)
	waitForStall(t, pa, a)
	b := start(t, bin, cliEnv(t, pb.URL(), "second-run"), deployArgs(f, "--from-label", "ref.b", "--output", "json")...)
	if code := b.wait(t); code != 0 {
		t.Fatalf("run B: exit %d, want 0\n%s", code, b.output())
	}
	contains(t, "run B's output", b.output(), "took over the lock of "+deadRunBy+", whose lease expired: this run saw it unrenewed for ")
	contains(t, "run A's output", a.stderr.String(), "lost the environment lock: no renewal succeeded within its 3s lease")

	pa.Unstall()
	if code := a.wait(t); code != exitcode.Failed {
		t.Errorf("run A, which lost its lock: exit %d, want %d (failed)\n%s", code, exitcode.Failed, a.output())
	}
	resA, resB := a.result(t), b.result(t)
	for _, img := range f.Images {
		if got := f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag); got != releaseB[img.ID] {
			t.Errorf("%s:%s points at %s, want release B's %s", img.Repository, deployfixture.FloatingTag, got, releaseB[img.ID])
		}
	}
	if n := forwardedUpdates(pa); n != 0 {
		t.Errorf("run A updated %d services", n)
	}
	cur, ok := stored(ctx, t, f, "CURRENT#"+deployfixture.Environment)
	if !ok || cur.ReleaseID != resB.Release || cur.DeploymentID != resB.Deployment {
		t.Errorf("current record: got %+v; want release B %s, deployment %s", cur, resB.Release, resB.Deployment)
	}
	recA, ok := stored(ctx, t, f, "DEPLOY#"+resA.Deployment)
	if !ok || recA.Status != "failed" || !strings.Contains(recA.Reason, "lost the environment lock: no renewal succeeded within its 3s lease") {
		t.Errorf("run A's record: got %+v; want failed, naming the lost lease", recA)
	}
	// The move A's proxy stalled was cut short when A's lease ran out:
	// A's record says it was being moved, its outcome unknown.
	stalled := stalledRepository(t, pa)
	for _, img := range f.Images {
		if tm := recA.Images[img.ID]; img.Repository == stalled && (tm.Moved || !tm.Moving) {
			t.Errorf("run A's record: image %s, whose move stalled, %+v; want being moved, outcome unknown", img.ID, tm)
		}
	}
	recB, ok := stored(ctx, t, f, "DEPLOY#"+resB.Deployment)
	if !ok || recB.Status != "succeeded" {
		t.Errorf("run B's record: got %+v; want succeeded", recB)
	}
}

// TestUnlockFreesTheLockAndStopsItsRun: while a run (a 6s lease) waits
// for ECS, someone frees its lock with buoy unlock. unlock says whose
// lock it freed; the run stops at its next renewal (within 2s): it exits
// 1 (failed) and its record, read with the SDK, is failed, naming who freed
// the lock and why; the current record is not set; buoy history lists
// the unlock in text and JSON: who, when, why, whose lock.
func TestUnlockFreesTheLockAndStopsItsRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	p := proxy(t, stall("DescribeServices", 1)...)
	held := start(t, bin, cliEnv(t, p.URL(), "first-run", deadRunCI...), deployArgs(f, "--lock-ttl", "6s", "--output", "json")...)
	waitForStall(t, p, held)

	const why = "build 41 hangs; the hotfix must go out"
	unlock := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ops"),
		"unlock", "--manifest", f.Manifest, "--table", f.Table, "--environment", deployfixture.Environment, "--reason", why)
	if code := unlock.wait(t); code != 0 {
		t.Fatalf("unlock: exit %d, want 0\n%s", code, unlock.output())
	}
	contains(t, "unlock's output", unlock.stdout.String(), "freed the lock of "+deadRunBy+" on "+deployfixture.Environment)

	if code := held.wait(t); code != exitcode.Failed {
		t.Errorf("the run whose lock was freed: exit %d, want %d (failed)\n%s", code, exitcode.Failed, held.output())
	}
	contains(t, "the fenced run's output", held.stderr.String(), "lost the environment lock: ops@", "freed it with buoy unlock at ", why)
	rec, ok := stored(ctx, t, f, "DEPLOY#"+held.result(t).Deployment)
	if !ok || rec.Status != "failed" || !strings.Contains(rec.Reason, "lost the environment lock: ops@") || !strings.Contains(rec.Reason, why) {
		t.Errorf("the fenced run's record: got %+v; want failed, naming who freed the lock and why", rec)
	}
	if cur, ok := stored(ctx, t, f, "CURRENT#"+deployfixture.Environment); ok {
		t.Errorf("current record: got %+v; want none (the run lost its lock before it finished)", cur)
	}
	if l, ok := stored(ctx, t, f, "LOCK#"+deployfixture.Environment); ok {
		t.Errorf("lock after unlock: got %+v; want it free", l)
	}

	hist := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ops"), "history", "--manifest", f.Manifest, "--table", f.Table, "--output", "json")
	if code := hist.wait(t); code != 0 {
		t.Fatalf("history: exit %d\n%s", code, hist.output())
	}
	var rep struct {
		Unlocks []struct {
			Environment, RequestedBy, Reason string
			At                               time.Time
			Freed                            struct{ RequestedBy, BuildURL string }
		} `json:"unlocks"`
	}
	if err := json.Unmarshal(hist.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("history's JSON: %v\n%s", err, hist.output())
	}
	if len(rep.Unlocks) != 1 {
		t.Fatalf("history lists %d unlocks, want 1\n%s", len(rep.Unlocks), hist.stdout.String())
	}
	u := rep.Unlocks[0]
	if u.Environment != deployfixture.Environment || !strings.HasPrefix(u.RequestedBy, "ops@") || u.Reason != why || u.At.IsZero() ||
		u.Freed.RequestedBy != deadRunBy || u.Freed.BuildURL != "https://buildkite.com/acme/shop/builds/41" {
		t.Errorf("history's unlock: got %+v; want ops freeing first-run's lock, saying why", u)
	}
	text := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ops"), "history", "--manifest", f.Manifest, "--table", f.Table)
	if code := text.wait(t); code != 0 {
		t.Fatalf("history: exit %d\n%s", code, text.output())
	}
	contains(t, "history", text.stdout.String(), "LOCKS FREED BY HAND", deadRunBy, why)
}

// TestKilledMidTagMovesRecordsNoMovedTagAsNotMoved: a run is killed
// (SIGKILL) while the second of its three tag moves is stalled, the
// other two made. Its record, as the dead run left it and read with the
// SDK, says of each tag that moved (per ECR) that it moved or was being
// moved, never that it was not moved, and of the stalled one that it
// was being moved, its outcome unknown.
func TestKilledMidTagMovesRecordsNoMovedTagAsNotMoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 3})
	p := proxy(t, stall("PutImage", 1)...)
	r := start(t, bin, cliEnv(t, p.URL(), "first-run"), deployArgs(f, "--lock-ttl", "3s")...)
	// p.Changed fires at every call through the proxy, the lock's renewals
	// (every second) among them, so the tags are looked at again after the
	// moves that were in flight when the third stalled have landed.
	waitFor(t, r, "two tags moved and the third stalled", p.Changed, func() bool {
		moved := 0
		for _, img := range f.Images {
			if f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag) == img.New {
				moved++
			}
		}
		return moved == 2 && p.Injected()[faultproxy.Latency] == 1
	})
	r.kill(t)

	deps := f.Deployments(ctx, t)
	if len(deps) != 1 {
		t.Fatalf("history: got %d records, want the killed run's", len(deps))
	}
	rec, ok := stored(ctx, t, f, "DEPLOY#"+deps[0].ID)
	if !ok || rec.Status != "in-progress" {
		t.Fatalf("the killed run's record: got %+v; want in progress, as it left it", rec)
	}
	for _, img := range f.Images {
		tm, moved := rec.Images[img.ID], f.TagDigest(ctx, t, img.Repository, deployfixture.FloatingTag) == img.New
		switch {
		case moved && (!tm.Moved || !tm.Done) && !tm.Moving:
			t.Errorf("image %s: its tag moved, but the dead record says %+v: not moved", img.ID, tm)
		case !moved && !tm.Moving:
			t.Errorf("image %s: its move was stalled, the dead record says %+v; want it being moved, outcome unknown", img.ID, tm)
		}
	}
}
