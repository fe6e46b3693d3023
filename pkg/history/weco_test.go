package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

const wecoFixtures = "testdata/weco"

// mapFixtures maps every fixture with a table of project "shop".
func mapFixtures(t *testing.T) map[string]history.WecoRelease {
	t.Helper()
	w := history.NewWecoTable(nil, "wellcome-releases-shop", "shop")
	out := map[string]history.WecoRelease{}
	for _, f := range historytest.WecoFixtures(t, wecoFixtures, "shop") {
		r, err := w.Map(f.Item)
		if err != nil {
			t.Fatalf("Map(%s): %v", f.File, err)
		}
		out[f.File] = r
	}
	return out
}

// The records every shape maps to, in full: a change here changes what
// `buoy history` shows of a weco-deploy past and what import writes.
func TestWecoMapGolden(t *testing.T) {
	t.Parallel()
	mapped := mapFixtures(t)
	var files []string
	for f := range mapped {
		files = append(files, f)
	}
	slices.Sort(files)
	var all []history.WecoRelease
	for _, f := range files {
		all = append(all, mapped[f])
	}
	data, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/weco-mapped.json", string(data)+"\n")
}

func TestWecoMapShapes(t *testing.T) {
	t.Parallel()
	mapped := mapFixtures(t)
	tests := []struct {
		file        string
		requestedBy string
		created     time.Time
		images      map[string]history.ImageRef
		envs        []string // of the deployments, oldest first
		deployedBy  string   // of the first deployment
	}{
		{
			file: "1-release-tooling-2019.json", requestedBy: "unknown",
			created: time.Date(2019, 7, 10, 10, 44, 2, 272898000, time.UTC),
			images: map[string]history.ImageRef{
				"hatching": {Repository: "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/hatching", Tag: "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"},
				"feeding":  {Repository: "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/feeding", Tag: "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"},
			},
			envs: []string{"stage"}, deployedBy: "arn:aws:iam::760097843905:user/alice",
		},
		{
			file: "2-weco-deploy-2.json", requestedBy: "arn:aws:sts::760097843905:assumed-role/catalogue-ci/alice",
			created: time.Date(2020, 7, 10, 9, 15, 0, 120000000, time.UTC),
			images: map[string]history.ImageRef{
				"search": {Repository: "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/search", Tag: "ref.3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"},
			},
			envs: []string{"stage", "prod"}, deployedBy: "arn:aws:sts::760097843905:assumed-role/catalogue-ci/alice",
		},
		{
			file: "3-weco-deploy-4.json", requestedBy: "arn:aws:iam::760097843905:user/carol",
			created: time.Date(2020, 8, 3, 14, 1, 7, 4512000, time.UTC),
			images: map[string]history.ImageRef{
				"search":      {Repository: "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/search", Tag: "ref.9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c"},
				"nginx_apigw": {Repository: "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/nginx_apigw", Tag: "ref.1b0a9f8e7d6c5b4a3f2e1d0c9d8c7b6a5f4e3d2c"},
			},
			envs: []string{"stage"}, deployedBy: "arn:aws:iam::760097843905:user/carol",
		},
		{
			// "items" is null (no image under the label): left out.
			file: "4-weco-deploy-5.json", requestedBy: "arn:aws:sts::760097843905:assumed-role/catalogue-developer/dave",
			created: time.Date(2021, 5, 18, 8, 30, 0, 1000, time.UTC),
			images:  map[string]history.ImageRef{"search": {Tag: "ref.7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"}},
			envs:    []string{"stage", "prod"}, deployedBy: "arn:aws:sts::760097843905:assumed-role/catalogue-developer/dave",
		},
		{
			file: "5-weco-deploy-5-not-deployed.json", requestedBy: "arn:aws:sts::760097843905:assumed-role/catalogue-ci/buildkite",
			created: time.Date(2022, 4, 21, 16, 45, 0, 0, time.UTC),
			images: map[string]history.ImageRef{
				"search": {Tag: "ref.0c2e4b6d8f0a3f2a9c1e5b7d4a6f8e0c2b4d6f8a"},
				"items":  {Tag: "ref.0c2e4b6d8f0a3f2a9c1e5b7d4a6f8e0c2b4d6f8a"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			r, ok := mapped[tt.file]
			if !ok {
				t.Fatalf("no fixture %s", tt.file)
			}
			rel := r.Release
			if rel.RequestedBy != tt.requestedBy {
				t.Errorf("requested by: got %q, want %q", rel.RequestedBy, tt.requestedBy)
			}
			if !rel.CreatedAt.Equal(tt.created) || rel.CreatedAt.Location() != time.UTC {
				t.Errorf("created at: got %v, want %v (naive times are UTC)", rel.CreatedAt, tt.created)
			}
			if len(rel.Images) != len(tt.images) {
				t.Errorf("images: got %v, want %v", rel.Images, tt.images)
			}
			for id, want := range tt.images {
				if got := rel.Images[id]; got != want {
					t.Errorf("image %s: got %+v, want %+v (no digest: unknown)", id, got, want)
				}
			}
			if rel.Origin == nil || rel.Origin.Tool != history.WecoTool || rel.Origin.Table != "wellcome-releases-shop" || !strings.Contains(rel.Origin.ID, "-") {
				t.Errorf("origin: got %+v, want weco-deploy, the table and the release_id", rel.Origin)
			}
			if rel.Project != "shop" || len(rel.ID) != 26 {
				t.Errorf("release: got project %q id %q, want shop and a ULID", rel.Project, rel.ID)
			}
			var envs []string
			for i, d := range r.Deployments {
				envs = append(envs, d.Environment)
				if d.Status != history.StatusSucceeded || d.ReleaseID != rel.ID || d.Project != "shop" {
					t.Errorf("deployment %d: got status %s release %s project %s, want succeeded %s shop", i, d.Status, d.ReleaseID, d.Project, rel.ID)
				}
				if d.Origin == nil || d.Origin.ID != rel.Origin.ID+"/deployments/"+strconv.Itoa(i) {
					t.Errorf("deployment %d origin: got %+v, want %s/deployments/%d", i, d.Origin, rel.Origin.ID, i)
				}
				if d.StartedAt.Before(rel.CreatedAt) || !d.FinishedAt.Equal(d.StartedAt) {
					t.Errorf("deployment %d: started %v finished %v, release created %v", i, d.StartedAt, d.FinishedAt, rel.CreatedAt)
				}
			}
			if !slices.Equal(envs, tt.envs) {
				t.Errorf("environments: got %v, want %v", envs, tt.envs)
			}
			if len(r.Deployments) > 0 && r.Deployments[0].RequestedBy != tt.deployedBy {
				t.Errorf("deployed by: got %q, want %q", r.Deployments[0].RequestedBy, tt.deployedBy)
			}
		})
	}
}

func TestWecoMapDetails(t *testing.T) {
	t.Parallel()
	d := mapFixtures(t)["3-weco-deploy-4.json"].Deployments[0]
	wantImages := map[string]history.TagMove{
		"search":      {Repository: "uk.ac.wellcome/search", Tag: "env.stage", Moved: true, Done: true},
		"nginx_apigw": {Repository: "uk.ac.wellcome/nginx_apigw", Tag: "env.stage", Moved: false, Done: true},
	}
	for id, want := range wantImages {
		if got := d.Images[id]; got != want {
			t.Errorf("tag move %s: got %+v, want %+v", id, got, want)
		}
	}
	// Two images feed search-api: one ECS deployment, recorded once.
	wantSvc := []history.ServiceOutcome{{Service: "search-api", Cluster: "catalogue-api-stage", Region: "eu-west-1",
		ECSDeployment: "ecs-svc/4372938475692348791", Outcome: history.StatusSucceeded}}
	if !slices.Equal(d.Services, wantSvc) {
		t.Errorf("services: got %+v, want %+v", d.Services, wantSvc)
	}
	prod := mapFixtures(t)["4-weco-deploy-5.json"].Deployments[1]
	if len(prod.Services) != 0 || !prod.Images["search"].Done || prod.Images["search"].Moved {
		t.Errorf("a noop deployment: got images %+v services %+v, want the tag already there and no service", prod.Images, prod.Services)
	}
}

func TestWecoMapIDsAreStableAndSortable(t *testing.T) {
	t.Parallel()
	a, b := mapFixtures(t), mapFixtures(t)
	var ids []string
	for f, r := range a {
		if r.Release.ID != b[f].Release.ID {
			t.Errorf("%s: release id %s then %s: want the same id on every read", f, r.Release.ID, b[f].Release.ID)
		}
		ids = append(ids, r.Release.ID)
		for i, d := range r.Deployments {
			if d.ID != b[f].Deployments[i].ID {
				t.Errorf("%s: deployment %d id %s then %s", f, i, d.ID, b[f].Deployments[i].ID)
			}
			if d.ID <= r.Release.ID {
				t.Errorf("%s: deployment %d id %s sorts before its release %s", f, i, d.ID, r.Release.ID)
			}
			ids = append(ids, d.ID)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("id %s given twice", id)
		}
		seen[id] = true
	}
	// Ids sort as creation times do.
	byID := slices.SortedFunc(func(yield func(history.WecoRelease) bool) {
		for _, r := range a {
			if !yield(r) {
				return
			}
		}
	}, func(x, y history.WecoRelease) int { return strings.Compare(x.Release.ID, y.Release.ID) })
	for i := 1; i < len(byID); i++ {
		if byID[i].Release.CreatedAt.Before(byID[i-1].Release.CreatedAt) {
			t.Errorf("release %s (%v) sorts after %s (%v)", byID[i].Release.ID, byID[i].Release.CreatedAt, byID[i-1].Release.ID, byID[i-1].Release.CreatedAt)
		}
	}
}

// wecoDigest is a digest as ECR gives them.
const wecoDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestWecoMapTimesAndImages(t *testing.T) {
	t.Parallel()
	w := history.NewWecoTable(nil, "t", "shop")
	tests := []struct {
		name    string
		date    string
		image   string
		want    time.Time
		wantImg history.ImageRef
	}{
		{"isoformat with microseconds", "2020-07-10T10:44:12.983539", "repo/api:ref.abc", time.Date(2020, 7, 10, 10, 44, 12, 983539000, time.UTC),
			history.ImageRef{Repository: "repo/api", Tag: "ref.abc"}},
		{"isoformat at a whole second", "2020-07-10T10:44:12", "ref.abc", time.Date(2020, 7, 10, 10, 44, 12, 0, time.UTC),
			history.ImageRef{Tag: "ref.abc"}},
		// An image with neither tag nor digest is at latest, as Docker reads it.
		{"str(datetime)", "2020-07-10 10:44:12.5", "host:5000/repo/api", time.Date(2020, 7, 10, 10, 44, 12, 500000000, time.UTC),
			history.ImageRef{Repository: "host:5000/repo/api", Tag: "latest"}},
		{"with a zone", "2020-07-10T11:44:12+01:00", "repo/api@" + wecoDigest, time.Date(2020, 7, 10, 10, 44, 12, 0, time.UTC),
			history.ImageRef{Repository: "repo/api", Digest: wecoDigest}},
		{"not an image reference: kept whole", "2020-07-10T10:44:12", "Repo/API:x:y", time.Date(2020, 7, 10, 10, 44, 12, 0, time.UTC),
			history.ImageRef{Repository: "Repo/API:x:y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := w.Map(map[string]ddbtypes.AttributeValue{
				"release_id":   &ddbtypes.AttributeValueMemberS{Value: "r1"},
				"date_created": &ddbtypes.AttributeValueMemberS{Value: tt.date},
				"images": &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
					"api": &ddbtypes.AttributeValueMemberS{Value: tt.image}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !r.Release.CreatedAt.Equal(tt.want) {
				t.Errorf("created: got %v, want %v", r.Release.CreatedAt, tt.want)
			}
			if got := r.Release.Images["api"]; got != tt.wantImg {
				t.Errorf("image: got %+v, want %+v", got, tt.wantImg)
			}
		})
	}
}

func TestWecoMapDeploymentStatus(t *testing.T) {
	t.Parallel()
	w := history.NewWecoTable(nil, "t", "shop")
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	tests := []struct {
		status     string // "" for none, as weco-deploy wrote them
		want       history.Status
		wantReason string
	}{
		{"", history.StatusSucceeded, ""},
		{"success", history.StatusSucceeded, ""},
		{"failed", history.StatusFailed, "weco-deploy recorded it as failed"},
		{"aborted", history.StatusSucceeded, "weco-deploy recorded the status aborted"},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			t.Parallel()
			entry := map[string]ddbtypes.AttributeValue{"environment": s("stage"), "date_created": s("2020-07-10T10:45:12")}
			if tt.status != "" {
				entry["status"] = s(tt.status)
			}
			r, err := w.Map(map[string]ddbtypes.AttributeValue{"release_id": s("r1"), "date_created": s("2020-07-10T10:44:12"),
				"deployments": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{&ddbtypes.AttributeValueMemberM{Value: entry}}}})
			if err != nil {
				t.Fatal(err)
			}
			if d := r.Deployments[0]; d.Status != tt.want || d.Reason != tt.wantReason {
				t.Errorf("status: got %s (%q), want %s (%q)", d.Status, d.Reason, tt.want, tt.wantReason)
			}
		})
	}
}

