//go:build integration

package rollout_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

const motoRepo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"

// motoFixture makes a cluster, a task definition family and services on
// moto, and returns the cluster and family names.
func motoFixture(t *testing.T, client *ecs.Client, services map[string][]types.Tag) (cluster, family, tdARN string) {
	t.Helper()
	ctx := context.Background()
	cluster, family = awstest.Name(t, "cluster"), awstest.Name(t, "app")
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster)}); err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	td := fullTaskDefinition()
	in, err := rollout.RegisterInput(td, []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}})
	if err != nil {
		t.Fatal(err)
	}
	in.Family = aws.String(family)
	for i := range in.ContainerDefinitions {
		in.ContainerDefinitions[i].Memory = aws.Int32(256) // moto's RunTask needs container memory
	}
	out, err := client.RegisterTaskDefinition(ctx, in)
	if err != nil {
		t.Fatalf("register task definition: %v", err)
	}
	tdARN = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	for name, tags := range services {
		_, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String(name),
			TaskDefinition: aws.String(tdARN), DesiredCount: aws.Int32(2), Tags: tags})
		if err != nil {
			t.Fatalf("create service %s: %v", name, err)
		}
	}
	return cluster, family, tdARN
}

func tags(service, env string) []types.Tag {
	return []types.Tag{{Key: aws.String(rollout.TagService), Value: aws.String(service)}, {Key: aws.String(rollout.TagEnv), Value: aws.String(env)}}
}

func TestMotoFind(t *testing.T) {
	t.Parallel()
	client := ecs.NewFromConfig(awstest.Config(t))
	cluster, _, tdARN := motoFixture(t, client, map[string][]types.Tag{
		"api-prod": tags("api", "prod"), "api-stage": tags("api", "stage"), "w1": tags("worker", "prod"), "w2": tags("worker", "prod"),
	})
	r := rollout.New(client)
	ctx := context.Background()
	got, err := r.Find(ctx, rollout.FindInput{Cluster: cluster, Names: []string{"api-prod", "w1"}})
	if err != nil || len(got) != 2 || got[0].Name != "api-prod" || got[0].TaskDefinition != tdARN {
		t.Errorf("Find by name: got %+v, %v; want api-prod and w1 running %s", got, err, tdARN)
	}
	_, err = r.Find(ctx, rollout.FindInput{Cluster: cluster, Names: []string{"api-prod", "missing"}})
	var nf *rollout.NotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"missing"}) {
		t.Errorf("Find a missing service: got %v, want a NotFoundError naming it", err)
	}
	got, err = r.FindByTags(ctx, rollout.FindByTagsInput{Cluster: cluster, Env: "stage", Names: []string{"api"}})
	if err != nil || len(got) != 1 || got[0].Name != "api-stage" {
		t.Errorf("FindByTags api/stage: got %+v, %v; want api-stage", got, err)
	}
	_, err = r.FindByTags(ctx, rollout.FindByTagsInput{Cluster: cluster, Env: "prod", Names: []string{"worker", "web"}})
	var amb *rollout.AmbiguousError
	if !errors.As(err, &amb) || !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"web"}) {
		t.Errorf("FindByTags worker+web in prod: got %v, want an AmbiguousError and a NotFoundError naming web", err)
	}
}

func TestMotoRedeployAndWait(t *testing.T) {
	t.Parallel()
	client := ecs.NewFromConfig(awstest.Config(t))
	cluster, _, _ := motoFixture(t, client, map[string][]types.Tag{"api": nil})
	r := rollout.New(client, rollout.WithPolling(rollout.Polling{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond, Growth: 2, ThrottledMax: time.Second}))
	ctx := context.Background()
	svcs, err := r.Find(ctx, rollout.FindInput{Cluster: cluster, Names: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Redeploy(ctx, svcs[0], rollout.RedeployInput{})
	if err != nil {
		t.Fatalf("Redeploy: %v", err)
	}
	if h.DeploymentID == "" || h.DeploymentID == svcs[0].PrimaryDeployment {
		t.Errorf("deployment id: got %q, previous %q; want a new one", h.DeploymentID, svcs[0].PrimaryDeployment)
	}
	res, err := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: 30 * time.Second})
	if err != nil || res[0].Outcome != rollout.Succeeded {
		t.Errorf("Wait: got %+v, %v; want success (moto's deployment is COMPLETED)", res, err)
	}
}

func TestMotoRegisterImagesAndCleanup(t *testing.T) {
	t.Parallel()
	client := ecs.NewFromConfig(awstest.EveryResourceConfig(t))
	_, family, tdARN := motoFixture(t, client, map[string][]types.Tag{"api": nil})
	r := rollout.New(client)
	ctx := context.Background()
	digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	pinned, err := imageref.MustParse(motoRepo).WithDigest(digest)
	if err != nil {
		t.Fatal(err)
	}
	var revs []string
	for range 3 {
		arn, err := r.RegisterImages(ctx, tdARN, []imageref.Reference{pinned})
		if err != nil {
			t.Fatalf("RegisterImages: %v", err)
		}
		revs = append(revs, arn)
	}
	orig, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(tdARN), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(revs[0]), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
	if err != nil {
		t.Fatal(err)
	}
	wantIn, _ := rollout.RegisterInput(orig.TaskDefinition, orig.Tags)
	wantIn.ContainerDefinitions[0].Image = aws.String(motoRepo + "@" + digest)
	gotIn, _ := rollout.RegisterInput(got.TaskDefinition, got.Tags)
	if g, w := aws.ToString(gotIn.ContainerDefinitions[0].Image), motoRepo+"@"+digest; g != w {
		t.Errorf("pinned image: got %s, want %s", g, w)
	}
	if g, w := aws.ToString(gotIn.ContainerDefinitions[1].Image), aws.ToString(wantIn.ContainerDefinitions[1].Image); g != w {
		t.Errorf("sidecar image: got %s, want %s unchanged", g, w)
	}
	for name, pair := range map[string][2]any{
		"cpu": {gotIn.Cpu, wantIn.Cpu}, "memory": {gotIn.Memory, wantIn.Memory}, "runtimePlatform": {gotIn.RuntimePlatform, wantIn.RuntimePlatform},
		"volumes": {gotIn.Volumes, wantIn.Volumes}, "secrets": {gotIn.ContainerDefinitions[0].Secrets, wantIn.ContainerDefinitions[0].Secrets},
		"tags": {gotIn.Tags, wantIn.Tags}, "roles": {*gotIn.ExecutionRoleArn + *gotIn.TaskRoleArn, *wantIn.ExecutionRoleArn + *wantIn.TaskRoleArn},
		"proxyConfiguration": {gotIn.ProxyConfiguration, wantIn.ProxyConfiguration}, "pidMode": {gotIn.PidMode, wantIn.PidMode},
	} {
		if !equalJSON(pair[0], pair[1]) {
			t.Errorf("%s after a round trip through moto: got %s, want %s", name, toJSON(pair[0]), toJSON(pair[1]))
		}
	}

	// Revisions 1 (in use by the service), 2, 3, 4 (newest): keeping 1
	// deregisters 2 and 3, never 1.
	gone, err := r.Cleanup(ctx, rollout.CleanupInput{Family: family, Keep: 1})
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if want := []string{revs[1], revs[0]}; !slices.Equal(gone, want) {
		t.Errorf("deregistered: got %v, want %v", gone, want)
	}
	list, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{tdARN, revs[2]}; !slices.Equal(list.TaskDefinitionArns, want) {
		t.Errorf("ACTIVE after cleanup: got %v, want %v", list.TaskDefinitionArns, want)
	}
}
