//go:build integration

package main

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// motoRaces counts moto's HTTP 500 answers to GetResources. moto 5.2.5
// walks the account's ECS services to answer it and fails ("dictionary
// changed size during iteration") when another test creates a service
// meanwhile. The CLI's AWS clients retry it, as they retry any 500 from
// AWS, and count each attempt in stats; the tests discount these.
type motoRaces struct {
	next aws.HTTPClient
	n    atomic.Int64
}

func (m *motoRaces) Do(req *http.Request) (*http.Response, error) {
	resp, err := m.next.Do(req)
	if err == nil && resp.StatusCode == http.StatusInternalServerError && strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".GetResources") {
		m.n.Add(1)
	}
	return resp, err
}

// discount removes from stats the GetResources attempts moto failed
// since before (a count of m).
func (m *motoRaces) discount(stats map[string]int, before int64) {
	if n := int(m.n.Load() - before); n > 0 {
		stats["ResourceGroupsTaggingAPI.GetResources"] -= n
	}
}

// newLegacyEnv builds a weco-deploy project (a .wellcome_project with no
// cluster; two services, each in its own cluster, found by their tags)
// with its history table, in an account that also holds crowd services
// that are not the project's. The CLI's clients retry moto's 500s.
func newLegacyEnv(t *testing.T, crowd int) (*cliEnv, *motoRaces) {
	t.Helper()
	w := deployfixture.LegacyProject(awstest.Name(t, "weco"), 2)
	if crowd > 0 {
		w.Crowd = deployfixture.NewCrowd(w, crowd)
	}
	e := &cliEnv{t: t, cfg: awstest.Config(t), table: w.Table}
	e.world = deployfixture.Start(context.Background(), t, e.cfg, w)
	e.manifest = e.world.Manifest
	races := &motoRaces{next: awshttp.NewBuildableClient()}
	e.cfg.HTTPClient = races
	e.cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.MaxBackoff = 100 * time.Millisecond
			o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{},
				retry.RetryableHTTPStatusCode{Codes: map[int]struct{}{http.StatusInternalServerError: {}}}}
		})
	}
	return e, races
}

// primaryIDs returns the PRIMARY deployment id of each service, by name.
func primaryIDs(deps map[string][]ecstypes.Deployment) map[string]string {
	out := map[string]string{}
	for name, ds := range deps {
		for _, d := range ds {
			if aws.ToString(d.Status) == "PRIMARY" {
				out[name] = aws.ToString(d.Id) + "@" + aws.ToTime(d.UpdatedAt).String()
			}
		}
	}
	return out
}

// searchCalls returns the calls of stats that find services.
func searchCalls(stats map[string]int) map[string]int {
	out := map[string]int{}
	for _, op := range []string{"ResourceGroupsTaggingAPI.GetResources", "ECS.ListClusters", "ECS.ListServices", "ECS.DescribeServices"} {
		if stats[op] > 0 {
			out[op] = stats[op]
		}
	}
	return out
}