func TestWecoMapRejectsWhatIsNotAWecoItem(t *testing.T) {
	t.Parallel()
	w := history.NewWecoTable(nil, "t", "shop")
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	tests := []struct {
		name string
		item map[string]ddbtypes.AttributeValue
		want string
	}{
		{"no release_id", map[string]ddbtypes.AttributeValue{"pk": s("PROJECT#shop")}, "no release_id"},
		{"no date", map[string]ddbtypes.AttributeValue{"release_id": s("r1")}, "no date_created"},
		{"bad date", map[string]ddbtypes.AttributeValue{"release_id": s("r1"), "date_created": s("yesterday")}, "not an ISO 8601 time"},
		{"deployment without environment", map[string]ddbtypes.AttributeValue{"release_id": s("r1"), "date_created": s("2020-07-10T10:44:12"),
			"deployments": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{
				&ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"date_created": s("2020-07-10T10:45:12")}}}}},
			"no environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := w.Map(tt.item)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Map: got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// fakeWeco plays DynamoDB's Query on a weco-deploy table's two indexes:
// items with the index's keys, sorted by its sort key, newest first,
// Limit at a time. It counts the items it returns.
type fakeWeco struct {
	items    []map[string]ddbtypes.AttributeValue
	read     int
	queries  int
	notFound bool
}

