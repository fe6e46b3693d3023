//go:build integration

package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/registry"
)

// Retry settings of the clients under faults: the standard retryer with
// enough attempts that 20% faults never exhaust them (0.2^8 per call), and
// a short backoff so tests do not wait seconds.
const (
	attempts   = 8
	maxBackoff = 20 * time.Millisecond
)

// proxied starts a proxy in front of moto and returns it with a client
// configuration that goes through it.
func proxied(t *testing.T, opts ...faultproxy.Option) (*faultproxy.Proxy, aws.Config) {
	t.Helper()
	p := start(t, awstest.Endpoint(t), opts...)
	return p, p.Through(awstest.Config(t), attempts, maxBackoff)
}

// images makes n repositories on moto (directly, without faults), each
// with an image under "latest" and another under env.stage, and returns
// the repositories and the digests of "latest".
func images(ctx context.Context, t *testing.T, client *ecr.Client, n int) (repos, digests []string) {
	t.Helper()
	for i := range n {
		repo := awstest.Name(t, fmt.Sprintf("faults/app%d", i))
		if _, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatalf("create repository: %v", err)
		}
		awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "env.stage")
		repos = append(repos, repo)
		digests = append(digests, awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "latest"))
	}
	return repos, digests
}

// TestRegistryUnderFaults: with a fifth of all calls throttled, failed
// with 500/503 or reset, Resolve and PointTag still move every tag to the
// right digest, and report it moved.
func TestRegistryUnderFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := ecr.NewFromConfig(awstest.Config(t))
	repos, digests := images(ctx, t, direct, 10)
	p, cfg := proxied(t, faultproxy.WithRate(0.2), faultproxy.WithSeed(7))
	reg := registry.New(ecr.NewFromConfig(cfg))

	queries := make([]registry.Query, len(repos))
	for i, repo := range repos {
		queries[i] = registry.Query{Repository: repo, Tag: "latest"}
	}
	resolved, err := reg.Resolve(ctx, queries)
	if err != nil {
		t.Fatalf("Resolve under 20%% faults: %v", err)
	}
	for i, r := range resolved {
		if r == nil || r.Digest != digests[i] {
			t.Fatalf("Resolve %s:latest under 20%% faults: got %+v, want %s", repos[i], r, digests[i])
		}
	}
	var wg sync.WaitGroup
	moves := make([]*registry.Move, len(resolved))
	errs := make([]error, len(resolved))
	for i, r := range resolved {
		wg.Go(func() {
			moves[i], errs[i] = reg.PointTag(ctx, registry.PointTagInput{
				Repository: repos[i], Tag: "env.stage", Digest: r.Digest,
				MediaType: r.MediaType, Manifest: r.Manifest,
			})
		})
	}
	wg.Wait()
	for i, repo := range repos {
		if errs[i] != nil {
			t.Errorf("PointTag %s under 20%% faults: %v", repo, errs[i])
			continue
		}
		if !moves[i].Moved || moves[i].To != digests[i] {
			t.Errorf("PointTag %s: got moved %v to %s, want moved to %s", repo, moves[i].Moved, moves[i].To, digests[i])
		}
		if got := tagDigest(ctx, t, direct, repo, "env.stage"); got != digests[i] {
			t.Errorf("env.stage in %s points at %s, want %s", repo, got, digests[i])
		}
	}
	if p.TotalInjected() == 0 {
		t.Errorf("no fault was injected in %d calls: the test proves nothing", len(p.Calls()))
	}
	t.Logf("%d calls, faults injected: %v", len(p.Calls()), p.Injected())
}

// TestRegistryFaultsOutlastRetries: when every attempt is throttled the
// call fails once the retryer gives up, with an error that says what was
// being done and still carries the AWS error code.
func TestRegistryFaultsOutlastRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	direct := ecr.NewFromConfig(awstest.Config(t))
	repos, digests := images(ctx, t, direct, 1)
	p, cfg := proxied(t, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle))
	reg := registry.New(ecr.NewFromConfig(cfg))

	_, err := reg.PointTag(ctx, registry.PointTagInput{Repository: repos[0], Tag: "env.stage", Digest: digests[0]})
	if err == nil {
		t.Fatal("PointTag with every call throttled: got nil error")
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Errorf("error %v: want it to wrap the ThrottlingException", err)
	}
	for _, want := range []string{"point " + repos[0] + ":env.stage at " + digests[0], "exceeded maximum number of attempts", "Rate exceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if got := p.Injected()[faultproxy.Throttle]; got != attempts {
		t.Errorf("throttled attempts: got %d, want %d (the retry budget)", got, attempts)
	}
	if got := tagDigest(ctx, t, direct, repos[0], "env.stage"); got == digests[0] {
		t.Errorf("env.stage moved although every call failed")
	}
}

