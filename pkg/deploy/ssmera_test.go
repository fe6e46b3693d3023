package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

// storageManifest is a 2019 .wellcome_project without image_repositories:
// its images are in SSM.
const storageManifest = `{"id": "storage", "name": "Storage service",
  "role_arn": "arn:aws:iam::975596993436:role/storage-ci", "aws_region_name": "eu-west-1",
  "environments": [{"id": "stage", "name": "Staging"}, {"id": "prod", "name": "Production"}]}`

// platformECR is the registry CI pushed the storage images to, in
// another account than the project's role.
const platformECR = "760097843905.dkr.ecr.eu-west-1.amazonaws.com/"

// sha returns a digest of s, of the form ECR gives.
func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ssmFixture is an SSM-era project whose CI wrote, under latest, an ECR
// URI with a tag (bag_register), an ECR URI pinned by digest (notifier)
// and a Docker Hub URI pinned by digest (nginx).
type ssmFixture struct {
	t      *testing.T
	w      *world
	ssm    *fakeSSM
	store  *historytest.Faulty
	events *event.Recorder
	d      *Deployer
}

func newSSMFixture(t *testing.T) *ssmFixture {
	t.Helper()
	m, err := manifest.Parse(".wellcome_project", []byte(storageManifest))
	if err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock()
	f := &ssmFixture{t: t, w: newWorld(), ssm: &fakeSSM{params: map[string]string{}}, store: newStore(clock.Now), events: &event.Recorder{}}
	f.w.push("uk.ac.wellcome/bag_register", sha("bag_register v2"), "ref.2222", "latest")
	f.w.push("uk.ac.wellcome/notifier", sha("notifier v1"), "ref.1111")
	f.ssm.params["/storage/images/latest/bag_register"] = platformECR + "uk.ac.wellcome/bag_register:ref.2222"
	f.ssm.params["/storage/images/latest/notifier"] = platformECR + "uk.ac.wellcome/notifier:ref.1111@" + sha("notifier v1")
	f.ssm.params["/storage/images/latest/nginx"] = "nginx@" + sha("nginx 1.27")
	f.ssm.params["/storage/images/stage/bag_register"] = platformECR + "uk.ac.wellcome/bag_register:ref.1111" // weco-deploy's last write
	d, err := New(m.Projects[0], f.store, WithClock(clock), WithSink(f.events), WithLockWait(0),
		WithRegistry(func(p RegistryParams) (Registry, error) {
			if p.Registry.AccountID != "760097843905" || p.Registry.Region != "eu-west-1" || p.Registry.RoleARN != "arn:aws:iam::975596993436:role/storage-ci" {
				t.Errorf("ECR client for %+v, want the account and region of the URI, through the project's role", p.Registry)
			}
			return fakeRegistry{f.w}, nil
		}),
		WithCluster(func(ClusterParams) (Cluster, error) {
			t.Error("an ECS client was made for an SSM-era project")
			return nil, errors.New("no ECS here")
		}),
		WithSSM(func(p ClusterParams) (ssmparam.SSMAPI, error) {
			if p.Config.Region != "eu-west-1" {
				t.Errorf("SSM client in region %q, want the project's eu-west-1", p.Config.Region)
			}
			return f.ssm, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	return f
}

func (f *ssmFixture) param(name string) string {
	f.ssm.mu.Lock()
	defer f.ssm.mu.Unlock()
	return f.ssm.params[name]
}

func TestSSMEraPrepareResolvesTagsAndKeepsPinnedURIs(t *testing.T) {
	t.Parallel()
	f := newSSMFixture(t)
	rel, err := f.d.Prepare(context.Background(), PrepareInput{RequestedBy: "alice"})
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	want := map[string]history.ImageRef{
		"bag_register": {Repository: platformECR + "uk.ac.wellcome/bag_register", Tag: "ref.2222", Digest: sha("bag_register v2"),
			MediaType: "application/vnd.docker.distribution.manifest.v2+json"},
		"notifier": {Repository: platformECR + "uk.ac.wellcome/notifier", Tag: "ref.1111", Digest: sha("notifier v1")},
		"nginx":    {Repository: "docker.io/library/nginx", Digest: sha("nginx 1.27")},
	}
	if rel.Label != "latest" || len(rel.Images) != len(want) {
		t.Fatalf("release: got label %q and %d images %+v, want latest and %d", rel.Label, len(rel.Images), rel.Images, len(want))
	}
	for id, w := range want {
		if got := rel.Images[id]; got != w {
			t.Errorf("image %s: got %+v, want %+v", id, got, w)
		}
	}
	if got := strings.Join(f.w.asked, " "); got != "uk.ac.wellcome/bag_register:ref.2222" {
		t.Errorf("ECR was asked %q, want only the tag that is not pinned", got)
	}
}

func TestSSMEraReleaseDeployWritesOnlyChangedParameters(t *testing.T) {
	t.Parallel()
	f := newSSMFixture(t)
	f.ssm.params["/storage/images/stage/nginx"] = "docker.io/library/nginx@" + sha("nginx 1.27") // already what the release pins
	res, err := f.d.ReleaseDeploy(context.Background(), ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}})
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	if res.Status != history.StatusSucceeded {
		t.Errorf("status: got %s, want succeeded", res.Status)
	}
	for name, want := range map[string]string{
		"/storage/images/stage/bag_register": platformECR + "uk.ac.wellcome/bag_register@" + sha("bag_register v2"),
		"/storage/images/stage/notifier":     platformECR + "uk.ac.wellcome/notifier@" + sha("notifier v1"),
		"/storage/images/stage/nginx":        "docker.io/library/nginx@" + sha("nginx 1.27"),
	} {
		if got := f.param(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	if got := strings.Join(f.ssm.puts, " "); got != "/storage/images/stage/bag_register /storage/images/stage/notifier" {
		t.Errorf("parameters written: got %q, want bag_register and notifier only", got)
	}
	if calls := f.w.sideEffects(); len(calls) != 0 {
		t.Errorf("ECR or ECS changed: %v, want nothing but SSM", calls)
	}
	dep, err := f.store.GetDeployment(context.Background(), "storage", res.Deployment.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantMoves := map[string]history.TagMove{
		"bag_register": {Repository: platformECR + "uk.ac.wellcome/bag_register", Parameter: "/storage/images/stage/bag_register",
			To: sha("bag_register v2"), Moved: true, Done: true}, // the old value had a tag, no digest
		"notifier": {Repository: platformECR + "uk.ac.wellcome/notifier", Parameter: "/storage/images/stage/notifier",
			To: sha("notifier v1"), Moved: true, Done: true},
		"nginx": {Repository: "docker.io/library/nginx", Parameter: "/storage/images/stage/nginx",
			From: sha("nginx 1.27"), To: sha("nginx 1.27"), Done: true},
	}
	for id, want := range wantMoves {
		if got := dep.Images[id]; got != want {
			t.Errorf("record of %s:\ngot  %+v\nwant %+v", id, got, want)
		}
	}
	if len(dep.Services) != 0 {
		t.Errorf("record lists services %+v, want none", dep.Services)
	}

	// The same release again writes nothing.
	f.ssm.puts = nil
	if _, err := f.d.ReleaseDeploy(context.Background(), ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}}); err != nil {
		t.Fatalf("second ReleaseDeploy: %v", err)
	}
	if len(f.ssm.puts) != 0 {
		t.Errorf("second deployment wrote %v, want nothing", f.ssm.puts)
	}
}

func TestSSMEraPrepareRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		label   string
		params  map[string]string
		want    []string
		missing bool
	}{
		{"no parameters under the label", "ref.9999", nil,
			[]string{"no image parameters under /storage/images/ref.9999 in SSM (region eu-west-1)", "--from-label"}, false},
		{"a tag outside ECR", "latest", map[string]string{"/storage/images/latest/nginx": "nginx:1.27"},
			[]string{"/storage/images/latest/nginx = nginx:1.27 names only a tag, outside ECR", "pinned by digest, docker.io/library/nginx@sha256:<digest>"}, false},
		{"not an image reference", "latest", map[string]string{"/storage/images/latest/nginx": "http://example.com/x"},
			[]string{"/storage/images/latest/nginx: invalid image reference"}, false},
		{"a tag ECR does not have", "latest", map[string]string{"/storage/images/latest/bag_register": platformECR + "uk.ac.wellcome/bag_register:ref.gone"},
			[]string{"image not found: bag_register (" + platformECR + "uk.ac.wellcome/bag_register:ref.gone, in /storage/images/latest/bag_register)", "push them"}, true},
		{"a label that is no path segment", "a/b", nil, []string{`label "a/b" cannot name an SSM path`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSSMFixture(t)
			for k, v := range tc.params {
				f.ssm.params[k] = v
			}
			_, err := f.d.Prepare(context.Background(), PrepareInput{Label: tc.label})
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("Prepare: got %v, want an ErrInvalidInput", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Prepare error %q does not say %q", err, w)
				}
			}
			var me *MissingError
			if got := errors.As(err, &me); got != tc.missing {
				t.Errorf("a *MissingError: got %v, want %v", got, tc.missing)
			}
		})
	}
}