func (f *fakeWeco) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	f.queries++
	if f.notFound {
		return nil, &ddbtypes.ResourceNotFoundException{Message: new(string)}
	}
	sortKey := map[string]string{"project_gsi": "date_created", "deployment_gsi": "last_date_deployed"}[*in.IndexName]
	project := in.ExpressionAttributeValues[":p"].(*ddbtypes.AttributeValueMemberS).Value
	var matching []map[string]ddbtypes.AttributeValue
	for _, it := range f.items {
		p, _ := it["project_id"].(*ddbtypes.AttributeValueMemberS)
		_, hasSort := it[sortKey].(*ddbtypes.AttributeValueMemberS)
		if p != nil && p.Value == project && hasSort {
			matching = append(matching, it)
		}
	}
	slices.SortFunc(matching, func(a, b map[string]ddbtypes.AttributeValue) int {
		return strings.Compare(b[sortKey].(*ddbtypes.AttributeValueMemberS).Value, a[sortKey].(*ddbtypes.AttributeValueMemberS).Value)
	})
	start := 0
	if in.ExclusiveStartKey != nil {
		start, _ = strconv.Atoi(in.ExclusiveStartKey["n"].(*ddbtypes.AttributeValueMemberN).Value)
	}
	end := min(start+int(*in.Limit), len(matching))
	out := &dynamodb.QueryOutput{Items: matching[start:end]}
	f.read += end - start
	if end < len(matching) {
		out.LastEvaluatedKey = map[string]ddbtypes.AttributeValue{"n": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(end)}}
	}
	return out, nil
}

