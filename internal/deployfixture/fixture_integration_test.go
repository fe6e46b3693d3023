//go:build integration

package deployfixture_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

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

// A legacy world in a crowded account: the .wellcome_project parses to
// environments with no cluster searched by tags; each service runs in one
// cluster of each environment, tagged; the crowd's services exist with
// the tags Members says, none of them a match for the project.
func TestLegacyWorldInACrowdedAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	w := deployfixture.LegacyProject(awstest.Name(t, "lg"), 3)
	w.Crowd = deployfixture.NewCrowd(w, 30)
	f := deployfixture.Start(ctx, t, cfg, w)

	if filepath.Base(f.Manifest) != manifest.LegacyFileName {
		t.Errorf("manifest written to %s, want a %s", f.Manifest, manifest.LegacyFileName)
	}
	m, err := manifest.Load(f.Manifest)
	if err != nil {
		t.Fatalf("the .wellcome_project does not parse: %v\n%s", err, f.YAML())
	}
	p, err := m.Project(w.Project)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range p.Environments {
		if !env.FindByTags || len(env.Targets) != 1 || env.Targets[0].Cluster != "" || env.Targets[0].Region != awstest.Region {
			t.Errorf("environment %s: find_by_tags %v, targets %+v; want one target with no cluster in %s", env.ID, env.FindByTags, env.Targets, awstest.Region)
		}
	}
	for i, img := range p.Images {
		if img.Repository != w.Images[i].Repository {
			t.Errorf("image %s: repository %s in the manifest, %s in ECR", img.ID, img.Repository, w.Images[i].Repository)
		}
	}

	client := ecs.NewFromConfig(cfg)
	for _, env := range []string{"stage", "prod"} {
		clusters := map[string]bool{}
		for _, s := range w.Services {
			cs := w.ClustersOf(env, s.ID)
			if len(cs) != 1 {
				t.Fatalf("%s runs in %v in %s, want one cluster", s.ID, cs, env)
			}
			clusters[cs[0]] = true
			out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cs[0]), Services: []string{s.ID},
				Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
			if err != nil || len(out.Services) != 1 {
				t.Fatalf("describe %s in %s: %v, %v", s.ID, cs[0], err, out)
			}
			if got := tagsOf(out.Services[0].Tags); got[deployfixture.TagService] != s.ID || got[deployfixture.TagEnv] != env {
				t.Errorf("%s in %s: tags %v, want %s=%s, %s=%s", s.ID, cs[0], got, deployfixture.TagService, s.ID, deployfixture.TagEnv, env)
			}
		}
		if len(clusters) != 2 {
			t.Errorf("%s: services spread over %d clusters, want 2", env, len(clusters))
		}
	}

	deps := f.CrowdDeployments(ctx, t)
	members := w.Crowd.Members()
	if len(deps) != 30 || len(members) != 30 {
		t.Fatalf("crowd: %d described, %d members; want 30", len(deps), len(members))
	}
	kinds := map[string]int{}
	for _, s := range members {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.Cluster), Services: []string{s.Name},
			Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
		if err != nil || len(out.Services) != 1 {
			t.Fatalf("describe %s in %s: %v", s.Name, s.Cluster, err)
		}
		got := tagsOf(out.Services[0].Tags)
		if !maps.Equal(got, s.Tags) {
			t.Errorf("%s: tags %v, want %v", s.Name, got, s.Tags)
		}
		switch got[deployfixture.TagEnv] {
		case "stage":
			kinds["another project's, in stage"]++
			if slices.ContainsFunc(w.Services, func(p deployfixture.Service) bool { return p.ID == got[deployfixture.TagService] }) {
				t.Errorf("%s is tagged for stage as the project's %s", s.Name, got[deployfixture.TagService])
			}
		case "retired":
			kinds["a decoy"]++
		default:
			kinds["other tags"]++
		}
	}
	if len(kinds) != 3 {
		t.Errorf("crowd kinds: %v, want the three", kinds)
	}
}

func tagsOf(tags []ecstypes.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}
