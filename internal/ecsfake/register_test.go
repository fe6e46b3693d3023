package ecsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// TestRegisterTaskDefinitionAddsTheFamilysNextRevision: a registered
// revision follows the family's latest, keeps the request's containers
// (essential, awslogs) and network mode, and is what the family names
// from then on.
func TestRegisterTaskDefinitionAddsTheFamilysNextRevision(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported)
	srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: ecsfake.TaskDefinitionARN("migrate", 4)})
	ctx := context.Background()
	client := srv.Client()
	out, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("migrate"), NetworkMode: types.NetworkModeBridge,
		ContainerDefinitions: []types.ContainerDefinition{
			{Name: aws.String("app"), Image: aws.String("repo/app@sha256:abc"), LogConfiguration: &types.LogConfiguration{
				LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/ecs/m", "awslogs-stream-prefix": "ecs"}}},
			{Name: aws.String("router"), Image: aws.String("fluent-bit"), Essential: aws.Bool(false)},
		}})
	if err != nil {
		t.Fatalf("RegisterTaskDefinition: %v", err)
	}
	want := ecsfake.TaskDefinitionARN("migrate", 5)
	if got := aws.ToString(out.TaskDefinition.TaskDefinitionArn); got != want {
		t.Errorf("registered: got %s, want %s", got, want)
	}
	desc, err := client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("migrate")})
	if err != nil {
		t.Fatal(err)
	}
	td := desc.TaskDefinition
	if got := aws.ToString(td.TaskDefinitionArn); got != want || td.NetworkMode != types.NetworkModeBridge || len(td.ContainerDefinitions) != 2 {
		t.Fatalf("the family now names %s (%s, %d containers), want %s (bridge, 2 containers)", got, td.NetworkMode, len(td.ContainerDefinitions), want)
	}
	app, router := td.ContainerDefinitions[0], td.ContainerDefinitions[1]
	if aws.ToString(app.Image) != "repo/app@sha256:abc" || !aws.ToBool(app.Essential) || app.LogConfiguration.Options["awslogs-group"] != "/ecs/m" {
		t.Errorf("app: got %s essential %v logs %+v", aws.ToString(app.Image), aws.ToBool(app.Essential), app.LogConfiguration)
	}
	if aws.ToBool(router.Essential) {
		t.Error("router: essential, want not")
	}
	if n := len(srv.Registered()); n != 1 {
		t.Errorf("Registered: got %d requests, want 1", n)
	}
}

// TestServiceLaunch: DescribeServices says how a service's tasks are
// launched when the script sets it.
func TestServiceLaunch(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "web", TaskDefinition: ecsfake.TaskDefinitionARN("web", 1),
		Launch: &ecsfake.Launch{CapacityProviders: []ecsfake.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 2, Base: 1}},
			PlatformVersion: "1.4.0", Subnets: []string{"subnet-1"}, SecurityGroups: []string{"sg-1"}, AssignPublicIP: "DISABLED"}})
	out, err := srv.Client().DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String(ecsfake.Cluster), Services: []string{"web"}})
	if err != nil || len(out.Services) != 1 {
		t.Fatalf("DescribeServices: %v", err)
	}
	s := out.Services[0]
	vpc := s.NetworkConfiguration.AwsvpcConfiguration
	if s.LaunchType != "" || len(s.CapacityProviderStrategy) != 1 || aws.ToString(s.CapacityProviderStrategy[0].CapacityProvider) != "FARGATE_SPOT" ||
		s.CapacityProviderStrategy[0].Weight != 2 || aws.ToString(s.PlatformVersion) != "1.4.0" || vpc.Subnets[0] != "subnet-1" || vpc.AssignPublicIp != types.AssignPublicIpDisabled {
		t.Errorf("service: got launch type %q, strategy %+v, platform %s, network %+v", s.LaunchType, s.CapacityProviderStrategy, aws.ToString(s.PlatformVersion), vpc)
	}
}
