package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// RunImage points an existing service at a new task definition whose one
// container, api, runs image (any text: moto does not check it), e.g. to
// make buoy's error messages quote text that came from AWS.
func RunImage(ctx context.Context, t testing.TB, client *ecs.Client, cluster, service, image string) {
	t.Helper()
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(service),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{
			Name: aws.String("api"), Image: aws.String(image), Memory: aws.Int32(512), Essential: aws.Bool(true),
		}},
	})
	if err != nil {
		t.Fatalf("register a task definition running %q: %v", image, err)
	}
	if _, err := client.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(cluster), Service: aws.String(service), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
	}); err != nil {
		t.Fatalf("point service %s at it: %v", service, err)
	}
}
