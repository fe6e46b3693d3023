//go:build integration

package ecsdeploy_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestMotoTagReplacesADigest: the classic -e VAR on an image pinned by
// digest deploys repository:tag (it once registered
// repository@sha256:tag): the new revision, read back from moto, runs the
// tag in the image's container and leaves the sidecar as it was.
func TestMotoTagReplacesADigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	client := ecs.NewFromConfig(cfg)
	repo := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + awstest.Name(t, "shop/api")
	const (
		digest  = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		sidecar = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
	)
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(awstest.Name(t, "api")),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("api"), Image: aws.String(repo + ":v1"), Memory: aws.Int32(512), Essential: aws.Bool(true)},
			{Name: aws.String("log-router"), Image: aws.String(sidecar), Memory: aws.Int32(64)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ecsdeploy.Deploy(ctx, cfg, nil, ecsdeploy.Input{
		TaskDefinition: aws.ToString(td.TaskDefinition.TaskDefinitionArn),
		Image:          repo + "@" + digest,
		Tag:            "v2",
	})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if res.Image != repo+":v2" || res.Outcome != history.StatusSucceeded {
		t.Errorf("result: got image %s, outcome %s; want %s:v2, succeeded", res.Image, res.Outcome, repo)
	}
	out, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(res.TaskDefinition)})
	if err != nil {
		t.Fatalf("read the new revision %s: %v", res.TaskDefinition, err)
	}
	images := map[string]string{}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		images[aws.ToString(c.Name)] = aws.ToString(c.Image)
	}
	if images["api"] != repo+":v2" || images["log-router"] != sidecar {
		t.Errorf("the new revision runs %v; want api on %s:v2 and the log router as it was", images, repo)
	}
}
