//go:build integration

package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// describeTable reads a table in region; nil when it does not exist.
func describeTable(t *testing.T, cfg aws.Config, region, table string) *ddbtypes.TableDescription {
	t.Helper()
	cfg = cfg.Copy()
	cfg.Region = region
	out, err := dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *ddbtypes.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		t.Fatalf("describe table %s in %s: %v", table, region, err)
	}
	return out.Table
}

func TestCLIInit(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	// The AWS configuration has the region of --region only, as the SDK's
	// default chain would without AWS_REGION.
	e.loadAWS = func(_ context.Context, region, _ string) (aws.Config, error) {
		cfg := e.cfg.Copy()
		cfg.Region = region
		return cfg, nil
	}

	e.table = awstest.Name(t, "init")
	out := e.mustRun("init")
	if want := "history table " + e.table + " is ready in " + awstest.Region; !strings.Contains(out, want) {
		t.Errorf("init: got %q, want %q (the manifest's registry region)", out, want)
	}
	td := describeTable(t, e.cfg, awstest.Region, e.table)
	if td == nil {
		t.Fatalf("init: table %s does not exist in %s", e.table, awstest.Region)
	}
	keys := map[string]ddbtypes.KeyType{}
	for _, k := range td.KeySchema {
		keys[aws.ToString(k.AttributeName)] = k.KeyType
	}
	if td.TableStatus != ddbtypes.TableStatusActive || keys["pk"] != ddbtypes.KeyTypeHash || keys["sk"] != ddbtypes.KeyTypeRange ||
		len(td.GlobalSecondaryIndexes) != 1 || aws.ToString(td.GlobalSecondaryIndexes[0].IndexName) != "gsi1" {
		t.Errorf("table: status %s, keys %v, %d indexes; want ACTIVE, (pk hash, sk range) and gsi1", td.TableStatus, keys, len(td.GlobalSecondaryIndexes))
	}
	if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing: got %+v, want on demand (PAY_PER_REQUEST)", td.BillingModeSummary)
	}
	// Re-running is safe, and the table then works as the history.
	e.mustRun("init")
	var res resultJSON
	if code := e.runJSON(&res, "release-deploy", "--environment", "stage"); code != 0 {
		t.Fatalf("release-deploy on the new table: exit %d (%s)", code, res.Error)
	}

	// --region wins over the registry's region.
	e.table = awstest.Name(t, "init-us")
	if out := e.mustRun("init", "--region", "us-east-1"); !strings.Contains(out, "ready in us-east-1") {
		t.Errorf("init --region us-east-1: got %q", out)
	}
	if describeTable(t, e.cfg, "us-east-1", e.table) == nil || describeTable(t, e.cfg, awstest.Region, e.table) != nil {
		t.Errorf("init --region us-east-1: want table %s in us-east-1 only", e.table)
	}

	// A table buoy did not make is refused, not used.
	e.table = awstest.Name(t, "not-buoys")
	_, err := dynamodb.NewFromConfig(e.cfg).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(e.table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := e.run("init")
	if code != exitcode.Failed || !strings.Contains(stderr, "not made by buoy init") || !strings.Contains(stderr, "pick another table name") {
		t.Errorf("init on a foreign table: exit %d stderr %q, want %d saying it was not made by buoy init", code, stderr, exitcode.Failed)
	}
}

func TestCLIPrepare(t *testing.T) {
	t.Parallel()
	e := newCLIEnv(t)
	e.env = map[string]string{"BUILDKITE": "true", "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/shop/builds/7",
		"BUILDKITE_COMMIT": deployfixture.OldCommit, "BUILDKITE_BUILD_CREATOR": "Ada"}
	store := history.NewDynamoDB(dynamodb.NewFromConfig(e.cfg), e.table)
	ctx := context.Background()

	var rel history.Release
	if code := e.runJSON(&rel, "prepare", "--from-label", "ref."+deployfixture.OldCommit, "--description", "hotfix"); code != 0 {
		t.Fatalf("prepare: exit %d", code)
	}
	stored, err := store.GetRelease(ctx, e.world.Project, rel.ID)
	if err != nil {
		t.Fatalf("the release %q is not in the history: %v", rel.ID, err)
	}
	if stored.Label != "ref."+deployfixture.OldCommit || stored.Description != "hotfix" || stored.RequestedBy != "Ada via Buildkite (https://buildkite.com/acme/shop/builds/7)" ||
		stored.CI.BuildURL != "https://buildkite.com/acme/shop/builds/7" || stored.CI.Commit != deployfixture.OldCommit {
		t.Errorf("stored release: got %+v", stored)
	}
	if len(stored.Images) != 3 {
		t.Errorf("stored release pins %d images, want 3", len(stored.Images))
	}
	for _, img := range e.world.Images {
		ref := stored.Images[img.ID]
		if ref.Digest != img.Old || ref.Repository != deployfixture.URI(img.Repository) || ref.Tag != "ref."+deployfixture.OldCommit {
			t.Errorf("image %s: got %+v, want %s@%s from ref.%s", img.ID, ref, img.Repository, img.Old, deployfixture.OldCommit)
		}
		if rel.Images[img.ID].Digest != ref.Digest {
			t.Errorf("image %s: the JSON says %s, the history %s", img.ID, rel.Images[img.ID].Digest, ref.Digest)
		}
	}
	// A release is only a record: no tag moved, no deployment started.
	if got := e.tagged("web", "env.stage"); got != e.world.Image("web").Old {
		t.Errorf("prepare moved web:env.stage to %s", got)
	}
	if deps, err := store.ListDeployments(ctx, e.world.Project, "", 0); err != nil || len(deps) != 0 {
		t.Errorf("deployments after prepare: %d (%v), want none", len(deps), err)
	}

	// The latest release is what deploy takes by default.
	var res resultJSON
	if code := e.runJSON(&res, "deploy", "--environment", "stage"); code != 0 || res.Release != rel.ID {
		t.Fatalf("deploy: exit %d release %s (%s), want 0 and the prepared %s", code, res.Release, res.Error, rel.ID)
	}

	// Every missing image is named at once, and nothing is recorded.
	code, _, stderr := e.run("prepare", "--from-label", "ref.nope")
	if code != exitcode.BadInput {
		t.Errorf("prepare of a missing label: exit %d, want %d", code, exitcode.BadInput)
	}
	for _, id := range []string{"web", "nginx", "worker"} {
		if !strings.Contains(stderr, id+" (") {
			t.Errorf("stderr %q does not name the missing image %s", stderr, id)
		}
	}
	if rels, err := store.ListReleases(ctx, e.world.Project, 0); err != nil || len(rels) != 1 {
		t.Errorf("releases after a failed prepare: %d (%v), want only the first", len(rels), err)
	}
}
