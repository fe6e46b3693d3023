package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// fakeWecoTable plays Query on weco-deploy's two indexes over the
// fixtures of every weco-deploy version (one page), or fails with err.
type fakeWecoTable struct {
	items []map[string]ddbtypes.AttributeValue
	err   error
}

func (f *fakeWecoTable) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	key := map[string]string{"project_gsi": "date_created", "deployment_gsi": "last_date_deployed"}[*in.IndexName]
	var out []map[string]ddbtypes.AttributeValue
	for _, it := range f.items {
		if _, ok := it[key]; ok {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b map[string]ddbtypes.AttributeValue) int {
		return strings.Compare(b[key].(*ddbtypes.AttributeValueMemberS).Value, a[key].(*ddbtypes.AttributeValueMemberS).Value)
	})
	return &dynamodb.QueryOutput{Items: out}, nil
}

func wecoTable(t *testing.T) *fakeWecoTable {
	t.Helper()
	f := &fakeWecoTable{}
	for _, fx := range historytest.WecoFixtures(t, "../history/testdata/weco", "demo") {
		f.items = append(f.items, fx.Item)
	}
	return f
}

// wecoFixture is the deploy tests' fixture with a weco-deploy table read
// through api, and history.Memory as the store: it lists records by id,
// as DynamoDB does, which imported records (older ids, written later)
// need.
type wecoFixture struct {
	*fixture
	mem history.Store
}

func newWecoFixture(t *testing.T, api history.WecoAPI) *wecoFixture {
	t.Helper()
	f := newFixture(t)
	mem := history.NewMemory(history.WithClock(f.clock.Now))
	d, err := New(f.project, mem, WithClock(f.clock), WithSink(f.events), WithLockWait(0),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{f.w, p.Target.Cluster}, nil }),
		WithWecoTable(history.NewWecoTable(api, "wellcome-releases-demo", "demo")))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.d = d
	return &wecoFixture{fixture: f, mem: mem}
}

// The newest release in the fixtures, weco-deploy 5, never deployed, and
// the one before it, deployed to stage then prod.
const (
	wecoNewest   = "2b7e4d19-c6a0-4f83-8d25-e90a1b3c5d77"
	wecoLastProd = "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68"
)

func TestDeployRefusesAReleaseWithoutDigests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newWecoFixture(t, wecoTable(t))
	rep, err := f.d.ImportHistory(ctx, ImportHistoryInput{})
	if err != nil || rep.Imported != 11 {
		t.Fatalf("ImportHistory: got %+v, %v; want 11 records imported", rep, err)
	}
	rels, err := f.mem.ListReleases(ctx, "demo", 1)
	if err != nil || len(rels) != 1 || rels[0].Origin == nil || rels[0].Origin.ID != wecoNewest {
		t.Fatalf("newest release: got %v, %v; want the imported %s", rels, err, wecoNewest)
	}
	imported := rels[0]
	before, err := f.mem.ListDeployments(ctx, "demo", "", 0)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		run  func() (*Result, error)
	}{
		{"deploy", func() (*Result, error) {
			return f.d.Deploy(ctx, DeployInput{Request: Request{Environment: "stage", RequestedBy: "alice"}, Release: imported.ID})
		}},
		{"deploy the latest", func() (*Result, error) {
			return f.d.Deploy(ctx, DeployInput{Request: Request{Environment: "stage", RequestedBy: "alice"}})
		}},
		{"plan", func() (*Result, error) {
			return f.d.Deploy(ctx, DeployInput{Request: Request{Environment: "stage", RequestedBy: "alice", DryRun: true}, Release: imported.ID})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.run()
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("error: got %v, want ErrInvalidInput", err)
			}
			for _, want := range []string{imported.ID, "weco-deploy", wecoNewest, "prepare a new release", "--from-label ref.0c2e4b6d8f0a3f2a9c1e5b7d4a6f8e0c2b4d6f8a"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if res == nil || res.Status != history.StatusFailed {
				t.Errorf("result: got %+v, want failed", res)
			}
		})
	}
	if got := f.w.sideEffects(); len(got) != 0 {
		t.Errorf("deploying an imported release changed AWS: %q", got)
	}
	if after, err := f.mem.ListDeployments(ctx, "demo", "", 0); err != nil || len(after) != len(before) {
		t.Errorf("deploying an imported release recorded a deployment: %d records, %d before (%v)", len(after), len(before), err)
	}
	if _, err := f.mem.AcquireLock(ctx, history.Lock{Project: "demo", Environment: "stage", Owner: "test"}, time.Minute); err != nil {
		t.Errorf("deploying an imported release left the lock of stage held: %v", err)
	}

	// A rollback whose target is an imported release is refused too.
	if _, err := f.releaseDeploy("prod", func(in *ReleaseDeployInput) { in.Confirm = true }); err != nil {
		t.Fatalf("release-deploy to prod: %v", err)
	}
	_, err = f.d.Rollback(ctx, RollbackInput{Request: Request{Environment: "prod", RequestedBy: "alice", Confirm: true}})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), wecoLastProd) {
		t.Errorf("rollback to the imported release: got %v, want ErrInvalidInput naming %s", err, wecoLastProd)
	}
}

