package deployfixture

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Environment is the one environment of New's project.
const Environment = "stage"

// FloatingTag is Environment's floating tag.
const FloatingTag = "env.stage"

// Fixture is a World built on the emulator for a test, with its manifest
// written to a temporary directory.
type Fixture struct {
	*World
	// Manifest is the path of buoy.yaml (with Legacy, .wellcome_project),
	// in Dir.
	Manifest string
	Dir      string
	// Cluster is the first cluster of the first environment.
	Cluster string

	cfg aws.Config
}

// Options change the project New builds.
type Options struct {
	// Images is how many images (each feeding its own service); default 2.
	Images int
	// ExtraYAML is added to the environment's entry in buoy.yaml, each
	// line written as an environment key, e.g. "protected: true".
	ExtraYAML []string
	// Environments adds environments after Environment, each with its
	// own cluster (ClusterOf) running the same services on its floating
	// tag env.<id>, which starts at the old build.
	Environments []string
}

// New builds, with cfg (a configuration reaching the emulator directly,
// e.g. awstest.Config), a project of uniquely named images img00,
// img01, ... each feeding its own service, one environment (Environment)
// with one cluster, and the history table.
func New(ctx context.Context, t testing.TB, cfg aws.Config, o Options) *Fixture {
	t.Helper()
	if o.Images == 0 {
		o.Images = 2
	}
	w := &World{
		Project: awstest.Name(t, "e2e"),
		Table:   awstest.Name(t, "buoy-e2e"),
		Environments: []Env{{ID: Environment, Clusters: []string{awstest.Name(t, "e2e-cluster")},
			YAML: o.ExtraYAML}},
	}
	for _, env := range o.Environments {
		w.Environments = append(w.Environments, Env{ID: env, Clusters: []string{awstest.Name(t, "e2e-cluster-"+env)}})
	}
	for i := range o.Images {
		svc := awstest.Name(t, fmt.Sprintf("svc%02d", i))
		w.Images = append(w.Images, Image{ID: fmt.Sprintf("img%02d", i),
			Repository: awstest.Name(t, fmt.Sprintf("e2e/img%02d", i)), Services: []string{svc}})
		w.Services = append(w.Services, Service{ID: svc})
	}
	return Start(ctx, t, cfg, w)
}

// OneService describes the smallest project: one image "api" in its own
// repository, feeding one service "api", in one environment "stage" of
// table's history. With cluster set, the stage cluster is played by
// another server (ecsfake) under that name and service is the ECS
// service's name there; otherwise both get unique names and live in moto.
func OneService(t testing.TB, project, table, cluster, service string) *World {
	t.Helper()
	stage := Env{ID: "stage", Clusters: []string{cluster}, External: cluster != ""}
	if cluster == "" {
		stage.Clusters = []string{awstest.Name(t, project)}
	}
	if service == "" {
		service = awstest.Name(t, "api")
	}
	return &World{
		Project: project, Table: table,
		Images:       []Image{{ID: "api", Repository: awstest.Name(t, project+"/api"), Services: []string{"api"}}},
		Services:     []Service{{ID: "api", Name: service}},
		Environments: []Env{stage},
	}
}

