//go:build integration

package deployfixture_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// A world of two environments, one with two clusters, and an image that
// feeds two services: what Build makes is what buoy.yaml says.
func TestStartBuildsWhatTheManifestSays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	p := awstest.Name(t, "fx")
	f := deployfixture.Start(ctx, t, cfg, &deployfixture.World{
		Project: p, Table: p + "-history",
		Images: []deployfixture.Image{
			{ID: "web", Repository: p + "/web", Services: []string{"web", "admin"}},
			{ID: "sidecar", Repository: p + "/sidecar", Services: []string{"web"}},
		},
		Services: []deployfixture.Service{{ID: "web", Name: p + "-web"}, {ID: "admin"}},
		Environments: []deployfixture.Env{
			{ID: "stage", Clusters: []string{p + "-stage"}},
			{ID: "prod", Clusters: []string{p + "-prod-a", p + "-prod-b"}, Protected: true, PromotesFrom: "stage"},
		},
	})

	m, err := manifest.Parse(f.Manifest, []byte(f.YAML()))
	if err != nil {
		t.Fatalf("buoy.yaml does not parse: %v\n%s", err, f.YAML())
	}
	proj, err := m.Project(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(proj.ImagesFeeding("web")); got != 2 {
		t.Errorf("images feeding web: got %d, want 2", got)
	}
	if got := f.Image("web").Service; got != p+"-web" {
		t.Errorf("web's Service: got %q, want its ECS name %q", got, p+"-web")
	}

	for _, img := range f.Images {
		for tag, want := range map[string]string{"env.stage": img.Old, "env.prod": img.Old, "latest": img.New,
			"ref." + deployfixture.NewCommit: img.New, "ref." + deployfixture.OldCommit: img.Old} {
			if got := f.TagDigest(ctx, t, img.Repository, tag); got != want || got == "" {
				t.Errorf("%s:%s: got %q, want %q", img.Repository, tag, got, want)
			}
		}
	}

	client := ecs.NewFromConfig(cfg)
	for _, c := range []struct{ env, cluster string }{{"stage", p + "-stage"}, {"prod", p + "-prod-a"}, {"prod", p + "-prod-b"}} {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(c.cluster), Services: []string{p + "-web", "admin"}})
		if err != nil || len(out.Services) != 2 {
			t.Fatalf("describe services in %s: %v, %d services; want 2", c.cluster, err, len(out.Services))
		}
		td, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: out.Services[0].TaskDefinition})
		if err != nil {
			t.Fatal(err)
		}
		images := map[string]string{}
		for _, cd := range td.TaskDefinition.ContainerDefinitions {
			images[aws.ToString(cd.Name)] = aws.ToString(cd.Image)
		}
		want := map[string]string{"web": deployfixture.URI(p+"/web") + ":env." + c.env, "sidecar": deployfixture.URI(p+"/sidecar") + ":env." + c.env}
		if len(images) != 2 || images["web"] != want["web"] || images["sidecar"] != want["sidecar"] {
			t.Errorf("%s: web's containers run %v, want %v", c.cluster, images, want)
		}
	}
	if _, err := f.Store().ListReleases(ctx, p, 0); err != nil {
		t.Errorf("the history table is not usable: %v", err)
	}
}
