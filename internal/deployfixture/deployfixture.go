// Package deployfixture builds, on the AWS emulator, a whole project for
// end-to-end tests of buoy: ECR repositories with a new image under
// "latest" and an old one under the floating tag, an ECS cluster whose
// services run the floating tag, a history table, and a buoy.yaml that
// describes them. Tests then deploy it (through pkg/deploy or the built
// CLI) and check the outcome straight from the emulator.
package deployfixture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// Environment is the one environment of the fixture's project.
const Environment = "stage"

// FloatingTag is the environment's floating tag.
const FloatingTag = "env.stage"

// Image is one image of the fixture, feeding one service.
type Image struct {
	ID         string // image id in the manifest
	Repository string // ECR repository name
	Service    string // the ECS service it feeds
	Old        string // digest env.stage points at before a deployment
	New        string // digest of "latest": what a release-deploy moves to
}

// Fixture is a project on the emulator.
type Fixture struct {
	Project  string
	Manifest string // path of buoy.yaml
	Table    string // DynamoDB history table
	Cluster  string
	Images   []Image

	cfg aws.Config
}

// Options change the fixture.
type Options struct {
	// Images is how many images (each feeding its own service); default 2.
	Images int
	// ExtraYAML is appended to the environment's entry in buoy.yaml, each
	// line indented as an environment key, e.g. "protected: true".
	ExtraYAML []string
	// Environments adds environments after stage, each with its floating
	// tag env.<id> at the old digests and its own cluster (ClusterOf)
	// whose services, named as stage's, run that tag.
	Environments []string
}

// New builds the fixture with cfg (a configuration reaching the emulator
// directly, e.g. awstest.Config) and writes buoy.yaml into a temporary
// directory.
func New(ctx context.Context, t testing.TB, cfg aws.Config, o Options) *Fixture {
	t.Helper()
	if o.Images == 0 {
		o.Images = 2
	}
	f := &Fixture{
		Project: awstest.Name(t, "e2e"),
		Table:   awstest.Name(t, "buoy-e2e"),
		Cluster: awstest.Name(t, "e2e-cluster"),
		cfg:     cfg,
	}
	if err := history.Init(ctx, dynamodb.NewFromConfig(cfg), f.Table); err != nil {
		t.Fatalf("create history table: %v", err)
	}
	ecrc, ecsc := ecr.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(f.Cluster)}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	for i := range o.Images {
		img := Image{
			ID:         fmt.Sprintf("img%02d", i),
			Repository: awstest.Name(t, fmt.Sprintf("e2e/img%02d", i)),
			Service:    awstest.Name(t, fmt.Sprintf("svc%02d", i)),
		}
		if _, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(img.Repository)}); err != nil {
			t.Fatalf("create repository: %v", err)
		}
		oldTags := []string{"ref.old", FloatingTag}
		for _, env := range o.Environments {
			oldTags = append(oldTags, "env."+env)
		}
		img.Old = awstest.PushImage(ctx, t, ecrc, img.Repository, awstest.DockerManifest(t), oldTags...)
		img.New = awstest.PushImage(ctx, t, ecrc, img.Repository, awstest.DockerManifest(t), "ref.new", "latest")
		f.service(ctx, t, ecsc, img, Environment)
		f.Images = append(f.Images, img)
	}
	for _, env := range o.Environments {
		f.environment(ctx, t, ecsc, env)
	}
	f.Manifest = filepath.Join(t.TempDir(), "buoy.yaml")
	if err := os.WriteFile(f.Manifest, []byte(f.yaml(o.ExtraYAML)+f.moreEnvironments(o.Environments)), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// URI returns the full repository URI of an image.
func URI(repository string) string {
	return awstest.AccountID + ".dkr.ecr." + awstest.Region + ".amazonaws.com/" + repository
}

// service registers the task definition of img's service in env, which
// runs env's floating tag, and creates the service in env's cluster.
func (f *Fixture) service(ctx context.Context, t testing.TB, client *ecs.Client, img Image, env string) {
	t.Helper()
	family := img.Service
	if env != Environment {
		family += "-" + env
	}
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name:   aws.String("app"),
			Image:  aws.String(URI(img.Repository) + ":env." + env),
			Memory: aws.Int32(256),
		}},
	})
	if err != nil {
		t.Fatalf("register task definition: %v", err)
	}
	_, err = client.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(f.ClusterOf(env)), ServiceName: aws.String(img.Service),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2),
	})
	if err != nil {
		t.Fatalf("create service %s in %s: %v", img.Service, env, err)
	}
}

// ClusterOf returns the cluster of an environment of the fixture.
func (f *Fixture) ClusterOf(env string) string {
	if env == Environment {
		return f.Cluster
	}
	return f.Cluster + "-" + env
}

// environment creates the cluster and services of an added environment.
func (f *Fixture) environment(ctx context.Context, t testing.TB, client *ecs.Client, env string) {
	t.Helper()
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(f.ClusterOf(env))}); err != nil {
		t.Fatalf("create cluster of %s: %v", env, err)
	}
	for _, img := range f.Images {
		f.service(ctx, t, client, img, env)
	}
}

// moreEnvironments is the buoy.yaml entries of the added environments.
func (f *Fixture) moreEnvironments(envs []string) string {
	var b strings.Builder
	for _, env := range envs {
		fmt.Fprintf(&b, "      - id: %s\n        targets:\n          - cluster: %s\n            region: %s\n", env, f.ClusterOf(env), awstest.Region)
	}
	return b.String()
}

func (f *Fixture) yaml(extra []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nprojects:\n  - id: %s\n    registry: {account_id: %q, region: %s}\n    images:\n",
		f.Project, awstest.AccountID, awstest.Region)
	for _, img := range f.Images {
		fmt.Fprintf(&b, "      - id: %s\n        repository: %s\n        services: [%s]\n", img.ID, img.Repository, img.Service)
	}
	b.WriteString("    services:\n")
	for _, img := range f.Images {
		fmt.Fprintf(&b, "      - id: %s\n", img.Service)
	}
	fmt.Fprintf(&b, "    environments:\n      - id: %s\n", Environment)
	for _, line := range extra {
		fmt.Fprintf(&b, "        %s\n", line)
	}
	fmt.Fprintf(&b, "        targets:\n          - cluster: %s\n            region: %s\n", f.Cluster, awstest.Region)
	return b.String()
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

// ECSDeployments returns how many deployments ECS lists for each service
// (by service name) and the primary deployment's task definition.
func (f *Fixture) ECSDeployments(ctx context.Context, t testing.TB) map[string][]ecstypes.Deployment {
	t.Helper()
	client := ecs.NewFromConfig(f.cfg)
	out := map[string][]ecstypes.Deployment{}
	var names []string
	for _, img := range f.Images {
		names = append(names, img.Service)
	}
	for start := 0; start < len(names); start += 10 {
		res, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(f.Cluster), Services: names[start:min(start+10, len(names))]})
		if err != nil {
			t.Fatalf("describe services: %v", err)
		}
		for _, s := range res.Services {
			out[aws.ToString(s.ServiceName)] = s.Deployments
		}
	}
	return out
}
