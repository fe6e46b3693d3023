//go:build integration

package ecsdeploy_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// world is a task definition family, clusters and services of one test
// on the shared moto, read back with the AWS SDK.
type world struct {
	t      *testing.T
	ctx    context.Context
	cfg    aws.Config
	ecs    *ecs.Client
	family string
	// repo is the image repository of the family's app container.
	repo string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg := awstest.Config(t)
	// Cleanup reads every cluster and EventBridge rule of the shared
	// moto, which answers 500 when another test changes them while it
	// lists them: retry those.
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5; o.MaxBackoff = 200 * time.Millisecond })
	}
	return &world{t: t, ctx: context.Background(), cfg: cfg, ecs: ecs.NewFromConfig(cfg), family: awstest.Name(t, "api"),
		repo: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + awstest.Name(t, "shop/api")}
}

// register registers a revision of the family: the app container on
// repo:appTag with A=env in its environment, and a log router sidecar.
func (w *world) register(appTag, env string) string {
	w.t.Helper()
	out, err := w.ecs.RegisterTaskDefinition(w.ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(w.family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("api"), Image: aws.String(w.repo + ":" + appTag), Memory: aws.Int32(512), Essential: aws.Bool(true),
				Environment: []ecstypes.KeyValuePair{{Name: aws.String("A"), Value: aws.String(env)}}},
			{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), Memory: aws.Int32(64)},
		},
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// arn is the ARN of revision rev of the family.
func (w *world) arn(rev int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", awstest.Region, awstest.AccountID, w.family, rev)
}

// service creates a cluster and a service in it running td, and returns
// the cluster's name.
func (w *world) service(name, td string) string {
	w.t.Helper()
	cluster := awstest.Name(w.t, name)
	if _, err := w.ecs.CreateCluster(w.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ecs.CreateService(w.ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)}); err != nil {
		w.t.Fatal(err)
	}
	return cluster
}

// runs returns the task definition the service runs, as moto says.
func (w *world) runs(cluster, name string) string {
	w.t.Helper()
	out, err := w.ecs.DescribeServices(w.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		w.t.Fatalf("describe service %s: %v", name, err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

// describe reads a revision, its containers by name.
func (w *world) describe(arn string) (images, env map[string]string, tags []ecstypes.Tag) {
	w.t.Helper()
	out, err := w.ecs.DescribeTaskDefinition(w.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		w.t.Fatalf("describe %s: %v", arn, err)
	}
	images, env = map[string]string{}, map[string]string{}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		images[aws.ToString(c.Name)] = aws.ToString(c.Image)
		for _, kv := range c.Environment {
			env[aws.ToString(c.Name)+"."+aws.ToString(kv.Name)] = aws.ToString(kv.Value)
		}
	}
	return images, env, out.Tags
}

// active returns the numbers of the family's ACTIVE revisions as moto
// lists them, in order.
func (w *world) active() []int {
	w.t.Helper()
	out, err := w.ecs.ListTaskDefinitions(w.ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(w.family), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		w.t.Fatal(err)
	}
	var revs []int
	for _, arn := range out.TaskDefinitionArns {
		family, rev, _ := strings.Cut(arn[strings.LastIndex(arn, "/")+1:], ":")
		if n, err := strconv.Atoi(rev); err == nil && family == w.family {
			revs = append(revs, n)
		}
	}
	slices.Sort(revs)
	return revs
}

// deploy runs Deploy on the world with a clock whose waits end at once.
func (w *world) deploy(in ecsdeploy.Input) (*ecsdeploy.Result, error) {
	return ecsdeploy.Deploy(w.ctx, w.cfg, nil, in, ecsdeploy.WithClock(clocktest.NewAuto(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))))
}

// contains reports whether s holds every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
