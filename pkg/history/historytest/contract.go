// Package historytest holds the contract tests every history.Store must
// pass. A Store implementation runs them with
//
//	func TestContract(t *testing.T) {
//		historytest.Run(t, func(t *testing.T, opts ...history.Option) history.Store {
//			return history.NewMemory(opts...)
//		})
//	}
package historytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// Factory returns a new, empty Store built with opts (which carry the
// fake clock the contract drives). Each call must return a store that
// shares no records with stores returned earlier.
type Factory func(t *testing.T, opts ...history.Option) history.Store

// start is the time the fake clock shows when each contract test begins.
var start = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

type env struct {
	ctx   context.Context
	store history.Store
	clock *clocktest.Clock
}

// Run runs the contract tests against stores made by newStore. The
// subtests run in parallel, each with a fresh store and clock.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, env)
	}{
		{"ReleaseRoundTrip", testReleaseRoundTrip},
		{"ReleaseExists", testReleaseExists},
		{"ReleasePrefix", testReleasePrefix},
		{"ReleaseListing", testReleaseListing},
		{"ReleasesConcurrent", testReleasesConcurrent},
		{"DeploymentLifecycle", testDeploymentLifecycle},
		{"DeploymentConflict", testDeploymentConflict},
		{"DeploymentListing", testDeploymentListing},
		{"DeploymentsConcurrent", testDeploymentsConcurrent},
		{"DeploymentLarge", testDeploymentLarge},
		{"Current", testCurrent},
		{"LockLifecycle", testLockLifecycle},
		{"LockTakeover", testLockTakeover},
		{"LockRace", testLockRace},
		{"LockTakeoverRace", testLockTakeoverRace},
		{"Unlock", testUnlock},
		{"Invalid", testInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := clocktest.New(start)
			tc.fn(t, env{ctx: context.Background(), store: newStore(t, history.WithClock(clock.Now)), clock: clock})
		})
	}
}

func sampleRelease(project string) *history.Release {
	return &history.Release{
		Project:     project,
		RequestedBy: "alice",
		Description: "fix the search box",
		Label:       "latest",
		CI:          history.CI{Provider: "github-actions", BuildURL: "https://ci.example/1", Commit: "3f2a", Actor: "alice"},
		Images: map[string]history.ImageRef{
			"api": {
				Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api",
				Tag:        "ref.3f2a",
				Digest:     "sha256:" + strings.Repeat("a", 64),
				MediaType:  "application/vnd.oci.image.index.v1+json",
			},
		},
	}
}

func sampleDeployment(project, environment, release string) *history.Deployment {
	return &history.Deployment{
		Project:     project,
		Environment: environment,
		ReleaseID:   release,
		RequestedBy: "bob",
		Description: "to " + environment,
		Images: map[string]history.TagMove{
			"api": {Repository: "uk.ac.wellcome/api", Tag: "env." + environment, From: "sha256:" + strings.Repeat("b", 64), To: "sha256:" + strings.Repeat("a", 64)},
		},
	}
}

func testReleaseRoundTrip(t *testing.T, e env) {
	r := sampleRelease("search")
	if err := e.store.PutRelease(e.ctx, r); err != nil {
		t.Fatalf("PutRelease: %v", err)
	}
	if len(r.ID) != 26 {
		t.Errorf("assigned id: got %q, want a 26-character ULID", r.ID)
	}
	if !r.CreatedAt.Equal(start) || r.CreatedAt.Location() != time.UTC {
		t.Errorf("assigned CreatedAt: got %v, want %v in UTC", r.CreatedAt, start)
	}
	got, err := e.store.GetRelease(e.ctx, "search", r.ID)
	if err != nil {
		t.Fatalf("GetRelease(%s): %v", r.ID, err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("GetRelease:\ngot  %+v\nwant %+v", got, r)
	}
	if _, err := e.store.GetRelease(e.ctx, "other", r.ID); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetRelease from another project: got %v, want ErrNotFound", err)
	}
	// A caller's copy is not the stored one.
	r.Images["api"] = history.ImageRef{Digest: "changed"}
	again, err := e.store.GetRelease(e.ctx, "search", r.ID)
	if err != nil {
		t.Fatalf("GetRelease again: %v", err)
	}
	if again.Images["api"].Digest == "changed" {
		t.Errorf("changing the caller's release changed the stored one")
	}
}

