//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// environments are the environments every legacy world has.
var environments = []string{"stage", "prod"}

// expected is what a cell's world must hold after the steps so far: per
// environment, the build ("old" or "new") its floating tags point at
// ("" for no tag) and the one its SSM parameters hold ("" for none).
type expected struct {
	tags, params map[string]string
	ssmEra       bool
}

func newExpected(c *cell) *expected {
	e := &expected{tags: map[string]string{}, params: map[string]string{}, ssmEra: c.world.SSMImages}
	for _, env := range environments {
		if !e.ssmEra {
			e.tags[env] = "old" // the fixture's: every floating tag starts at the old build
		}
	}
	return e
}

// apply records what a step that succeeded changed.
func (e *expected) apply(s step) {
	if s.runs == "" {
		return
	}
	if !e.ssmEra {
		e.tags[s.env] = s.runs
	}
	e.params[s.env] = s.runs // legacy image projects publish, SSM-era ones deploy so
}

// digest returns the digest of img's build b ("" for none).
func digest(img deployfixture.Image, b string) string {
	switch b {
	case "old":
		return img.Old
	case "new":
		return img.New
	}
	return ""
}

// observed is what the SDK shows of a cell's world at one moment.
type observed struct {
	// primary is, per environment and service id, the id of the
	// service's PRIMARY ECS deployment.
	primary map[string]map[string]string
	// calls is how many calls the cell's proxy had seen.
	calls int
	// deployments are the history's deployment records, newest first.
	deployments []recordedDeployment
}

func (c *cell) observe(ctx context.Context, t *testing.T) observed {
	t.Helper()
	o := observed{primary: map[string]map[string]string{}, calls: len(c.proxy.Calls())}
	if !c.world.SSMImages {
		for _, env := range environments {
			o.primary[env] = primaries(c.f.ServiceDeployments(ctx, t, env))
		}
	}
	o.deployments = recordedDeployments(ctx, t, c.f.Table, c.world.Project)
	return o
}

// check checks, after step s, what the entrypoint reported and what the
// SDK shows: ECS, ECR, SSM and the history table.
func (c *cell) check(ctx context.Context, t *testing.T, s step, r ran, before observed, ex *expected) {
	t.Helper()
	after := c.observe(ctx, t)
	calls := c.proxy.Calls()[before.calls:]
	counts, regions := updates(t, calls)
	c.checkECS(t, s, before, after, counts, regions)
	if c.world.SSMImages {
		for _, call := range calls {
			if call.Service == "ecs" || call.Service == "tag" {
				t.Errorf("%s: %s, but a project whose images are in SSM touches no ECS service", s.name, call.Action())
			}
		}
	}
	for _, img := range c.world.Images {
		for _, env := range environments {
			if got, want := c.f.TagDigest(ctx, t, img.Repository, "env."+env), digest(img, ex.tags[env]); got != want {
				t.Errorf("after %s: %s:env.%s points at %q, want %q (the %s build)", s.name, img.Repository, env, got, want, ex.tags[env])
			}
			name := "/" + c.world.Project + "/images/" + env + "/" + img.ID
			want := ""
			if ex.params[env] != "" {
				want = deployfixture.URI(img.Repository) + "@" + digest(img, ex.params[env])
			}
			if got := parameter(ctx, t, name); got != want {
				t.Errorf("after %s: SSM %s holds %q, want %q", s.name, name, got, want)
			}
			// weco-deploy wrote them in the project's region only, where
			// its stacks read them: a service's own region gets none.
			if got := parameterIn(ctx, t, secondRegion, name); got != "" {
				t.Errorf("after %s: SSM %s in %s holds %q, want nothing there", s.name, name, secondRegion, got)
			}
		}
	}
	switch {
	case s.verb == "validate":
		contains(t, s.name, r.text, "is valid")
	case s.runs == "":
		c.checkPlan(t, s, r, before, after)
	default:
		c.checkDeployment(t, s, r, before, after)
	}
}

