// Package demo builds a small, realistic AWS world for buoy on an
// emulator (moto): a project with three images, two of which feed one
// service, ECR repositories holding an older build (tagged env.stage and
// env.prod) and a newer one (ref.<sha> and latest), and stage and prod ECS
// clusters whose services run the images through their floating tags.
// `make demo` and the CLI's end-to-end tests use it.
package demo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// AccountID and Region are moto's defaults, used in the manifest.
const (
	AccountID = "123456789012"
	Region    = "eu-west-1"
)

// The commits of the two builds in each repository.
const (
	OldCommit = "3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a"
	NewCommit = "9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c"
)

// World names what Setup creates. Every name starts with Prefix so that
// tests can build several worlds on one emulator.
type World struct {
	Prefix  string
	Project string
	// Images maps image id to ECR repository name.
	Images map[string]string
	// Feeds maps image id to the service ids it feeds.
	Feeds map[string][]string
	// Services are the service ids (also their ECS names).
	Services []string
	// Clusters maps environment id to its ECS cluster.
	Clusters map[string]string
	// Old and New map image id to the digest of the older and newer build.
	Old map[string]string
	New map[string]string
}

// New returns the world for prefix ("shop" for the demo).
func New(prefix string) *World {
	w := &World{
		Prefix:   prefix,
		Project:  prefix,
		Images:   map[string]string{},
		Feeds:    map[string][]string{"web": {"web"}, "nginx": {"web"}, "worker": {"worker"}},
		Services: []string{"web", "worker"},
		Clusters: map[string]string{"stage": prefix + "-stage", "prod": prefix + "-prod"},
		Old:      map[string]string{},
		New:      map[string]string{},
	}
	for _, id := range ImageIDs() {
		w.Images[id] = prefix + "/" + id
	}
	return w
}

// ImageIDs returns the image ids, in manifest order.
func ImageIDs() []string { return []string{"web", "nginx", "worker"} }

// RepositoryURI returns the full URI of an image's repository.
func (w *World) RepositoryURI(image string) string {
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", AccountID, Region, w.Images[image])
}

// Manifest returns the buoy.yaml of the world's project.
func (w *World) Manifest() string {
	var b strings.Builder
	fmt.Fprintf(&b, `# buoy.yaml of the demo project: three images, two of which (web and
# nginx) feed the web service; stage, and a protected prod that takes
# releases from stage.
version: 1
projects:
  - id: %s
    registry:
      account_id: "%s"
      region: %s
    images:
`, w.Project, AccountID, Region)
	for _, id := range ImageIDs() {
		fmt.Fprintf(&b, "      - id: %s\n        repository: %s\n        services: [%s]\n", id, w.Images[id], strings.Join(w.Feeds[id], ", "))
	}
	b.WriteString("    services:\n")
	for _, s := range w.Services {
		fmt.Fprintf(&b, "      - id: %s\n", s)
	}
	fmt.Fprintf(&b, `    environments:
      - id: stage
        targets:
          - cluster: %s
            region: %s
      - id: prod
        protected: true
        promotes_from: stage
        targets:
          - cluster: %s
            region: %s
`, w.Clusters["stage"], Region, w.Clusters["prod"], Region)
	return b.String()
}

// Setup creates the world through the ECR and ECS clients.
func (w *World) Setup(ctx context.Context, ecrc *ecr.Client, ecsc *ecs.Client) error {
	for _, id := range ImageIDs() {
		repo := w.Images[id]
		if _, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			return fmt.Errorf("create repository %s: %w", repo, err)
		}
		var err error
		if w.Old[id], err = Push(ctx, ecrc, repo, "ref."+OldCommit, "env.stage", "env.prod"); err != nil {
			return err
		}
		if w.New[id], err = Push(ctx, ecrc, repo, "ref."+NewCommit, "latest"); err != nil {
			return err
		}
	}
	for _, env := range []string{"stage", "prod"} {
		if err := w.setupCluster(ctx, ecsc, env); err != nil {
			return err
		}
	}
	return nil
}

func (w *World) setupCluster(ctx context.Context, ecsc *ecs.Client, env string) error {
	cluster := w.Clusters[env]
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		return fmt.Errorf("create cluster %s: %w", cluster, err)
	}
	for _, svc := range w.Services {
		var containers []ecstypes.ContainerDefinition
		for _, id := range ImageIDs() {
			for _, fed := range w.Feeds[id] {
				if fed == svc {
					containers = append(containers, ecstypes.ContainerDefinition{
						Name: aws.String(id), Image: aws.String(w.RepositoryURI(id) + ":env." + env),
						Memory: aws.Int32(256), Essential: aws.Bool(true),
					})
				}
			}
		}
		family := fmt.Sprintf("%s-%s-%s", w.Prefix, svc, env)
		td, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
			Family: aws.String(family), ContainerDefinitions: containers,
		})
		if err != nil {
			return fmt.Errorf("register task definition %s: %w", family, err)
		}
		_, err = ecsc.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String(cluster), ServiceName: aws.String(svc),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2),
			Tags: []ecstypes.Tag{{Key: aws.String("deployment:service"), Value: aws.String(svc)},
				{Key: aws.String("deployment:env"), Value: aws.String(env)}},
		})
		if err != nil {
			return fmt.Errorf("create service %s in %s: %w", svc, cluster, err)
		}
	}
	return nil
}

// Push stores a new random image manifest in repo under tags, as `docker
// push` would, and returns its digest.
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
		if err != nil {
			return "", fmt.Errorf("push %s:%s: %w", repo, tag, err)
		}
	}
	return digest, nil
}

func imageManifest() string {
	layer := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		sum := sha256.Sum256(b)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	return fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457, "digest": %q},
  "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3370706, "digest": %q}]
}`, layer(), layer())
}