func testReleaseExists(t *testing.T, e env) {
	r := sampleRelease("search")
	r.ID = history.NewID(start)
	if err := e.store.PutRelease(e.ctx, r); err != nil {
		t.Fatalf("PutRelease: %v", err)
	}
	dup := sampleRelease("search")
	dup.ID = r.ID
	dup.Description = "overwrite attempt"
	if err := e.store.PutRelease(e.ctx, dup); !errors.Is(err, history.ErrExists) {
		t.Fatalf("PutRelease with a taken id: got %v, want ErrExists", err)
	}
	got, err := e.store.GetRelease(e.ctx, "search", r.ID)
	if err != nil {
		t.Fatalf("GetRelease: %v", err)
	}
	if got.Description != r.Description {
		t.Errorf("description after a refused overwrite: got %q, want %q", got.Description, r.Description)
	}
}

func testReleasePrefix(t *testing.T, e env) {
	ids := []string{"01JD00000000000000000000AA", "01JD00000000000000000000AB", "01JD00000000000000000000BC"}
	for _, id := range ids {
		r := sampleRelease("search")
		r.ID = id
		if err := e.store.PutRelease(e.ctx, r); err != nil {
			t.Fatalf("PutRelease %s: %v", id, err)
		}
	}
	tests := []struct {
		prefix  string
		want    string
		wantErr error
		cands   []string
	}{
		{prefix: "01JD00000000000000000000AB", want: ids[1]},
		{prefix: "01JD00000000000000000000B", want: ids[2]},
		{prefix: "01jd00000000000000000000b", want: ids[2]},
		{prefix: "01JD00000000000000000000A", wantErr: history.ErrAmbiguous, cands: []string{ids[1], ids[0]}},
		{prefix: "01JE", wantErr: history.ErrNotFound},
	}
	for _, tc := range tests {
		got, err := e.store.GetRelease(e.ctx, "search", tc.prefix)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("GetRelease(%q): got error %v, want %v", tc.prefix, err, tc.wantErr)
			}
			var amb *history.AmbiguousError
			if tc.cands != nil && (!errors.As(err, &amb) || !reflect.DeepEqual(amb.Candidates, tc.cands)) {
				t.Errorf("GetRelease(%q): got %v, want an AmbiguousError with candidates %v", tc.prefix, err, tc.cands)
			}
			continue
		}
		if err != nil {
			t.Errorf("GetRelease(%q): %v", tc.prefix, err)
			continue
		}
		if got.ID != tc.want {
			t.Errorf("GetRelease(%q): got %s, want %s", tc.prefix, got.ID, tc.want)
		}
	}
}

func testReleaseListing(t *testing.T, e env) {
	if _, err := e.store.LatestRelease(e.ctx, "search"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("LatestRelease with none: got %v, want ErrNotFound", err)
	}
	var want []string
	for i := 0; i < 5; i++ {
		r := sampleRelease("search")
		if err := e.store.PutRelease(e.ctx, r); err != nil {
			t.Fatalf("PutRelease: %v", err)
		}
		want = append([]string{r.ID}, want...)
		if i%2 == 0 {
			e.clock.Advance(time.Second)
		}
	}
	other := sampleRelease("other")
	if err := e.store.PutRelease(e.ctx, other); err != nil {
		t.Fatalf("PutRelease other: %v", err)
	}
	latest, err := e.store.LatestRelease(e.ctx, "search")
	if err != nil {
		t.Fatalf("LatestRelease: %v", err)
	}
	if latest.ID != want[0] {
		t.Errorf("LatestRelease: got %s, want %s", latest.ID, want[0])
	}
	for _, limit := range []int{0, 2, 10} {
		rs, err := e.store.ListReleases(e.ctx, "search", limit)
		if err != nil {
			t.Fatalf("ListReleases(limit %d): %v", limit, err)
		}
		w := want
		if limit > 0 && limit < len(w) {
			w = w[:limit]
		}
		if got := releaseIDs(rs); !reflect.DeepEqual(got, w) {
			t.Errorf("ListReleases(limit %d): got %v, want %v", limit, got, w)
		}
	}
}