// checkECS checks that each service of the step's environment got
// exactly one UpdateService, in its own cluster, and a new primary ECS
// deployment, and that no other service got either.
func (c *cell) checkECS(t *testing.T, s step, before, after observed, updated map[string]int, regions map[string]string) {
	t.Helper()
	for _, env := range environments {
		for _, svc := range c.world.Services {
			where := c.world.ClustersOf(env, svc.ID)[0] + "/" + svc.ID
			was, is := before.primary[env][svc.ID], after.primary[env][svc.ID]
			if is == "" {
				t.Errorf("after %s: ECS has no primary deployment of %s in %s", s.name, where, c.world.RegionOf(svc.ID))
			}
			if s.runs != "" && env == s.env {
				if updated[where] != 1 || is == was {
					t.Errorf("%s: %s got %d UpdateService calls, primary deployment %s then %s; want exactly one new deployment",
						s.name, where, updated[where], was, is)
				}
				if r, ok := regions[where]; ok && r != c.world.RegionOf(svc.ID) {
					t.Errorf("%s: %s was updated in %s, want %s", s.name, where, r, c.world.RegionOf(svc.ID))
				}
			} else if updated[where] != 0 || is != was {
				t.Errorf("%s: %s (%s) got %d UpdateService calls, primary deployment %s then %s; want none", s.name, where, env, updated[where], was, is)
			}
			delete(updated, where)
		}
	}
	if len(updated) > 0 {
		t.Errorf("%s updated services that are not the project's (or not where they run): %v", s.name, updated)
	}
}

// updates counts the UpdateService calls moto accepted, by
// "cluster/service" as the request named them (a cluster ARN by its
// name), and returns the region each named in its cluster's ARN.
func updates(t *testing.T, calls []faultproxy.Call) (map[string]int, map[string]string) {
	t.Helper()
	counts, regions := map[string]int{}, map[string]string{}
	for _, c := range calls {
		if c.Action() != "ecs:UpdateService" || c.Status != http.StatusOK {
			continue
		}
		var in struct{ Cluster, Service string }
		if err := json.Unmarshal(c.Body, &in); err != nil {
			t.Fatalf("decode an UpdateService request: %v\n%s", err, c.Body)
		}
		cluster := in.Cluster
		if a, err := arn.Parse(in.Cluster); err == nil {
			cluster = strings.TrimPrefix(a.Resource, "cluster/")
			regions[cluster+"/"+in.Service] = a.Region
		}
		counts[cluster+"/"+in.Service]++
	}
	return counts, regions
}

// checkPlan checks that a plan changed nothing and named what it would
// change.
func (c *cell) checkPlan(t *testing.T, s step, r ran, before, after observed) {
	t.Helper()
	if len(after.deployments) != len(before.deployments) {
		t.Errorf("%s recorded %d deployments", s.name, len(after.deployments)-len(before.deployments))
	}
	if r.reports && r.status != "planned" {
		t.Errorf("%s: reported status %q, want planned", s.name, r.status)
	}
	for _, svc := range c.world.Services {
		contains(t, s.name, r.text, svc.ID, c.world.ClustersOf(s.env, svc.ID)[0])
	}
	for _, img := range c.world.Images {
		contains(t, s.name, r.text, img.ID)
	}
}

