package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/internal/demo"
)

// setupConcurrency bounds the calls that build a world on moto.
const setupConcurrency = 16

// world is one benchmark project on moto: n images, each in its own ECR
// repository and feeding one service, deployed to one environment
// ("stage") whose targets are the clusters.
type world struct {
	prefix   string
	n        int
	clusters []string
}

func newWorld(prefix string, n, targets int) *world {
	w := &world{prefix: prefix, n: n}
	for t := range targets {
		w.clusters = append(w.clusters, fmt.Sprintf("%s-c%d", prefix, t))
	}
	return w
}

func (w *world) image(i int) string   { return fmt.Sprintf("img%03d", i) }
func (w *world) service(i int) string { return fmt.Sprintf("svc%03d", i) }
func (w *world) repo(i int) string    { return w.prefix + "/" + w.image(i) }

func (w *world) repoURI(i int) string {
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", demo.AccountID, demo.Region, w.repo(i))
}

// manifest returns the project's buoy.yaml.
func (w *world) manifest() string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nprojects:\n  - id: %s\n    registry:\n      account_id: %q\n      region: %s\n    images:\n",
		w.prefix, demo.AccountID, demo.Region)
	for i := range w.n {
		fmt.Fprintf(&b, "      - id: %s\n        repository: %s\n        services: [%s]\n", w.image(i), w.repo(i), w.service(i))
	}
	b.WriteString("    services:\n")
	for i := range w.n {
		fmt.Fprintf(&b, "      - id: %s\n", w.service(i))
	}
	b.WriteString("    environments:\n      - id: stage\n        targets:\n")
	for _, c := range w.clusters {
		fmt.Fprintf(&b, "          - cluster: %s\n            region: %s\n", c, demo.Region)
	}
	return b.String()
}

// setup creates the repositories (an old build tagged env.stage, a new
// one tagged latest), the clusters, one task definition per service
// running its image through env.stage, and the services (desired count
// 2, so that moto reports their rollouts COMPLETED). Calls run
// concurrently, at most setupConcurrency at once.
func (w *world) setup(ctx context.Context, ecrc *ecr.Client, ecsc *ecs.Client) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(setupConcurrency)
	for _, c := range w.clusters {
		g.Go(func() error {
			_, err := ecsc.CreateCluster(gctx, &ecs.CreateClusterInput{ClusterName: aws.String(c)})
			return err
		})
	}
	for i := range w.n {
		g.Go(func() error {
			if _, err := ecrc.CreateRepository(gctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(w.repo(i))}); err != nil {
				return fmt.Errorf("create repository %s: %w", w.repo(i), err)
			}
			if _, err := demo.Push(gctx, ecrc, w.repo(i), "ref."+demo.OldCommit, "env.stage"); err != nil {
				return err
			}
			_, err := demo.Push(gctx, ecrc, w.repo(i), "ref."+demo.NewCommit, "latest")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(setupConcurrency)
	for _, c := range w.clusters {
		for i := range w.n {
			g.Go(func() error { return w.service1(gctx, ecsc, c, i) })
		}
	}
	return g.Wait()
}

func (w *world) service1(ctx context.Context, ecsc *ecs.Client, cluster string, i int) error {
	family := cluster + "-" + w.service(i)
	td, err := ecsc.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String(w.image(i)), Image: aws.String(w.repoURI(i) + ":env.stage"),
			Memory: aws.Int32(256), Essential: aws.Bool(true),
		}},
	})
	if err != nil {
		return fmt.Errorf("register task definition %s: %w", family, err)
	}
	_, err = ecsc.CreateService(ctx, &ecs.CreateServiceInput{
		Cluster: aws.String(cluster), ServiceName: aws.String(w.service(i)),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2),
	})
	if err != nil {
		return fmt.Errorf("create service %s in %s: %w", w.service(i), cluster, err)
	}
	return nil
}