func releaseIDs(rs []*history.Release) []string {
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func testReleasesConcurrent(t *testing.T, e env) {
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := sampleRelease("search")
			r.Description = fmt.Sprintf("release %d", i)
			errs <- e.store.PutRelease(e.ctx, r)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent PutRelease: %v", err)
		}
	}
	rs, err := e.store.ListReleases(e.ctx, "search", 0)
	if err != nil {
		t.Fatalf("ListReleases: %v", err)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		seen[r.Description] = true
	}
	if len(rs) != n || len(seen) != n {
		t.Errorf("after %d concurrent PutRelease: got %d releases (%d distinct), want %d", n, len(rs), len(seen), n)
	}
}

func testDeploymentLifecycle(t *testing.T, e env) {
	d := sampleDeployment("search", "stage", history.NewID(start))
	if err := e.store.CreateDeployment(e.ctx, d); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	if d.Version != 1 || d.Status != history.StatusInProgress || len(d.ID) != 26 || !d.StartedAt.Equal(start) {
		t.Errorf("created deployment: got version %d, status %q, id %q, started %v; want 1, in-progress, a ULID, %v",
			d.Version, d.Status, d.ID, d.StartedAt, start)
	}
	got, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("GetDeployment:\ngot  %+v\nwant %+v", got, d)
	}

	e.clock.Advance(time.Minute)
	got.Status = history.StatusSucceeded
	got.FinishedAt = e.clock.Now()
	got.Services = []history.ServiceOutcome{{Service: "search-api", Cluster: "prod", Region: "eu-west-1", ECSDeployment: "ecs-svc/1", TaskDefinition: "arn:td:2", Outcome: history.StatusSucceeded}}
	if err := e.store.UpdateDeployment(e.ctx, got); err != nil {
		t.Fatalf("UpdateDeployment: %v", err)
	}
	if got.Version != 2 {
		t.Errorf("version after one update: got %d, want 2", got.Version)
	}
	again, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment after update: %v", err)
	}
	if !reflect.DeepEqual(again, got) {
		t.Errorf("GetDeployment after update:\ngot  %+v\nwant %+v", again, got)
	}
	if _, err := e.store.GetDeployment(e.ctx, "search", history.NewID(start)); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetDeployment of an unknown id: got %v, want ErrNotFound", err)
	}
	dup := sampleDeployment("search", "stage", d.ReleaseID)
	dup.ID = d.ID
	if err := e.store.CreateDeployment(e.ctx, dup); !errors.Is(err, history.ErrExists) {
		t.Errorf("CreateDeployment with a taken id: got %v, want ErrExists", err)
	}
}

func testDeploymentConflict(t *testing.T, e env) {
	d := sampleDeployment("search", "prod", "r1")
	if err := e.store.CreateDeployment(e.ctx, d); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	a, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	b, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	a.Status = history.StatusSucceeded
	if err := e.store.UpdateDeployment(e.ctx, a); err != nil {
		t.Fatalf("first UpdateDeployment: %v", err)
	}
	b.Status = history.StatusFailed
	if err := e.store.UpdateDeployment(e.ctx, b); !errors.Is(err, history.ErrConflict) {
		t.Errorf("UpdateDeployment with a stale version: got %v, want ErrConflict", err)
	}
	if b.Version != 1 {
		t.Errorf("version of a refused update: got %d, want 1 (unchanged)", b.Version)
	}
	got, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if got.Status != history.StatusSucceeded {
		t.Errorf("status after a refused stale update: got %q, want %q", got.Status, history.StatusSucceeded)
	}
	missing := sampleDeployment("search", "prod", "r1")
	missing.ID = history.NewID(start)
	missing.Version = 1
	if err := e.store.UpdateDeployment(e.ctx, missing); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("UpdateDeployment of an unknown id: got %v, want ErrNotFound", err)
	}
}