func TestSSMEraPromoteStatusAndDrift(t *testing.T) {
	t.Parallel()
	f := newSSMFixture(t)
	ctx := context.Background()
	staged, err := f.d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}})
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	res, err := f.d.Promote(ctx, PromoteInput{Request: Request{Environment: "prod", RequestedBy: "alice"}, From: "stage"})
	if err != nil {
		t.Fatalf("Promote: %v", err)
	}
	if res.Release.ID != staged.Release.ID {
		t.Errorf("promoted release %s, want stage's %s", res.Release.ID, staged.Release.ID)
	}
	if got, want := f.param("/storage/images/prod/bag_register"), platformECR+"uk.ac.wellcome/bag_register@"+sha("bag_register v2"); got != want {
		t.Errorf("/storage/images/prod/bag_register: got %q, want %q", got, want)
	}

	rep, err := f.d.Status(ctx, StatusInput{})
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, es := range rep.Environments {
		if len(es.Drift) != 0 || len(es.Images) != 3 || len(es.Services) != 0 {
			t.Errorf("%s: got drift %v, %d images, %d services; want no drift, 3 images, no service", es.Environment, es.Drift, len(es.Images), len(es.Services))
		}
		for _, is := range es.Images {
			if is.Published != ssmparam.ImageURI(is.Repository, is.Recorded) || is.Parameter != "/storage/images/"+es.Environment+"/"+is.Image {
				t.Errorf("%s %s: got %+v, want the parameter to hold the recorded digest", es.Environment, is.Image, is)
			}
		}
	}

	// Someone writes stage by hand, and adds a service: status says so,
	// and promote refuses.
	f.ssm.params["/storage/images/stage/bag_register"] = platformECR + "uk.ac.wellcome/bag_register:hotfix"
	f.ssm.params["/storage/images/stage/extra"] = "nginx@" + sha("extra")
	rep, err = f.d.Status(ctx, StatusInput{Environments: []string{"stage"}})
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	drift := strings.Join(rep.Environments[0].Drift, "\n")
	for _, w := range []string{
		"SSM /storage/images/stage/bag_register holds " + platformECR + "uk.ac.wellcome/bag_register:hotfix, but release " + staged.Release.ID + " pins " + platformECR + "uk.ac.wellcome/bag_register@" + sha("bag_register v2"),
		"SSM /storage/images/stage/extra holds nginx@" + sha("extra") + ", but release " + staged.Release.ID + " has no image extra",
	} {
		if !strings.Contains(drift, w) {
			t.Errorf("drift:\n%s\nwant it to say %q", drift, w)
		}
	}
	if _, err := f.d.Promote(ctx, PromoteInput{Request: Request{Environment: "prod"}, From: "stage"}); err == nil || !strings.Contains(err.Error(), "has drifted") {
		t.Errorf("Promote from a drifted stage: got %v, want a refusal saying it has drifted", err)
	}
}

