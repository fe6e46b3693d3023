package ecsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// TestDescribeTaskDefinitionFindsRevisionsAsECSDoes checks that a task
// definition is found by ARN, family:revision and family (the latest
// ACTIVE revision), with its containers and tags, and that an unknown one
// is a ClientException, as ECS answers.
func TestDescribeTaskDefinitionFindsRevisionsAsECSDoes(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported)
	app := func(rev int) string { return ecsfake.TaskDefinitionARN("app", rev) }
	srv.AddTaskDefinitions(
		ecsfake.TaskDefinition{ARN: app(1), Containers: []ecsfake.ContainerDefinition{{Name: "web", Image: "repo/app:v1"}}},
		ecsfake.TaskDefinition{ARN: app(2), Containers: []ecsfake.ContainerDefinition{{Name: "web", Image: "repo/app:v2"}},
			Tags: map[string]string{"team": "shop"}},
		ecsfake.TaskDefinition{ARN: app(3), Inactive: true},
	)
	client := srv.Client()
	for ref, want := range map[string]string{app(1): app(1), "app:1": app(1), "app": app(2)} {
		out, err := client.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(ref), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags}})
		if err != nil {
			t.Fatalf("DescribeTaskDefinition(%s): %v", ref, err)
		}
		td := out.TaskDefinition
		if got := aws.ToString(td.TaskDefinitionArn); got != want || aws.ToString(td.Family) != "app" || len(td.ContainerDefinitions) != 1 {
			t.Errorf("DescribeTaskDefinition(%s): got %s family %s with %d containers, want %s family app with 1",
				ref, got, aws.ToString(td.Family), len(td.ContainerDefinitions), want)
		}
		if want == app(2) && (len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "team") {
			t.Errorf("DescribeTaskDefinition(%s) tags: got %+v, want team=shop", ref, out.Tags)
		}
	}
	_, err := client.DescribeTaskDefinition(context.Background(), &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")})
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Errorf("DescribeTaskDefinition(nope:1): got %v, want a *types.ClientException", err)
	}
}