func testDeploymentListing(t *testing.T, e env) {
	byEnv := map[string][]string{}
	var all []string
	for i, environment := range []string{"stage", "prod", "stage", "stage", "prod", "dev"} {
		d := sampleDeployment("search", environment, "r")
		if err := e.store.CreateDeployment(e.ctx, d); err != nil {
			t.Fatalf("CreateDeployment %d: %v", i, err)
		}
		byEnv[environment] = append([]string{d.ID}, byEnv[environment]...)
		all = append([]string{d.ID}, all...)
		e.clock.Advance(time.Duration(i%2) * time.Second)
	}
	if err := e.store.CreateDeployment(e.ctx, sampleDeployment("other", "stage", "r")); err != nil {
		t.Fatalf("CreateDeployment other: %v", err)
	}
	tests := []struct {
		environment string
		limit       int
		want        []string
	}{
		{"stage", 0, byEnv["stage"]},
		{"stage", 2, byEnv["stage"][:2]},
		{"prod", 5, byEnv["prod"]},
		{"qa", 0, nil},
		{"", 0, all},
		{"", 4, all[:4]},
	}
	for _, tc := range tests {
		ds, err := e.store.ListDeployments(e.ctx, "search", tc.environment, tc.limit)
		if err != nil {
			t.Fatalf("ListDeployments(%q, %d): %v", tc.environment, tc.limit, err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListDeployments(%q, %d): got %v, want %v", tc.environment, tc.limit, got, tc.want)
		}
	}
}

func testDeploymentsConcurrent(t *testing.T, e env) {
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := sampleDeployment("search", "stage", fmt.Sprintf("r%d", i))
			if err := e.store.CreateDeployment(e.ctx, d); err != nil {
				errs <- err
				return
			}
			d.Status = history.StatusSucceeded
			errs <- e.store.UpdateDeployment(e.ctx, d)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent deployment: %v", err)
		}
	}
	ds, err := e.store.ListDeployments(e.ctx, "search", "stage", 0)
	if err != nil {
		t.Fatalf("ListDeployments: %v", err)
	}
	releases := map[string]bool{}
	for _, d := range ds {
		if d.Status != history.StatusSucceeded || d.Version != 2 {
			t.Errorf("deployment %s: got status %q version %d, want succeeded version 2", d.ID, d.Status, d.Version)
		}
		releases[d.ReleaseID] = true
	}
	if len(ds) != n || len(releases) != n {
		t.Errorf("after %d concurrent deployments: got %d records (%d distinct), want %d", n, len(ds), len(releases), n)
	}
}