// Start builds w with cfg (see World.Build), failing the test on error,
// and writes its buoy.yaml into a temporary directory. Tests sharing the
// emulator give w unique names (awstest.Name).
func Start(ctx context.Context, t testing.TB, cfg aws.Config, w *World) *Fixture {
	t.Helper()
	if err := w.Build(ctx, cfg); err != nil {
		t.Fatalf("build the world on the emulator: %v", err)
	}
	f := &Fixture{World: w, Dir: t.TempDir(), cfg: cfg}
	if len(w.Environments) > 0 {
		f.Cluster = w.ClusterOf(w.Environments[0].ID)
	}
	f.Manifest = filepath.Join(f.Dir, manifest.FileName)
	if w.Legacy {
		f.Manifest = filepath.Join(f.Dir, manifest.LegacyFileName)
	}
	if err := os.WriteFile(f.Manifest, []byte(w.YAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TagDigest reads where tag points in repository, straight from the
// emulator; "" when the tag does not exist.
func (f *Fixture) TagDigest(ctx context.Context, t testing.TB, repository, tag string) string {
	t.Helper()
	out, err := ecr.NewFromConfig(f.cfg).BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName: aws.String(repository),
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	if err != nil {
		t.Fatalf("read %s:%s: %v", repository, tag, err)
	}
	if len(out.Images) == 0 {
		return ""
	}
	return aws.ToString(out.Images[0].ImageId.ImageDigest)
}

// Push stores a new image in repository under tags and returns its
// digest, failing the test on error.
func (f *Fixture) Push(ctx context.Context, t testing.TB, repository string, tags ...string) string {
	t.Helper()
	digest, err := Push(ctx, ecr.NewFromConfig(f.cfg), repository, tags...)
	if err != nil {
		t.Fatal(err)
	}
	return digest
}

// Store returns the fixture's history store, reached directly.
func (f *Fixture) Store() history.Store {
	return history.NewDynamoDB(dynamodb.NewFromConfig(f.cfg), f.Table)
}

// Deployments lists the project's deployments, newest first.
func (f *Fixture) Deployments(ctx context.Context, t testing.TB) []*history.Deployment {
	t.Helper()
	deps, err := f.Store().ListDeployments(ctx, f.Project, "", 0)
	if err != nil {
		t.Fatalf("list deployments: %v", err)
	}
	return deps
}

// ECSDeployments returns the ECS deployments of each service of the
// first environment in the first cluster it runs in (by ECS service
// name), as ECS lists them.
func (f *Fixture) ECSDeployments(ctx context.Context, t testing.TB) map[string][]ecstypes.Deployment {
	t.Helper()
	env := ""
	if len(f.Environments) > 0 {
		env = f.Environments[0].ID
	}
	out := map[string][]ecstypes.Deployment{}
	for id, deps := range f.ServiceDeployments(ctx, t, env) {
		out[f.ServiceName(id)] = deps
	}
	return out
}

// ServiceDeployments returns the ECS deployments of each service of
// environment env (by service id) in the first cluster it runs in there,
// in its region, as ECS lists them.
func (f *Fixture) ServiceDeployments(ctx context.Context, t testing.TB, env string) map[string][]ecstypes.Deployment {
	t.Helper()
	type place struct{ region, cluster string }
	byPlace := map[place][]string{}
	ids := map[string]string{} // "region/cluster/name" to service id
	for _, s := range f.Services {
		c := f.Cluster
		if cs := f.ClustersOf(env, s.ID); len(cs) > 0 {
			c = cs[0]
		}
		p := place{f.RegionOf(s.ID), c}
		byPlace[p] = append(byPlace[p], f.ServiceName(s.ID))
		ids[p.region+"/"+c+"/"+f.ServiceName(s.ID)] = s.ID
	}
	out := map[string][]ecstypes.Deployment{}
	for p, names := range byPlace {
		for k, d := range describe(ctx, t, ecsIn(f.cfg, p.region), p.cluster, names) {
			out[ids[p.region+"/"+k]] = d
		}
	}
	return out
}

// CrowdDeployments returns the ECS deployments of every service of the
// Crowd, by "cluster/name": a test compares them before and after a
// deployment to show that none was touched.
func (f *Fixture) CrowdDeployments(ctx context.Context, t testing.TB) map[string][]ecstypes.Deployment {
	t.Helper()
	return f.Crowd.Deployments(ctx, t, f.cfg)
}

// Deployments returns the ECS deployments of every service of the crowd,
// by "cluster/name", read with cfg in the crowd's region.
func (c Crowd) Deployments(ctx context.Context, t testing.TB, cfg aws.Config) map[string][]ecstypes.Deployment {
	t.Helper()
	byCluster := map[string][]string{}
	for _, s := range c.Members() {
		byCluster[s.Cluster] = append(byCluster[s.Cluster], s.Name)
	}
	out := map[string][]ecstypes.Deployment{}
	for cluster, names := range byCluster {
		maps.Copy(out, describe(ctx, t, ecsIn(cfg, c.Region), cluster, names))
	}
	if len(out) != c.Services {
		t.Fatalf("the crowd has %d services, ECS describes %d", c.Services, len(out))
	}
	return out
}

// describe returns the deployments of the named services of cluster, by
// "cluster/name".
func describe(ctx context.Context, t testing.TB, client *ecs.Client, cluster string, names []string) map[string][]ecstypes.Deployment {
	t.Helper()
	out := map[string][]ecstypes.Deployment{}
	for batch := range slices.Chunk(names, 10) {
		res, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
		if err != nil {
			t.Fatalf("describe services %v in %s: %v", batch, cluster, err)
		}
		for _, s := range res.Services {
			out[cluster+"/"+aws.ToString(s.ServiceName)] = s.Deployments
		}
	}
	return out
}

// StoredDeployments reads the project's deployment records straight from
// the history table with the SDK, as the JSON each item holds, so that a
// test checks what was written without buoy's own reader.
func (f *Fixture) StoredDeployments(ctx context.Context, t testing.TB) []map[string]any {
	t.Helper()
	out, err := dynamodb.NewFromConfig(f.cfg).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(f.Table),
		FilterExpression: aws.String("#k = :d"), ExpressionAttributeNames: map[string]string{"#k": "kind"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: "deployment"}}})
	if err != nil {
		t.Fatalf("scan the history table: %v", err)
	}
	var deps []map[string]any
	for _, it := range out.Items {
		data, ok := it["data"].(*ddbtypes.AttributeValueMemberS)
		if !ok {
			t.Fatalf("a deployment item has no data: %v", it)
		}
		var dep map[string]any
		if err := json.Unmarshal([]byte(data.Value), &dep); err != nil {
			t.Fatalf("decode a deployment record: %v", err)
		}
		deps = append(deps, dep)
	}
	return deps
}