func tagDigest(ctx context.Context, t *testing.T, client *ecr.Client, repo, tag string) string {
	t.Helper()
	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName: aws.String(repo),
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("read %s:%s: %v (%d images)", repo, tag, err, len(out.Images))
	}
	return aws.ToString(out.Images[0].ImageId.ImageDigest)
}

// newStore makes a history table on moto (directly) and a store that
// reaches it through a fault proxy.
func newStore(t *testing.T, proxyOpts []faultproxy.Option, opts ...history.Option) (*faultproxy.Proxy, history.Store) {
	t.Helper()
	table := awstest.Name(t, "buoy-faults")
	if err := history.Init(context.Background(), dynamodb.NewFromConfig(awstest.Config(t)), table); err != nil {
		t.Fatalf("Init(%s): %v", table, err)
	}
	p, cfg := proxied(t, proxyOpts...)
	return p, history.NewDynamoDB(dynamodb.NewFromConfig(cfg), table, opts...)
}

// TestHistoryContractUnderFaults runs the whole Store contract (releases,
// deployments, current records, locks, their races) with a fifth of the
// DynamoDB calls throttled, failed or reset before they arrive.
func TestHistoryContractUnderFaults(t *testing.T) {
	t.Parallel()
	var proxies []*faultproxy.Proxy
	var mu sync.Mutex
	historytest.Run(t, func(t *testing.T, opts ...history.Option) history.Store {
		p, s := newStore(t, []faultproxy.Option{faultproxy.WithRate(0.2), faultproxy.WithSeed(11)}, opts...)
		mu.Lock()
		defer mu.Unlock()
		proxies = append(proxies, p)
		return s
	})
	t.Cleanup(func() {
		n := 0
		for _, p := range proxies {
			n += p.TotalInjected()
		}
		if n == 0 {
			t.Error("no fault was injected: the contract ran as without a proxy")
		}
	})
}

// TestConcurrentDeploymentWritesUnderFaults: 20 runs create and then close
// their deployment records at once while a fifth of the calls fail; every
// record exists once, closed, with its own content.
func TestConcurrentDeploymentWritesUnderFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, store := newStore(t, []faultproxy.Option{faultproxy.WithRate(0.2), faultproxy.WithSeed(3)})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			d := &history.Deployment{
				Project: "faults", Environment: "stage", ReleaseID: fmt.Sprintf("release-%02d", i),
				RequestedBy: "ci", Images: map[string]history.TagMove{"api": {Repository: "api", Tag: "env.stage", To: "sha256:x"}},
			}
			if err := store.CreateDeployment(ctx, d); err != nil {
				errs <- fmt.Errorf("create %d: %w", i, err)
				return
			}
			d.Status, d.FinishedAt, d.Reason = history.StatusSucceeded, time.Now(), "closed by "+d.ReleaseID
			if err := store.UpdateDeployment(ctx, d); err != nil {
				errs <- fmt.Errorf("update %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	deps, err := store.ListDeployments(ctx, "faults", "", 0)
	if err != nil {
		t.Fatalf("ListDeployments: %v", err)
	}
	seen := map[string]bool{}
	for _, d := range deps {
		if d.Status != history.StatusSucceeded || d.Reason != "closed by "+d.ReleaseID || d.Version != 2 {
			t.Errorf("deployment %s of %s: status %s, reason %q, version %d; want succeeded with its own reason at version 2", d.ID, d.ReleaseID, d.Status, d.Reason, d.Version)
		}
		seen[d.ReleaseID] = true
	}
	if len(deps) != n || len(seen) != n {
		t.Errorf("deployments: got %d (%d distinct releases), want %d", len(deps), len(seen), n)
	}
	if p.TotalInjected() == 0 {
		t.Error("no fault was injected")
	}
}

// TestHistoryFaultsOutlastRetries: a store whose every call is refused
// fails with an error that names the table and keeps the AWS error code.
func TestHistoryFaultsOutlastRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, store := newStore(t, []faultproxy.Option{faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Unavailable)})
	d := &history.Deployment{Project: "faults", Environment: "prod", ReleaseID: "r1", RequestedBy: "ci"}
	err := store.CreateDeployment(ctx, d)
	if err == nil {
		t.Fatal("CreateDeployment with every call failing: got nil error")
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ServiceUnavailable" {
		t.Errorf("error %v: want it to wrap the ServiceUnavailable error", err)
	}
	for _, want := range []string{"create deployment", "in table buoy-faults-", "exceeded maximum number of attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