func testDeploymentLarge(t *testing.T, e env) {
	d := sampleDeployment("search", "prod", "r")
	d.Images = map[string]history.TagMove{}
	for i := 0; i < 200; i++ {
		img := fmt.Sprintf("image-%03d", i)
		d.Images[img] = history.TagMove{
			Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/" + img,
			Tag:        "env.prod", From: "sha256:" + strings.Repeat("b", 64), To: "sha256:" + strings.Repeat("a", 64), Moved: true, Done: true,
		}
		d.Services = append(d.Services, history.ServiceOutcome{
			Service:                "service-" + img,
			Cluster:                "arn:aws:ecs:eu-west-1:123456789012:cluster/production-cluster",
			Region:                 "eu-west-1",
			ECSDeployment:          "ecs-svc/1234567890123456789",
			TaskDefinition:         "arn:aws:ecs:eu-west-1:123456789012:task-definition/service-" + img + ":42",
			PreviousTaskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/service-" + img + ":41",
			Outcome:                history.StatusFailed,
			Reason:                 "tasks stopped: " + strings.Repeat("Essential container in task exited (exit code 1). ", 4),
		})
	}
	if err := e.store.CreateDeployment(e.ctx, d); err != nil {
		t.Fatalf("CreateDeployment with 200 services: %v", err)
	}
	if err := e.store.UpdateDeployment(e.ctx, d); err != nil {
		t.Fatalf("UpdateDeployment with 200 services: %v", err)
	}
	got, err := e.store.GetDeployment(e.ctx, "search", d.ID)
	if err != nil {
		t.Fatalf("GetDeployment: %v", err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("a deployment of 200 services came back different: got %d services, %d images; want 200, 200", len(got.Services), len(got.Images))
	}
}

func testCurrent(t *testing.T, e env) {
	if _, err := e.store.GetCurrent(e.ctx, "search", "prod"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetCurrent before any deployment: got %v, want ErrNotFound", err)
	}
	c := &history.Current{Project: "search", Environment: "prod", ReleaseID: "r1", DeploymentID: "d1",
		Images: map[string]history.ImageRef{"api": {Repository: "uk.ac.wellcome/api", Digest: "sha256:" + strings.Repeat("a", 64)}}}
	if err := e.store.SetCurrent(e.ctx, c); err != nil {
		t.Fatalf("first SetCurrent: %v", err)
	}
	if c.Version != 1 || !c.UpdatedAt.Equal(start) {
		t.Errorf("after first SetCurrent: got version %d, updated %v; want 1, %v", c.Version, c.UpdatedAt, start)
	}
	stale := *c
	stale.Version = 0
	if err := e.store.SetCurrent(e.ctx, &stale); !errors.Is(err, history.ErrConflict) {
		t.Errorf("second first-write: got %v, want ErrConflict", err)
	}
	next := *c
	next.ReleaseID, next.UpdatedAt = "r2", time.Time{}
	e.clock.Advance(time.Hour)
	if err := e.store.SetCurrent(e.ctx, &next); err != nil {
		t.Fatalf("SetCurrent at version 1: %v", err)
	}
	if err := e.store.SetCurrent(e.ctx, c); !errors.Is(err, history.ErrConflict) {
		t.Errorf("SetCurrent with a stale version: got %v, want ErrConflict", err)
	}
	got, err := e.store.GetCurrent(e.ctx, "search", "prod")
	if err != nil {
		t.Fatalf("GetCurrent: %v", err)
	}
	if !reflect.DeepEqual(got, &next) || got.Version != 2 {
		t.Errorf("GetCurrent:\ngot  %+v\nwant %+v (version 2)", got, &next)
	}
	stage := &history.Current{Project: "search", Environment: "stage", ReleaseID: "r3"}
	if err := e.store.SetCurrent(e.ctx, stage); err != nil {
		t.Fatalf("SetCurrent stage: %v", err)
	}
	all, err := e.store.ListCurrent(e.ctx, "search")
	if err != nil {
		t.Fatalf("ListCurrent: %v", err)
	}
	var envs []string
	for _, c := range all {
		envs = append(envs, c.Environment+"="+c.ReleaseID)
	}
	if want := []string{"prod=r2", "stage=r3"}; !reflect.DeepEqual(envs, want) {
		t.Errorf("ListCurrent: got %v, want %v", envs, want)
	}
}

func testInvalid(t *testing.T, e env) {
	tests := []struct {
		name string
		err  error
	}{
		{"release without project", e.store.PutRelease(e.ctx, &history.Release{})},
		{"deployment without environment", e.store.CreateDeployment(e.ctx, &history.Deployment{Project: "search"})},
		{"deployment with # in environment", e.store.CreateDeployment(e.ctx, &history.Deployment{Project: "search", Environment: "a#b"})},
		{"current without project", e.store.SetCurrent(e.ctx, &history.Current{Environment: "prod"})},
	}
	_, lockErr := e.store.AcquireLock(e.ctx, history.Lock{Project: "search", Environment: "prod"}, time.Minute)
	_, takeoverErr := e.store.TakeOverLock(e.ctx, lock("run-b"), time.Minute, lock("run-a"))
	unlockErr := e.store.BreakLock(e.ctx, &history.Unlock{Project: "search", Environment: "prod", Reason: "stuck",
		Freed: history.Lock{Project: "search", Environment: "prod"}})
	tests = append(tests, []struct {
		name string
		err  error
	}{
		{"lock without owner", lockErr},
		{"takeover of a lock without token", takeoverErr},
		{"unlock of a lock without owner", unlockErr},
	}...)
	for _, tc := range tests {
		if !errors.Is(tc.err, history.ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tc.name, tc.err)
		}
	}
}