func TestHistoryMergesWecoDeploysPast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newWecoFixture(t, wecoTable(t))
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatal(err)
	}
	origins := func(rep *HistoryReport) (rels, deps []string) {
		for _, r := range rep.Releases {
			rels = append(rels, originOf(r.Origin))
		}
		for _, d := range rep.Deployments {
			deps = append(deps, d.Environment+" "+originOf(d.Origin))
		}
		return rels, deps
	}
	wantRels := []string{"buoy", wecoNewest, wecoLastProd}
	wantDeps := []string{"stage buoy", "prod " + wecoLastProd + "/deployments/1", "stage " + wecoLastProd + "/deployments/0"}
	for _, imported := range []bool{false, true} {
		if imported {
			// Imported records are in both tables: shown once.
			if _, err := f.d.ImportHistory(ctx, ImportHistoryInput{}); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := f.d.History(ctx, HistoryInput{Limit: 3})
		if err != nil {
			t.Fatalf("History: %v", err)
		}
		rels, deps := origins(rep)
		if !slices.Equal(rels, wantRels) || !slices.Equal(deps, wantDeps) {
			t.Errorf("imported %v: got releases %v deployments %v; want %v and %v", imported, rels, deps, wantRels, wantDeps)
		}
	}
	rep, err := f.d.History(ctx, HistoryInput{Environment: "prod", Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, deps := origins(rep); !slices.Equal(deps, []string{"prod " + wecoLastProd + "/deployments/1", "prod 6c8a3e0e-4b1f-4d52-9a57-1f0f2b7c9e11/deployments/1"}) {
		t.Errorf("prod deployments: got %v, want the two weco-deploy made", deps)
	}
}

func originOf(o *history.Origin) string {
	if o == nil {
		return "buoy"
	}
	return o.ID
}

func TestHistoryWithAnUnreadableWecoTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		warning string // "" for none
	}{
		{"missing", &ddbtypes.ResourceNotFoundException{Message: new(string)}, ""},
		{"denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform dynamodb:Query"},
			"not allowed to read weco-deploy's history in table wellcome-releases-demo"},
		{"failing", &smithy.GenericAPIError{Code: "InternalServerError", Message: "boom"},
			"cannot read weco-deploy's history (table wellcome-releases-demo)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newWecoFixture(t, &fakeWecoTable{err: tt.err})
			if _, err := f.releaseDeploy("stage"); err != nil {
				t.Fatal(err)
			}
			rep, err := f.d.History(context.Background(), HistoryInput{})
			if err != nil || len(rep.Releases) != 1 || len(rep.Deployments) != 1 {
				t.Fatalf("History: got %+v, %v; want buoy's own release and deployment", rep, err)
			}
			var warnings []string
			for _, e := range f.events.OfKind(event.Warning) {
				warnings = append(warnings, e.Message)
			}
			switch {
			case tt.warning == "" && len(warnings) > 0:
				t.Errorf("warnings: got %q, want none", warnings)
			case tt.warning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warning)):
				t.Errorf("warnings: got %q, want one saying %q", warnings, tt.warning)
			}
			// status reads the table for prod, which buoy never deployed to.
			st, err := f.d.Status(context.Background(), StatusInput{Environments: []string{"prod"}})
			if err != nil || st.Environments[0].Imported != nil {
				t.Errorf("Status: got %+v, %v; want prod without anything imported", st, err)
			}
			want := 0
			if tt.warning != "" {
				want = 2 // history's, then status's
			}
			if n := len(f.events.OfKind(event.Warning)); n != want {
				t.Errorf("warnings after status: got %d, want %d", n, want)
			}
			if _, err := f.d.ImportHistory(context.Background(), ImportHistoryInput{}); err == nil {
				t.Errorf("ImportHistory: got nil, want the read's error")
			} else if tt.warning == "" && !errors.Is(err, ErrInvalidInput) {
				t.Errorf("ImportHistory from a missing table: got %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestStatusShowsWhatWecoDeployLastDeployed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newWecoFixture(t, wecoTable(t))
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		rep, err := f.d.Status(ctx, StatusInput{})
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		for _, es := range rep.Environments {
			switch es.Environment {
			case "stage": // buoy deployed it: its record, nothing imported
				if es.Current == nil || es.Imported != nil {
					t.Errorf("%s, stage: got current %v imported %+v, want buoy's record only", when, es.Current, es.Imported)
				}
			case "prod":
				is := es.Imported
				if es.Current != nil || is == nil || is.Deployment.Origin.ID != wecoLastProd+"/deployments/1" ||
					is.Release == nil || is.Release.Images["search"].Tag != "ref.7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d" {
					t.Errorf("%s, prod: got current %v imported %+v, want weco-deploy's last prod deployment and its release", when, es.Current, is)
				}
			}
		}
	}
	check("read from weco-deploy's table")
	if _, err := f.d.ImportHistory(ctx, ImportHistoryInput{}); err != nil {
		t.Fatal(err)
	}
	check("after the import")

	// Imported records alone, the weco-deploy table gone.
	d, err := New(f.project, f.mem, WithClock(f.clock),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{f.w, p.Target.Cluster}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	check("from buoy's table only")
}

func TestWecoTableName(t *testing.T) {
	t.Parallel()
	p := &manifest.Project{ID: "catalogue_api"}
	tests := []struct {
		format manifest.Format
		flag   string
		want   string
	}{
		{manifest.FormatLegacy, "", "wellcome-releases-catalogue_api"},
		{manifest.FormatLegacy, "old-releases", "old-releases"},
		{manifest.FormatV1, "", ""},
		{manifest.FormatV1, "wellcome-releases-catalogue", "wellcome-releases-catalogue"},
	}
	for _, tt := range tests {
		if got := WecoTableName(&manifest.Manifest{Format: tt.format}, p, tt.flag); got != tt.want {
			t.Errorf("WecoTableName(%s, %q): got %q, want %q", tt.format, tt.flag, got, tt.want)
		}
	}
}

func TestWecoConfigReadsWhereWecoDeployDid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, manifest, base, want string
	}{
		{"the project's region", "eu-west-2", "us-east-1", "eu-west-2"},
		{"else the base region", "", "us-east-1", "us-east-1"},
		{"else weco-deploy's default", "", "", "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &manifest.Project{ID: "p", Registry: manifest.Registry{Region: tt.manifest}}
			if got := wecoConfig(aws.Config{Region: tt.base}, p).Region; got != tt.want {
				t.Errorf("region: got %q, want %q", got, tt.want)
			}
		})
	}
	base := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}}
	p := &manifest.Project{ID: "p", Registry: manifest.Registry{RoleARN: "arn:aws:iam::760097843905:role/catalogue-ci"}}
	if _, same := wecoConfig(base, p).Credentials.(aws.AnonymousCredentials); same {
		t.Errorf("with the project's role_arn: got the base credentials, want the role assumed")
	}
}