// TestSSMEraRollbackWritesTheEarlierRelease: a rollback writes the
// parameters of the release the environment ran before.
func TestSSMEraRollbackWritesTheEarlierRelease(t *testing.T) {
	t.Parallel()
	f := newSSMFixture(t)
	ctx := context.Background()
	deploy := func() {
		t.Helper()
		if _, err := f.d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}}); err != nil {
			t.Fatalf("ReleaseDeploy: %v", err)
		}
	}
	const name = "/storage/images/stage/bag_register"
	deploy()
	first := f.param(name)
	f.w.push("uk.ac.wellcome/bag_register", sha("bag_register v3"), "ref.3333")
	f.ssm.params["/storage/images/latest/bag_register"] = platformECR + "uk.ac.wellcome/bag_register:ref.3333"
	deploy()
	if got, want := f.param(name), platformECR+"uk.ac.wellcome/bag_register@"+sha("bag_register v3"); got != want {
		t.Fatalf("%s after the second release: got %q, want %q", name, got, want)
	}
	res, err := f.d.Rollback(ctx, RollbackInput{Request: Request{Environment: "stage", RequestedBy: "alice"}})
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if got := f.param(name); got != first {
		t.Errorf("%s after the rollback: got %q, want the first release's %q", name, got, first)
	}
	if res.Deployment.RollbackOf == "" {
		t.Error("the rollback's record does not say which deployment it rolls back")
	}
}