// TestCLILegacyProjectInACrowdedAccount plans and release-deploys a
// weco-deploy project, whose manifest names no cluster, to stage: once in
// an account holding only it, once in one that also holds 200 services of
// other projects (some tagged for stage, some decoys with the project's
// service ids for another environment, some with other tags). The right
// services get one UpdateService each, in their own clusters; no other
// service is touched; and every AWS call count is the same in both
// accounts: the tagging API's search does not grow with the account.
func TestCLILegacyProjectInACrowdedAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The quiet account's runs come before the crowd exists, so that
	// the crowded runs see 200 more services than the quiet ones did.
	var plans, deploys [2]resultJSON
	var envs [2]*cliEnv
	var crowdBefore map[string][]ecstypes.Deployment
	var ownBefore map[string]string
	for i, crowd := range []int{0, 200} {
		e, races := newLegacyEnv(t, crowd)
		envs[i] = e
		if crowd > 0 {
			crowdBefore = e.world.CrowdDeployments(ctx, t)
			ownBefore = primaryIDs(e.world.ECSDeployments(ctx, t))
		}
		before := races.n.Load()
		code, out, stderr := e.run("plan", "--environment", "stage", "--output", "json", "--verbose")
		if code != 0 {
			t.Fatalf("plan: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
		}
		if err := json.Unmarshal([]byte(out), &plans[i]); err != nil {
			t.Fatalf("plan: %v\n%s", err, out)
		}
		races.discount(plans[i].Stats, before)
		if !strings.Contains(stderr, "path=ResourceGroupsTaggingAPI.GetResources") {
			t.Errorf("plan --verbose does not say the tagging API found the services:\n%s", stderr)
		}
		before = races.n.Load()
		if code := e.runJSON(&deploys[i], "release-deploy", "--environment", "stage"); code != 0 {
			t.Fatalf("release-deploy: exit %d (%s)", code, deploys[i].Error)
		}
		races.discount(deploys[i].Stats, before)
	}
	crowded := envs[1]
	for i, res := range deploys {
		var clusters []string
		for _, s := range res.Services {
			clusters = append(clusters, s.Cluster)
		}
		slices.Sort(clusters)
		w := envs[i].world
		if want := w.Env("stage").Clusters; !slices.Equal(clusters, want) {
			t.Errorf("release-deploy %d: services in clusters %v, want %v", i, clusters, want)
		}
		if res.Status != history.StatusSucceeded || res.Stats["ECS.UpdateService"] != 2 {
			t.Errorf("release-deploy %d: status %s, %d UpdateService; want succeeded, 2", i, res.Status, res.Stats["ECS.UpdateService"])
		}
		if got := searchCalls(res.Stats); got["ResourceGroupsTaggingAPI.GetResources"] != 1 || got["ECS.ListClusters"] != 0 || got["ECS.ListServices"] != 0 {
			t.Errorf("release-deploy %d searched with %v; want one GetResources, no listing", i, got)
		}
	}
	if !maps.Equal(plans[0].Stats, plans[1].Stats) {
		t.Errorf("plan's calls differ with 200 unrelated services:\nquiet   %v\ncrowded %v", plans[0].Stats, plans[1].Stats)
	}
	// The record's progress writes (DynamoDB.PutItem) are coalesced: how
	// many a run makes depends on how its tag moves and service updates
	// interleave, never on the account. Each run makes at most one per
	// tag move and service update beyond the fixed ones, so the two runs
	// differ by at most that; every other call must be the same.
	quiet, busy := maps.Clone(deploys[0].Stats), maps.Clone(deploys[1].Stats)
	sideEffects := len(deploys[0].Images) + len(deploys[0].Services)
	if d := quiet["DynamoDB.PutItem"] - busy["DynamoDB.PutItem"]; d > sideEffects || -d > sideEffects {
		t.Errorf("release-deploy's record writes differ by %d with 200 unrelated services, more than its %d tag moves and service updates explain", d, sideEffects)
	}
	delete(quiet, "DynamoDB.PutItem")
	delete(busy, "DynamoDB.PutItem")
	if !maps.Equal(quiet, busy) {
		t.Errorf("release-deploy's calls differ with 200 unrelated services:\nquiet   %v\ncrowded %v", deploys[0].Stats, deploys[1].Stats)
	}

	// What ECS says: each of the project's services has a new deployment,
	// the one buoy recorded; the crowd's are as they were.
	ownAfter := crowded.world.ECSDeployments(ctx, t)
	recorded := map[string]string{}
	for _, s := range deploys[1].Services {
		recorded[s.Service] = s.ECSDeployment
	}
	for _, s := range crowded.world.Services {
		ds := ownAfter[s.ID]
		if len(ds) == 0 || aws.ToString(ds[0].Id) != recorded[s.ID] || primaryIDs(map[string][]ecstypes.Deployment{s.ID: ds})[s.ID] == ownBefore[s.ID] {
			t.Errorf("%s: ECS deployments %v, before %s; want a new one, %s", s.ID, ds, ownBefore[s.ID], recorded[s.ID])
		}
	}
	// The history records each service with its own cluster.
	deps := crowded.world.Deployments(ctx, t)
	if len(deps) == 0 {
		t.Fatal("no deployment recorded")
	}
	for _, so := range deps[0].Services {
		if want := crowded.world.ClustersOf("stage", so.Service); len(want) != 1 || so.Cluster != want[0] {
			t.Errorf("record: %s in cluster %q, want %v", so.Service, so.Cluster, want)
		}
	}
	crowdAfter := crowded.world.CrowdDeployments(ctx, t)
	if before, after := primaryIDs(crowdBefore), primaryIDs(crowdAfter); !maps.Equal(before, after) {
		for k, v := range after {
			if before[k] != v {
				t.Errorf("unrelated service %s was redeployed: %s -> %s", k, before[k], v)
			}
		}
	}
	for _, img := range crowded.world.Images {
		if got := crowded.tagged(img.ID, "env.stage"); got != img.New {
			t.Errorf("%s:env.stage: got %s, want the new build %s", img.ID, got, img.New)
		}
	}
}