// checkDeployment checks the one deployment record the step added, and
// what the entrypoint reported of it.
func (c *cell) checkDeployment(t *testing.T, s step, r ran, before, after observed) {
	t.Helper()
	if len(after.deployments) != len(before.deployments)+1 {
		t.Fatalf("%s: the history holds %d deployments, then %d; want one more", s.name, len(before.deployments), len(after.deployments))
	}
	d := after.deployments[0]
	if d.Environment != s.env || d.Status != "succeeded" || d.ReleaseID == "" {
		t.Errorf("%s: recorded deployment %s to %s, %s, of release %q; want one to %s, succeeded", s.name, d.ID, d.Environment, d.Status, d.ReleaseID, s.env)
	}
	if r.reports && (r.status != "succeeded" || r.deployment != d.ID) {
		t.Errorf("%s: reported status %q, deployment %q; want succeeded, %s", s.name, r.status, r.deployment, d.ID)
	}
	if !r.reports {
		contains(t, s.name, r.text, d.ID)
	}
	switch s.verb {
	case "promote":
		if stage := newest(after.deployments, "stage"); stage == nil || d.ReleaseID != stage.ReleaseID {
			t.Errorf("%s deployed release %s, want stage's, %v", s.name, d.ReleaseID, stage)
		}
	case "rollback":
		first := after.deployments[len(after.deployments)-1]
		if d.ReleaseID != first.ReleaseID || d.RollbackOf != before.deployments[0].ID {
			t.Errorf("%s deployed release %s rolling back %q; want %s (prod's first), rolling back %s",
				s.name, d.ReleaseID, d.RollbackOf, first.ReleaseID, before.deployments[0].ID)
		}
	}
	for _, img := range c.world.Images {
		if got := d.Images[img.ID].To; got != digest(img, s.runs) {
			t.Errorf("%s: recorded %s at %s, want the %s build %s", s.name, img.ID, got, s.runs, digest(img, s.runs))
		}
	}
	var got, want []string
	for _, so := range d.Services {
		got = append(got, fmt.Sprintf("%s in %s %s: %s, %s", so.Service, so.Cluster, orRegion(so.Region), so.ECSDeployment, so.Outcome))
	}
	for _, svc := range c.world.Services {
		want = append(want, fmt.Sprintf("%s in %s %s: %s, succeeded", svc.ID, c.world.ClustersOf(s.env, svc.ID)[0],
			c.world.RegionOf(svc.ID), after.primary[s.env][svc.ID]))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: the record's services are\n%s\nwant (as ECS shows them)\n%s", s.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func orRegion(r string) string {
	if r == "" {
		return awstest.Region
	}
	return r
}

// newest returns the newest deployment to env, or nil.
func newest(deps []recordedDeployment, env string) *recordedDeployment {
	for i := range deps {
		if deps[i].Environment == env {
			return &deps[i]
		}
	}
	return nil
}

// checkReleases checks the history's releases and current records
// after every step: two releases (prod's first, from the old build, and
// stage's, from the new), prod back on the first.
func (c *cell) checkReleases(ctx context.Context, t *testing.T) {
	t.Helper()
	table, project := c.f.Table, c.world.Project
	deps := recordedDeployments(ctx, t, table, project)
	var rels []struct {
		ID     string
		Label  string
		Images map[string]struct{ Digest string }
	}
	for _, it := range historyItems(ctx, t, table, project, "RELEASE#") {
		var rel struct {
			ID     string
			Label  string
			Images map[string]struct{ Digest string }
		}
		decodeData(t, it, &rel)
		rels = append(rels, rel)
	}
	if len(rels) != 2 || len(deps) != 4 {
		t.Fatalf("the history holds %d releases and %d deployments, want 2 and 4", len(rels), len(deps))
	}
	for _, rel := range rels { // newest first
		b := map[string]string{"ref." + deployfixture.OldCommit: "old", "latest": "new"}[rel.Label]
		for _, img := range c.world.Images {
			if got := rel.Images[img.ID].Digest; got != digest(img, b) || b == "" {
				t.Errorf("release %s (label %s) pins %s at %s, want the %s build", rel.ID, rel.Label, img.ID, got, b)
			}
		}
		if len(rel.Images) != len(c.world.Images) {
			t.Errorf("release %s pins %d images, want %d", rel.ID, len(rel.Images), len(c.world.Images))
		}
	}
	want := map[string]string{"stage": rels[0].ID, "prod": rels[1].ID}
	got := map[string]string{}
	for _, it := range historyItems(ctx, t, table, project, "CURRENT#") {
		var cur struct{ Environment, ReleaseID string }
		decodeData(t, it, &cur)
		got[cur.Environment] = cur.ReleaseID
	}
	if !maps.Equal(got, want) {
		t.Errorf("current records: %v, want %v (prod back on its first release)", got, want)
	}
}

// recordedDeployment is the part of a deployment record the suite reads,
// decoded from the item's data attribute (docs/history.md).
type recordedDeployment struct {
	ID, Environment, ReleaseID, RollbackOf, Status string
	Images                                         map[string]struct{ To, Parameter string }
	Services                                       []struct{ Service, Cluster, Region, ECSDeployment, Outcome string }
}

// recordedDeployments reads a project's deployment records from the
// history table with the SDK, newest first.
func recordedDeployments(ctx context.Context, t *testing.T, table, project string) []recordedDeployment {
	t.Helper()
	var out []recordedDeployment
	for _, it := range historyItems(ctx, t, table, project, "DEPLOY#") {
		var d recordedDeployment
		decodeData(t, it, &d)
		out = append(out, d)
	}
	return out
}

// historyItems returns a project's items whose sort key starts with
// prefix, newest first, read with the SDK.
func historyItems(ctx context.Context, t *testing.T, table, project, prefix string) []map[string]ddbtypes.AttributeValue {
	t.Helper()
	p := dynamodb.NewQueryPaginator(dynamodb.NewFromConfig(awstest.Config(t)), &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: "PROJECT#" + project}, ":prefix": &ddbtypes.AttributeValueMemberS{Value: prefix}},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	})
	var out []map[string]ddbtypes.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("query %s of %s in %s: %v", prefix, project, table, err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// decodeData decodes an item's data attribute, the record as JSON.
func decodeData(t *testing.T, it map[string]ddbtypes.AttributeValue, v any) {
	t.Helper()
	data, ok := it["data"].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		t.Fatalf("item %v has no data", it["sk"])
	}
	if err := json.Unmarshal([]byte(data.Value), v); err != nil {
		t.Fatalf("decode item %v: %v", it["sk"], err)
	}
}
