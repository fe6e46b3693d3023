//go:build integration

package deployfixture_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

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

// A service with a Region of its own runs there, in its environment's
// cluster of that name, tagged; ServiceDeployments reads it there. A
// crowd built on its own lives in its Region.
func TestServiceAndCrowdInAnotherRegion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	const other = "eu-west-2"
	w := deployfixture.LegacyProject(awstest.Name(t, "rg"), 2)
	w.Services[1].Region = other
	f := deployfixture.Start(ctx, t, cfg, w)
	crowd := deployfixture.Crowd{Prefix: w.Project + "-far", Clusters: 2, Services: 6, Env: "stage", Decoys: []string{w.Services[1].ID}, Region: other}
	if err := crowd.Build(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	for _, env := range []string{"stage", "prod"} {
		deps := f.ServiceDeployments(ctx, t, env)
		if len(deps) != 2 || len(deps[w.Services[0].ID]) != 1 || len(deps[w.Services[1].ID]) != 1 {
			t.Errorf("%s: deployments %v, want one for each of the two services", env, deps)
		}
		for i, s := range w.Services {
			region := awstest.Region
			if i == 1 {
				region = other
			}
			if got := w.RegionOf(s.ID); got != region {
				t.Errorf("RegionOf(%s) = %s, want %s", s.ID, got, region)
			}
			cluster := w.ClustersOf(env, s.ID)[0]
			for _, r := range []string{awstest.Region, other} {
				out, err := ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.Region = r }).DescribeServices(ctx, &ecs.DescribeServicesInput{
					Cluster: aws.String(cluster), Services: []string{s.ID}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags}})
				found := err == nil && len(out.Services) == 1
				if found != (r == region) {
					t.Errorf("%s in %s of %s: found %v (%v), want it only in %s", s.ID, cluster, r, found, err, region)
				}
				if found && tagsOf(out.Services[0].Tags)[deployfixture.TagEnv] != env {
					t.Errorf("%s in %s of %s: tags %v", s.ID, cluster, r, tagsOf(out.Services[0].Tags))
				}
			}
		}
	}
	if got := crowd.Deployments(ctx, t, cfg); len(got) != 6 {
		t.Errorf("the crowd in %s: %d services described, want 6", other, len(got))
	}
}

// A world whose images are in SSM: every repository has its two builds,
// neither under a floating tag, and SSM holds, per image, the URI CI
// wrote for latest (the new build's ref tag) and for ref.<OldCommit>;
// its manifest is a .wellcome_project without image_repositories.
func TestSSMImagesWorld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	p := strings.ReplaceAll(awstest.Name(t, "storage"), "-", "_")
	w := &deployfixture.World{Project: p, Table: p + "-history", Legacy: true, SSMImages: true,
		Images:       []deployfixture.Image{{ID: "bag_register", Repository: p + "/bag_register"}, {ID: "bag_tagger", Repository: p + "/bag_tagger"}},
		Environments: []deployfixture.Env{{ID: "stage"}, {ID: "prod"}}}
	f := deployfixture.Start(ctx, t, cfg, w)

	m, err := manifest.Load(f.Manifest)
	if err != nil {
		t.Fatalf("the manifest does not parse: %v\n%s", err, f.YAML())
	}
	if proj, err := m.Project(p); err != nil || proj.SSMImages == nil {
		t.Errorf("project %s: %v, SSMImages %v; want a project whose images are in SSM", p, err, proj)
	}
	client := ssm.NewFromConfig(cfg)
	for _, img := range f.Images {
		for label, want := range map[string]string{"latest": deployfixture.URI(img.Repository) + ":ref." + deployfixture.NewCommit,
			"ref." + deployfixture.OldCommit: deployfixture.URI(img.Repository) + ":ref." + deployfixture.OldCommit} {
			name := "/" + p + "/images/" + label + "/" + img.ID
			out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
			if err != nil || aws.ToString(out.Parameter.Value) != want || out.Parameter.Type != ssmtypes.ParameterTypeString {
				t.Errorf("%s: %v %+v, want String %s", name, err, out, want)
			}
		}
		for tag, want := range map[string]string{"env.stage": "", "env.prod": "", "latest": img.New, "ref." + deployfixture.OldCommit: img.Old} {
			if got := f.TagDigest(ctx, t, img.Repository, tag); got != want {
				t.Errorf("%s:%s: got %q, want %q", img.Repository, tag, got, want)
			}
		}
	}
}