// TestCLILegacyStatusAndRollbackAcrossClusters: status reports each
// service of a weco-deploy project in the cluster it runs in, and
// rollback redeploys them there, in an account with other services.
func TestCLILegacyStatusAndRollbackAcrossClusters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, races := newLegacyEnv(t, 30)
	var first, second resultJSON
	if code := e.runJSON(&first, "release-deploy", "--environment", "stage"); code != 0 {
		t.Fatalf("release-deploy: exit %d (%s)", code, first.Error)
	}
	newer := map[string]string{}
	for _, img := range e.world.Images {
		newer[img.ID] = e.world.Push(ctx, t, img.Repository, "latest")
	}
	if code := e.runJSON(&second, "release-deploy", "--environment", "stage"); code != 0 {
		t.Fatalf("second release-deploy: exit %d (%s)", code, second.Error)
	}

	var rep deploy.StatusReport
	before := races.n.Load()
	if code := e.runJSON(&rep, "status", "--environment", "stage"); code != 0 || len(rep.Environments) != 1 {
		t.Fatalf("status: exit %d, %d environments", code, len(rep.Environments))
	}
	races.discount(rep.Stats, before)
	es := rep.Environments[0]
	got := map[string]string{}
	for _, s := range es.Services {
		got[s.Service] = s.Cluster
	}
	want := map[string]string{}
	for _, s := range e.world.Services {
		want[s.ID] = e.world.ClustersOf("stage", s.ID)[0]
	}
	if !maps.Equal(got, want) || len(es.Drift) != 0 || es.Current == nil || es.Current.ReleaseID != second.Release {
		t.Errorf("status: services in %v, drift %q, current %+v; want %v, no drift, release %s", got, es.Drift, es.Current, want, second.Release)
	}
	if rep.Stats["ResourceGroupsTaggingAPI.GetResources"] != 1 || rep.Stats["ECS.ListClusters"] != 0 {
		t.Errorf("status searched with %v; want one GetResources", searchCalls(rep.Stats))
	}

	deployed := primaryIDs(e.world.ECSDeployments(ctx, t))
	var back resultJSON
	if code := e.runJSON(&back, "rollback", "--environment", "stage", "--yes"); code != 0 {
		t.Fatalf("rollback: exit %d (%s)", code, back.Error)
	}
	if back.Release != first.Release || back.Status != history.StatusSucceeded || back.Stats["ECS.UpdateService"] != 2 {
		t.Errorf("rollback: release %s, status %s, %d UpdateService; want %s, succeeded, 2", back.Release, back.Status, back.Stats["ECS.UpdateService"], first.Release)
	}
	after := primaryIDs(e.world.ECSDeployments(ctx, t))
	for _, s := range e.world.Services {
		if after[s.ID] == deployed[s.ID] {
			t.Errorf("%s: not redeployed by the rollback (deployment %s)", s.ID, after[s.ID])
		}
	}
	for _, img := range e.world.Images {
		if got := e.tagged(img.ID, "env.stage"); got != img.New || got == newer[img.ID] {
			t.Errorf("%s:env.stage after rollback: got %s, want the first release's %s", img.ID, got, img.New)
		}
	}
}
