package awstest

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
)

// EveryResourceConfig is Config for a test whose code under test reads
// every cluster (or every EventBridge rule) of the shared emulator, as
// revision cleanup does: moto answers HTTP 500 when another test changes
// them while it lists them, so those answers are retried too.
func EveryResourceConfig(t testing.TB) aws.Config {
	cfg := Config(t)
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5; o.MaxBackoff = 200 * time.Millisecond })
	}
	return cfg
}

// Family is a task definition family of one test on the emulator, with
// the clusters and services the test makes, read back with the AWS SDK.
type Family struct {
	t      testing.TB
	ctx    context.Context
	client *ecs.Client
	// Name is the family's name, unique to the test.
	Name string
	// Repo is the image repository of its api container.
	Repo string
}

// NewFamily returns a family named after prefix, unique to the test.
func NewFamily(t testing.TB, client *ecs.Client, prefix string) *Family {
	return &Family{t: t, ctx: context.Background(), client: client, Name: Name(t, prefix),
		Repo: AccountID + ".dkr.ecr." + Region + ".amazonaws.com/" + Name(t, "shop/"+prefix)}
}

// Register registers a revision of the family: the api container on
// Repo:appTag with A=env in its environment, a log router sidecar that is
// not essential, and the tag team=shop; it returns the revision's ARN.
func (f *Family) Register(appTag, env string) string {
	f.t.Helper()
	out, err := f.client.RegisterTaskDefinition(f.ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(f.Name),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("api"), Image: aws.String(f.Repo + ":" + appTag), Memory: aws.Int32(512), Essential: aws.Bool(true),
				Environment: []ecstypes.KeyValuePair{{Name: aws.String("A"), Value: aws.String(env)}}},
			{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), Memory: aws.Int32(64),
				Essential: aws.Bool(false)},
		},
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}},
	})
	if err != nil {
		f.t.Fatalf("register a revision of %s: %v", f.Name, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// ARN is the ARN of revision rev of the family.
func (f *Family) ARN(rev int) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", Region, AccountID, f.Name, rev)
}

// Service creates a cluster of its own and in it a service called name
// running td with a desired count of 2, and returns the cluster's name.
func (f *Family) Service(name, td string) string {
	f.t.Helper()
	cluster := Name(f.t, name)
	if _, err := f.client.CreateCluster(f.ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		f.t.Fatalf("create cluster %s: %v", cluster, err)
	}
	if _, err := f.client.CreateService(f.ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
		TaskDefinition: aws.String(td), DesiredCount: aws.Int32(2)}); err != nil {
		f.t.Fatalf("create service %s: %v", name, err)
	}
	return cluster
}

// Runs returns the task definition a service runs, as the emulator says.
func (f *Family) Runs(cluster, name string) string {
	f.t.Helper()
	out, err := f.client.DescribeServices(f.ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{name}})
	if err != nil || len(out.Services) != 1 {
		f.t.Fatalf("describe service %s: %v", name, err)
	}
	return aws.ToString(out.Services[0].TaskDefinition)
}

// Describe reads a revision: each container's image by name, each
// container's environment as name.VAR, and its tags.
func (f *Family) Describe(arn string) (images, env map[string]string, tags []ecstypes.Tag) {
	f.t.Helper()
	out, err := f.client.DescribeTaskDefinition(f.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn),
		Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}})
	if err != nil {
		f.t.Fatalf("describe %s: %v", arn, err)
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

// Active returns the numbers of the family's ACTIVE revisions, as the
// emulator lists them, in order.
func (f *Family) Active() []int {
	f.t.Helper()
	out, err := f.client.ListTaskDefinitions(f.ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(f.Name), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		f.t.Fatalf("list the revisions of %s: %v", f.Name, err)
	}
	var revs []int
	for _, arn := range out.TaskDefinitionArns {
		family, rev, _ := strings.Cut(arn[strings.LastIndex(arn, "/")+1:], ":")
		if n, err := strconv.Atoi(rev); err == nil && family == f.Name {
			revs = append(revs, n)
		}
	}
	slices.Sort(revs)
	return revs
}
