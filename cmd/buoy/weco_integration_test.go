//go:build integration

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

// wecoImportedIDs are the buoy ids of the records of
// pkg/history/testdata/weco: each weco-deploy release_id (and deployment
// in its list) always gets the same one.
var wecoImportedIDs = map[string]string{
	"RELEASE#01DFDQQ9K0X49PH8B8BBWGV55R": "0efcc940-e709-4a51-b264-809a670629b6",
	"DEPLOY#01DFDQQM1QBPEPH87411W2HHHN":  "0efcc940-e709-4a51-b264-809a670629b6/deployments/0",
	"RELEASE#01ECW03AMRHZ5XM1THFCHM9Q06": "6c8a3e0e-4b1f-4d52-9a57-1f0f2b7c9e11",
	"DEPLOY#01ECW0DR0WXK45KN7DPZDK3S2H":  "6c8a3e0e-4b1f-4d52-9a57-1f0f2b7c9e11/deployments/0",
	"DEPLOY#01ECW68898C3ZNRFSJ56Z4XB5A":  "6c8a3e0e-4b1f-4d52-9a57-1f0f2b7c9e11/deployments/1",
	"RELEASE#01EETA0F5WZHQVX2HBY9GNPF92": "a3d1f6b2-8e0c-4c4e-b1a9-2d5f7e9c0b34",
	"DEPLOY#01EETA9D5Y722GQHADMSZ16ZV4":  "a3d1f6b2-8e0c-4c4e-b1a9-2d5f7e9c0b34/deployments/0",
	"RELEASE#01F5Z9H5T0PTBSF5ART2BBZHY7": "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68",
	"DEPLOY#01F5Z9KA5G3Q2F783YSKQ9Z449":  "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68/deployments/0",
	"DEPLOY#01F5ZBZEY2DYFFATFNWEGKFYS4":  "f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68/deployments/1",
	"RELEASE#01G16G6FQ0CW7YD00BWDT4NR5J": "2b7e4d19-c6a0-4f83-8d25-e90a1b3c5d77",
}

// putWecoTable creates wellcome-releases-<project> with weco-deploy's key
// schema and writes an item of every weco-deploy version into it with
// the SDK, and returns its name.
func putWecoTable(t *testing.T, project string) string {
	t.Helper()
	ctx := context.Background()
	client := dynamodb.NewFromConfig(awstest.Config(t))
	table := history.WecoTableName(project)
	historytest.CreateWecoTable(ctx, t, client, table)
	historytest.PutWecoItems(ctx, t, client, table, historytest.WecoFixtures(t, "../../pkg/history/testdata/weco", project))
	return table
}

// scanItems reads a buoy table with the SDK: its items by sort key.
func scanItems(t *testing.T, table string) map[string]map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(context.Background(), &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatalf("scan %s: %v", table, err)
	}
	items := map[string]map[string]ddbtypes.AttributeValue{}
	for _, it := range out.Items {
		items[it["sk"].(*ddbtypes.AttributeValueMemberS).Value] = it
	}
	return items
}

