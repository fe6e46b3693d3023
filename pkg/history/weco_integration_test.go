//go:build integration

package history_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

// wecoWorld is a weco-deploy table with the real key schema holding an
// item of every shape (written with the SDK), and an empty buoy table.
type wecoWorld struct {
	client  *dynamodb.Client
	project string
	weco    *history.WecoTable
	table   string // buoy's
	store   history.Store
}

func newWecoWorld(t *testing.T) *wecoWorld {
	t.Helper()
	ctx := context.Background()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	project := awstest.Name(t, "shop")
	wecoTable := history.WecoTableName(project)
	historytest.CreateWecoTable(ctx, t, client, wecoTable)
	historytest.PutWecoItems(ctx, t, client, wecoTable, historytest.WecoFixtures(t, wecoFixtures, project))
	table := awstest.Name(t, "buoy-history")
	if err := history.Init(ctx, client, table); err != nil {
		t.Fatalf("Init(%s): %v", table, err)
	}
	return &wecoWorld{client: client, project: project, weco: history.NewWecoTable(client, wecoTable, project),
		table: table, store: history.NewDynamoDB(client, table)}
}

// buoyItems reads buoy's table with the SDK: the sort keys of its items.
func (w *wecoWorld) buoyItems(t *testing.T) []string {
	t.Helper()
	out, err := w.client.Scan(context.Background(), &dynamodb.ScanInput{TableName: &w.table})
	if err != nil {
		t.Fatalf("scan %s: %v", w.table, err)
	}
	var keys []string
	for _, it := range out.Items {
		keys = append(keys, it["sk"].(*ddbtypes.AttributeValueMemberS).Value)
	}
	slices.Sort(keys)
	return keys
}

func TestWecoTableOnMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWecoWorld(t)

	rels, err := w.weco.Releases(ctx, 0)
	if err != nil {
		t.Fatalf("Releases: %v", err)
	}
	var origins []string
	for _, r := range rels {
		origins = append(origins, r.Release.Origin.ID)
	}
	// Newest first, by date_created, through project_gsi.
	want := []string{"2b7e4d19-c6a0-4f83-8d25-e90a1b3c5d77", "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68",
		"a3d1f6b2-8e0c-4c4e-b1a9-2d5f7e9c0b34", "6c8a3e0e-4b1f-4d52-9a57-1f0f2b7c9e11", "0efcc940-e709-4a51-b264-809a670629b6"}
	if !slices.Equal(origins, want) {
		t.Errorf("releases: got %v, want %v", origins, want)
	}

	deps, err := w.weco.Deployments(ctx, "prod", 1)
	if err != nil {
		t.Fatalf("Deployments: %v", err)
	}
	if len(deps) != 1 || deps[0].Deployment.Origin.ID != "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68/deployments/1" {
		t.Errorf("last prod deployment: got %+v, want the 2021 one", deps)
	}
	all, err := w.weco.Deployments(ctx, "", 0)
	if err != nil {
		t.Fatalf("Deployments: %v", err)
	}
	if len(all) != 6 {
		t.Errorf("all deployments: got %d, want 6", len(all))
	}

	_, err = history.NewWecoTable(w.client, history.WecoTableName(awstest.Name(t, "none")), "none").Releases(ctx, 1)
	if !errors.Is(err, history.ErrNotFound) {
		t.Errorf("a missing table: got %v, want ErrNotFound", err)
	}
}

func TestImportOnMotoIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWecoWorld(t)
	// One record of buoy's own, which the import must leave as it is.
	own := &history.Release{Project: w.project, RequestedBy: "alice", Label: "latest",
		Images: map[string]history.ImageRef{"search": {Repository: "r", Tag: "latest", Digest: "sha256:aa"}}}
	if err := w.store.PutRelease(ctx, own); err != nil {
		t.Fatal(err)
	}
	ownKey := map[string]ddbtypes.AttributeValue{
		"pk": &ddbtypes.AttributeValueMemberS{Value: "PROJECT#" + w.project}, "sk": &ddbtypes.AttributeValueMemberS{Value: "RELEASE#" + own.ID}}
	before, err := w.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &w.table, Key: ownKey})
	if err != nil {
		t.Fatal(err)
	}

	dry, err := history.Import(ctx, w.weco, w.store, true)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if dry.Imported != 11 || dry.AlreadyThere != 0 || len(w.buoyItems(t)) != 1 {
		t.Errorf("dry run: got %d to import, %d there, %d items in the table; want 11, 0, only buoy's own",
			dry.Imported, dry.AlreadyThere, len(w.buoyItems(t)))
	}

	first, err := history.Import(ctx, w.weco, w.store, false)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if first.Imported != 11 || first.AlreadyThere != 0 {
		t.Errorf("first import: got %d imported, %d already there; want 11 (5 releases, 6 deployments), 0", first.Imported, first.AlreadyThere)
	}
	var wantKeys []string
	for _, r := range first.Records {
		prefix := map[string]string{"release": "RELEASE#", "deployment": "DEPLOY#"}[r.Kind]
		wantKeys = append(wantKeys, prefix+r.ID)
	}
	wantKeys = append(wantKeys, "RELEASE#"+own.ID)
	slices.Sort(wantKeys)
	if got := w.buoyItems(t); !slices.Equal(got, wantKeys) {
		t.Errorf("buoy's table after the import: got %v, want %v", got, wantKeys)
	}
	// The ids are those Map gives, and the records read back as imported.
	rels, err := w.weco.Releases(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		got, err := w.store.GetRelease(ctx, w.project, r.Release.ID)
		if err != nil || got.Origin == nil || got.Origin.ID != r.Release.Origin.ID {
			t.Errorf("release %s: got %+v, %v; want it imported from %s", r.Release.ID, got, err, r.Release.Origin.ID)
		}
	}

	second, err := history.Import(ctx, w.weco, w.store, false)
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	if second.Imported != 0 || second.AlreadyThere != 11 {
		t.Errorf("second import: got %d imported, %d already there; want 0, 11", second.Imported, second.AlreadyThere)
	}
	if got := w.buoyItems(t); !slices.Equal(got, wantKeys) {
		t.Errorf("buoy's table after the second import: got %v, want %v", got, wantKeys)
	}
	after, err := w.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &w.table, Key: ownKey})
	if err != nil {
		t.Fatal(err)
	}
	if !sameItem(before.Item, after.Item) {
		t.Errorf("buoy's own release changed: before %v, after %v", before.Item, after.Item)
	}
}

func sameItem(a, b map[string]ddbtypes.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		s1, ok1 := v.(*ddbtypes.AttributeValueMemberS)
		s2, ok2 := b[k].(*ddbtypes.AttributeValueMemberS)
		if ok1 != ok2 || (ok1 && s1.Value != s2.Value) {
			return false
		}
	}
	return true
}
