package deployfixture

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// concurrency bounds the calls Build makes at once.
const concurrency = 16

// Build creates the world through clients made from cfg (a configuration
// that reaches the emulator): the history table when Table is set, one
// ECR repository per image with its old and new builds (with SSMImages,
// the parameters CI wrote for them), and in every environment that is not
// External its clusters, one task definition per service and cluster
// running the images that feed it through the floating tag, and the
// services (desired count 2, so that moto reports their rollouts
// COMPLETED, tagged deployment:service and deployment:env for legacy
// manifests), each in its Region, and the Crowd. It fills each image's
// Service, Old and New.
func (w *World) Build(ctx context.Context, cfg aws.Config) error {
	if err := w.complete(); err != nil {
		return err
	}
	if w.Table != "" {
		if err := history.Init(ctx, dynamodb.NewFromConfig(cfg), w.Table); err != nil {
			return fmt.Errorf("create history table %s: %w", w.Table, err)
		}
	}
	ecrc, ssmc := ecr.NewFromConfig(cfg), ssm.NewFromConfig(cfg)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := range w.Images {
		g.Go(func() error { return w.pushImage(gctx, ecrc, ssmc, &w.Images[i]) })
	}
	for _, c := range w.clusters() {
		g.Go(func() error {
			_, err := ecsIn(cfg, c.region).CreateCluster(gctx, &ecs.CreateClusterInput{ClusterName: aws.String(c.name)})
			if err != nil {
				return fmt.Errorf("create cluster %s in %s: %w", c.name, orDefault(c.region, cfg.Region), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for _, e := range w.Environments {
		if e.External {
			continue
		}
		for _, s := range w.Services {
			for _, c := range w.ClustersOf(e.ID, s.ID) {
				g.Go(func() error { return w.createService(gctx, ecsIn(cfg, s.Region), e, c, s) })
			}
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return w.Crowd.Build(ctx, cfg)
}

// placedCluster is a cluster name in a region ("" is the configuration's).
type placedCluster struct{ name, region string }

// clusters returns the clusters Build creates: every cluster of every
// environment that is not External, and those of services that run in a
// region of their own, there.
func (w *World) clusters() []placedCluster {
	var out []placedCluster
	add := func(c placedCluster) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, e := range w.Environments {
		if e.External {
			continue
		}
		for _, c := range e.Clusters {
			add(placedCluster{name: c})
		}
		for _, s := range w.Services {
			if s.Region == "" {
				continue
			}
			for _, c := range w.ClustersOf(e.ID, s.ID) {
				add(placedCluster{name: c, region: s.Region})
			}
		}
	}
	return out
}

// ecsIn returns an ECS client of cfg in region ("" keeps cfg's).
func ecsIn(cfg aws.Config, region string) *ecs.Client {
	return ecs.NewFromConfig(cfg, func(o *ecs.Options) {
		if region != "" {
			o.Region = region
		}
	})
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// complete fills each image's Service from its first service.
func (w *World) complete() error {
	if w.Legacy {
		for _, img := range w.Images {
			if path.Base(img.Repository) != img.ID || !strings.Contains(img.Repository, "/") {
				return fmt.Errorf("legacy image %s: its repository must be <namespace>/%s, not %s", img.ID, img.ID, img.Repository)
			}
		}
	}
	for i, img := range w.Images {
		if len(img.Services) > 0 {
			w.Images[i].Service = w.ServiceName(img.Services[0])
		}
	}
	return nil
}

func (w *World) pushImage(ctx context.Context, ecrc *ecr.Client, ssmc *ssm.Client, img *Image) error {
	if _, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(img.Repository)}); err != nil {
		return fmt.Errorf("create repository %s: %w", img.Repository, err)
	}
	// moto answers BatchGetImage with each image under the tag put on it
	// last, not under the tag asked for as ECR does, and buoy then asks
	// for a floating tag it did not see answered on its own: the first
	// environment's tag goes last, so that a deployment to it makes the
	// calls it makes on AWS (docs/performance.md).
	oldTags := []string{"ref." + OldCommit}
	if !w.SSMImages {
		for _, e := range slices.Backward(w.Environments) {
			oldTags = append(oldTags, e.FloatingTag())
		}
	}
	var err error
	if img.Old, err = Push(ctx, ecrc, img.Repository, oldTags...); err != nil {
		return err
	}
	if img.New, err = Push(ctx, ecrc, img.Repository, "ref."+NewCommit, "latest"); err != nil || !w.SSMImages {
		return err
	}
	for label, tag := range map[string]string{"latest": "ref." + NewCommit, "ref." + OldCommit: "ref." + OldCommit} {
		name := "/" + w.Project + "/images/" + label + "/" + img.ID
		_, err := ssmc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(URI(img.Repository) + ":" + tag),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func (w *World) createService(ctx context.Context, ecsc *ecs.Client, e Env, cluster string, s Service) error {
	var containers []ecstypes.ContainerDefinition
	for _, img := range w.Images {
		for _, fed := range img.Services {
			if fed == s.ID {
				containers = append(containers, ecstypes.ContainerDefinition{
					Name: aws.String(img.ID), Image: aws.String(URI(img.Repository) + ":" + e.FloatingTag()),
					Memory: aws.Int32(256), Essential: aws.Bool(true),
				})
			}
		}
	}
	family := Family(cluster, s.ID)
	td, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), ContainerDefinitions: containers,
	})
	if err != nil {
		return fmt.Errorf("register task definition %s: %w", family, err)
	}
	name := w.ServiceName(s.ID)
	_, err = ecsc.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2),
		Tags: []ecstypes.Tag{{Key: aws.String(TagService), Value: aws.String(s.ID)},
			{Key: aws.String(TagEnv), Value: aws.String(e.ID)}},
	})
	if err != nil {
		return fmt.Errorf("create service %s in %s: %w", name, cluster, err)
	}
	return nil
}

// Push stores a new image (a Docker manifest with random layers) in repo
// under tags, as `docker push` would, and returns its digest.
func Push(ctx context.Context, ecrc *ecr.Client, repo string, tags ...string) (string, error) {
	manifest := imageManifest()
	sum := sha256.Sum256([]byte(manifest))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	for _, tag := range tags {
		_, err := ecrc.PutImage(ctx, &ecr.PutImageInput{
			RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String(tag),
			ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"),
			ImageDigest:            aws.String(digest),
		})
		if err != nil && !awstest.AlreadyThere(err) {
			return "", fmt.Errorf("push %s:%s: %w", repo, tag, err)
		}
	}
	return digest, nil
}

func imageManifest() string {
	layer := func() string {
		sum := sha256.Sum256([]byte(rand.Text()))
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457, "digest": %q},
  "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3370706, "digest": %q}]
}`, layer(), layer())
}