func dataOf(t *testing.T, it map[string]ddbtypes.AttributeValue) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(it["data"].(*ddbtypes.AttributeValueMemberS).Value), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCLIWecoDeployHistory(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	project := e.world.Project
	weco := putWecoTable(t, project)
	anon := func(s string) string { return strings.ReplaceAll(s, project, "shop") }

	// history shows weco-deploy's past, marked, newest first.
	out := e.mustRun("history", "--weco-table", weco)
	golden.Check(t, "testdata/history-weco.txt", anon(out))
	_, out, _ = e.run("history", "--weco-table", weco, "--output", "json")
	golden.Check(t, "testdata/history-weco.json", anon(out))

	// status shows what weco-deploy last deployed where buoy has not.
	e.mustRun("release-deploy", "--environment", "stage", "--from-label", "latest")
	status := e.mustRun("status", "--weco-table", weco)
	stage, prod, ok := strings.Cut(status, "\nprod:")
	if !ok {
		t.Fatalf("status: got\n%s\nwant a section for prod", status)
	}
	if !strings.Contains(prod, "last deployed by weco-deploy: release f19b2c7d-05e3-4a8e-9c61-7b3d2e4f5a68 on 2021-05-18T09:12:45Z") ||
		!strings.Contains(prod, "search=ref.7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d") {
		t.Errorf("status of prod: got\n%s\nwant weco-deploy's last prod deployment and its tags", prod)
	}
	if strings.Contains(stage, "weco-deploy") {
		t.Errorf("status of stage, which buoy deployed: got\n%s\nwant buoy's record only", stage)
	}
	var st struct {
		Environments []struct {
			Environment string
			Imported    *struct{ Deployment history.Deployment }
		}
	}
	if code := e.runJSON(&st, "status", "--weco-table", weco); code != 0 || len(st.Environments) != 2 ||
		st.Environments[1].Imported == nil || st.Environments[1].Imported.Deployment.ID != "01F5ZBZEY2DYFFATFNWEGKFYS4" {
		t.Errorf("status --output json: exit %d, got %+v; want prod's imported deployment 01F5ZBZEY2DYFFATFNWEGKFYS4", code, st)
	}

	// import-history copies every record, with its id, and leaves buoy's own alone.
	own := scanItems(t, e.table)
	out = e.mustRun("import-history", "--weco-table", weco, "--dry-run")
	if !strings.Contains(out, "dry run, nothing written: would import 11 of 11 records") || len(scanItems(t, e.table)) != len(own) {
		t.Errorf("import-history --dry-run: got\n%s\nwant 11 records it would import, and nothing written", out)
	}
	out = e.mustRun("import-history", "--weco-table", weco)
	if !strings.Contains(out, "imported 11 of 11 records from "+weco+" into "+e.table+"; 0 already there") {
		t.Errorf("import-history: got\n%s\nwant 11 records imported", out)
	}
	if got := strings.Count(out, "imported  "); got != 11 {
		t.Errorf("import-history: got %d lines of imported records, want 11:\n%s", got, out)
	}
	check := func(when string) {
		t.Helper()
		items := scanItems(t, e.table)
		for sk, origin := range wecoImportedIDs {
			it, ok := items[sk]
			if !ok {
				t.Errorf("%s: buoy's table has no %s (weco-deploy %s)", when, sk, origin)
				continue
			}
			if o, _ := dataOf(t, it)["origin"].(map[string]any); o["id"] != origin || o["tool"] != "weco-deploy" {
				t.Errorf("%s: %s has origin %v, want weco-deploy %s", when, sk, o, origin)
			}
		}
		for sk, before := range own {
			if !sameAttributes(before, items[sk]) {
				t.Errorf("%s: buoy's own %s changed:\nbefore %v\nafter  %v", when, sk, before, items[sk])
			}
		}
		if len(items) != len(own)+len(wecoImportedIDs) {
			t.Errorf("%s: buoy's table holds %d items, want its %d and the %d imported", when, len(items), len(own), len(wecoImportedIDs))
		}
	}
	check("after the import")

	out = e.mustRun("import-history", "--weco-table", weco)
	if !strings.Contains(out, "nothing imported: all 11 records of "+weco+" are already in "+e.table) || strings.Contains(out, "imported  ") {
		t.Errorf("second import-history: got\n%s\nwant nothing imported, saying so", out)
	}
	check("after the second import")

	// Each record shows once, the weco-deploy table read too.
	var h struct{ Releases, Deployments []history.Deployment }
	e.runJSON(&h, "history", "--weco-table", weco, "--limit", "50")
	if len(h.Releases) != 6 || len(h.Deployments) != 7 {
		t.Errorf("history after the import: got %d releases and %d deployments, want 6 and 7 (buoy's and weco-deploy's, once each)", len(h.Releases), len(h.Deployments))
	}

	// An imported release cannot be deployed.
	code, _, errs := e.run("deploy", "--environment", "stage", "--release", "01F5Z9H5T0PTBSF5ART2BBZHY7")
	if code != 2 || !strings.Contains(errs, "prepare a new release") || !strings.Contains(errs, "buoy prepare --from-label ref.7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d") {
		t.Errorf("deploy of an imported release: exit %d, stderr\n%s\nwant 2 and how to prepare a new release", code, errs)
	}
}

func sameAttributes(a, b map[string]ddbtypes.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		x, ok1 := v.(*ddbtypes.AttributeValueMemberS)
		y, ok2 := b[k].(*ddbtypes.AttributeValueMemberS)
		if ok1 != ok2 {
			return false
		}
		if ok1 && x.Value != y.Value {
			return false
		}
		if n1, ok := v.(*ddbtypes.AttributeValueMemberN); ok {
			if n2, ok := b[k].(*ddbtypes.AttributeValueMemberN); !ok || n1.Value != n2.Value {
				return false
			}
		}
	}
	return true
}

// A .wellcome_project reads wellcome-releases-<project> unasked, with the
// project's role and region; a project without that table is shown as
// before, without a word about it.
func TestCLIWecoTableOfALegacyManifest(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	legacy := func(project string) string {
		path := filepath.Join(t.TempDir(), ".wellcome_project")
		yaml := project + `:
  name: Catalogue
  role_arn: arn:aws:iam::` + awstest.AccountID + `:role/catalogue-ci
  aws_region_name: ` + awstest.Region + `
  environments:
    - id: stage
      name: Staging
    - id: prod
      name: Production
  image_repositories:
    - id: search
      services:
        - search-api
`
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}

	withTable := awstest.Name(t, "catalogue")
	putWecoTable(t, withTable)
	e.manifest = legacy(withTable)
	code, out, errs := e.run("history")
	if code != 0 || strings.Count(out, "imported from weco-deploy") != 11 || strings.Contains(errs, "warning") {
		t.Errorf("history of a legacy project with a weco-deploy table: exit %d, stdout\n%s\nstderr\n%s\nwant its 11 records marked imported, no warning", code, out, errs)
	}

	without := awstest.Name(t, "catalogue")
	e.manifest = legacy(without)
	code, out, errs = e.run("history")
	want := "DEPLOYMENTS\nID  ENVIRONMENT  RELEASE  STATUS  STARTED  BY  NOTE\n\nRELEASES\nID  LABEL  CREATED  BY  DESCRIPTION\n"
	if code != 0 || out != want || errs != "" {
		t.Errorf("history of a legacy project without one: exit %d, stdout\n%q\nstderr\n%q\nwant %q and nothing on stderr", code, out, errs, want)
	}
	code, _, errs = e.run("import-history")
	if code != 2 || !strings.Contains(errs, "wellcome-releases-"+without+" does not exist") {
		t.Errorf("import-history without a weco-deploy table: exit %d, stderr %q; want 2 naming the table", code, errs)
	}
}