// wecoItem builds an item of release r created on day d of 2020, deployed
// to the environments at hours hs of that day.
func wecoItem(r string, d int, envs []string, hs []int) map[string]ddbtypes.AttributeValue {
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	at := func(h int) string { return time.Date(2020, 1, d, h, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05") }
	it := map[string]ddbtypes.AttributeValue{"release_id": s(r), "project_id": s("shop"), "date_created": s(at(0))}
	var deps []ddbtypes.AttributeValue
	for i, env := range envs {
		deps = append(deps, &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{
			"environment": s(env), "date_created": s(at(hs[i]))}})
		it["last_date_deployed"] = s(at(hs[i]))
	}
	it["deployments"] = &ddbtypes.AttributeValueMemberL{Value: deps}
	return it
}

func TestWecoTableDeploymentsNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Release A (day 1) was deployed to stage on day 1 and to prod at 23h
	// on day 1; B (day 2) and C (day 3) to stage; D (day 4) never.
	items := []map[string]ddbtypes.AttributeValue{
		wecoItem("A", 1, []string{"stage", "prod"}, []int{1, 23}),
		wecoItem("B", 2, []string{"stage"}, []int{1}),
		wecoItem("C", 3, []string{"stage"}, []int{1}),
		wecoItem("D", 4, nil, nil),
	}
	for i := 0; i < 20; i++ { // older history the short reads must not need
		items = append(items, wecoItem("old"+strconv.Itoa(i), 1, []string{"stage"}, []int{0}))
		items[len(items)-1]["date_created"] = &ddbtypes.AttributeValueMemberS{Value: "2019-01-01T00:00:00"}
		items[len(items)-1]["last_date_deployed"] = &ddbtypes.AttributeValueMemberS{Value: "2019-01-01T00:00:00"}
	}
	origins := func(ds []history.Deployed) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Deployment.Origin.ID)
		}
		return out
	}
	tests := []struct {
		name    string
		env     string
		limit   int
		want    []string
		maxRead int
	}{
		{"newest two", "", 2, []string{"C/deployments/0", "B/deployments/0"}, 4},
		{"newest three, one of an older release", "", 3, []string{"C/deployments/0", "B/deployments/0", "A/deployments/1"}, 6},
		{"prod", "prod", 1, []string{"A/deployments/1"}, 6},
		{"stage", "stage", 2, []string{"C/deployments/0", "B/deployments/0"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeWeco{items: items}
			got, err := history.NewWecoTable(f, "wellcome-releases-shop", "shop").Deployments(ctx, tt.env, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(origins(got), tt.want) {
				t.Errorf("deployments: got %v, want %v", origins(got), tt.want)
			}
			if f.read > tt.maxRead {
				t.Errorf("read %d items of %d, want at most %d", f.read, len(items), tt.maxRead)
			}
			for _, d := range got {
				if d.Release == nil || d.Release.ID != d.Deployment.ReleaseID {
					t.Errorf("deployment %s comes without its release", d.Deployment.Origin.ID)
				}
			}
		})
	}

	f := &fakeWeco{items: items}
	all, err := history.NewWecoTable(f, "wellcome-releases-shop", "shop").Deployments(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 24 {
		t.Errorf("all deployments: got %d, want 24", len(all))
	}
	rels, err := history.NewWecoTable(f, "wellcome-releases-shop", "shop").Releases(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 2 || rels[0].Release.Origin.ID != "D" || rels[1].Release.Origin.ID != "C" {
		t.Errorf("newest two releases: got %v, want D, C", rels)
	}
}

func TestWecoTableFindsItemsByTheTablesProject(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	item := wecoItem("A", 1, []string{"stage"}, []int{1})
	item["project_id"] = &ddbtypes.AttributeValueMemberS{Value: "catalogue_api"}
	f := &fakeWeco{items: []map[string]ddbtypes.AttributeValue{item}}
	// buoy's project is "catalogue"; the table says the weco project id.
	rels, err := history.NewWecoTable(f, "wellcome-releases-catalogue_api", "catalogue").Releases(ctx, 0)
	if err != nil || len(rels) != 1 || rels[0].Release.Project != "catalogue" {
		t.Errorf("Releases: got %v, %v; want the one release, of project catalogue", rels, err)
	}
	// A table named otherwise is searched by buoy's project id.
	rels, err = history.NewWecoTable(f, "old-releases", "catalogue").Releases(ctx, 0)
	if err != nil || len(rels) != 0 {
		t.Errorf("Releases of another project id: got %v, %v; want none", rels, err)
	}
}

func TestWecoTableMissing(t *testing.T) {
	t.Parallel()
	f := &fakeWeco{notFound: true}
	_, err := history.NewWecoTable(f, "wellcome-releases-shop", "shop").Releases(context.Background(), 5)
	if !errors.Is(err, history.ErrNotFound) || !strings.Contains(err.Error(), "wellcome-releases-shop") {
		t.Errorf("a missing table: got %v, want ErrNotFound naming the table", err)
	}
}
