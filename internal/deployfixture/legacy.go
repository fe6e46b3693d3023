package deployfixture

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/internal/awstest"
)

// The ECS tags by which legacy projects' services are found.
const (
	TagService = "deployment:service"
	TagEnv     = "deployment:env"
)

// LegacyProject returns the World of a weco-deploy project named prefix:
// images img00, img01, ... in repositories <prefix>/imgNN, each feeding
// its own service <prefix>-svcNN (unique, so that no other test's
// services carry its tags), environments stage and prod with no cluster
// in the manifest, their services spread over two clusters each and
// found by their tags. Its manifest is a .wellcome_project; its history
// table is <prefix>-history.
func LegacyProject(prefix string, images int) *World {
	w := &World{
		Project: prefix, Table: prefix + "-history", Legacy: true,
		Header: "# A weco-deploy project: no clusters, services found by their ECS tags.\n",
		Environments: []Env{
			{ID: "stage", Clusters: []string{prefix + "-stage-a", prefix + "-stage-b"}, Spread: true},
			{ID: "prod", Clusters: []string{prefix + "-prod-a", prefix + "-prod-b"}, Spread: true},
		},
	}
	for i := range images {
		id := fmt.Sprintf("img%02d", i)
		svc := fmt.Sprintf("%s-svc%02d", prefix, i)
		w.Images = append(w.Images, Image{ID: id, Repository: prefix + "/" + id, Services: []string{svc}})
		w.Services = append(w.Services, Service{ID: svc})
	}
	return w
}

// LegacyYAML returns the project as a .wellcome_project in the shape most
// repositories had from 2020: the project keyed by its id, services as
// plain strings, the region, no cluster. Environments' Protected,
// PromotesFrom and YAML have no legacy form and are left out.
func (w *World) LegacyYAML() string {
	var b strings.Builder
	b.WriteString(w.Header)
	fmt.Fprintf(&b, "%s:\n  name: %s\n  aws_region_name: %s\n  environments:\n", w.Project, w.Project, awstest.Region)
	for _, e := range w.Environments {
		fmt.Fprintf(&b, "    - {id: %s, name: %s}\n", e.ID, e.ID)
	}
	if w.SSMImages { // a 2019 project: its images are in SSM
		return b.String()
	}
	b.WriteString("  image_repositories:\n")
	for _, img := range w.Images {
		fmt.Fprintf(&b, "    - id: %s\n      namespace: %s\n      services: [%s]\n",
			img.ID, path.Dir(img.Repository), strings.Join(img.Services, ", "))
	}
	return b.String()
}

// Crowd is the rest of a busy account: Services services that are not
// the project's, spread over Clusters clusters <Prefix>-crowd-NN. In turn,
// one is tagged as another project's service in environment Env, one
// carries a deployment:service tag of Decoys (the project's own service
// ids, say) for environment "retired", and one has only other tags. A
// search by tags must pass over all of them. Tests that share one crowd
// among several projects build it with Build and give it all their
// service ids as Decoys.
type Crowd struct {
	Prefix   string
	Clusters int
	Services int
	Env      string
	Decoys   []string
	// Region is where the crowd runs; "" is the region of the
	// configuration it is built with.
	Region string
}

// CrowdService is one service of a Crowd.
type CrowdService struct {
	Cluster, Name string
	Tags          map[string]string
}

// NewCrowd returns a Crowd of n services over n/20+1 clusters, tagged for
// w's first environment, the decoys carrying w's service ids.
func NewCrowd(w *World, n int) Crowd {
	c := Crowd{Prefix: w.Project, Clusters: n/20 + 1, Services: n}
	if len(w.Environments) > 0 {
		c.Env = w.Environments[0].ID
	}
	for _, s := range w.Services {
		c.Decoys = append(c.Decoys, s.ID)
	}
	return c
}

// Members returns the crowd's services.
func (c Crowd) Members() []CrowdService {
	out := make([]CrowdService, c.Services)
	for i := range out {
		s := CrowdService{Cluster: fmt.Sprintf("%s-crowd-%02d", c.Prefix, i%max(c.Clusters, 1)), Name: fmt.Sprintf("%s-other-%03d", c.Prefix, i)}
		switch {
		case i%3 == 0:
			s.Tags = map[string]string{TagService: s.Name, TagEnv: c.Env}
		case i%3 == 1 && len(c.Decoys) > 0:
			s.Tags = map[string]string{TagService: c.Decoys[i%len(c.Decoys)], TagEnv: "retired"}
		default:
			s.Tags = map[string]string{"team": c.Prefix, "cost-centre": "other"}
		}
		out[i] = s
	}
	return out
}

// Build creates, with cfg (a configuration reaching the emulator), the
// crowd's clusters, one task definition and its services (desired count
// 2, so that moto reports them COMPLETED), in Region. World.Build builds
// its Crowd; a crowd shared by several worlds is built once with Build.
func (c Crowd) Build(ctx context.Context, cfg aws.Config) error {
	if c.Services == 0 {
		return nil
	}
	ecsc := ecsIn(cfg, c.Region)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := range max(c.Clusters, 1) {
		g.Go(func() error {
			name := fmt.Sprintf("%s-crowd-%02d", c.Prefix, i)
			if _, err := ecsc.CreateCluster(gctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)}); err != nil {
				return fmt.Errorf("create cluster %s: %w", name, err)
			}
			return nil
		})
	}
	var td string
	g.Go(func() error {
		out, err := ecsc.RegisterTaskDefinition(gctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(c.Prefix + "-crowd"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("public.ecr.aws/nginx/nginx:latest"),
				Memory: aws.Int32(128), Essential: aws.Bool(true)}}})
		if err != nil {
			return fmt.Errorf("register the crowd's task definition: %w", err)
		}
		td = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, s := range c.Members() {
		g.Go(func() error {
			var tags []ecstypes.Tag
			for k, v := range s.Tags {
				tags = append(tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			_, err := ecsc.CreateService(gctx, &ecs.CreateServiceInput{Cluster: aws.String(s.Cluster), ServiceName: aws.String(s.Name),
				TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2), Tags: tags})
			if err != nil {
				return fmt.Errorf("create service %s in %s: %w", s.Name, s.Cluster, err)
			}
			return nil
		})
	}
	return g.Wait()
}
