package rollout

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Service is an ECS service as found before a redeploy.
type Service struct {
	ARN     string
	Name    string
	Cluster string // the cluster's ARN as ECS reports it, or as given
	// TaskDefinition is the ARN of the task definition the service runs.
	TaskDefinition string
	// PrimaryDeployment is the id of the service's PRIMARY deployment.
	PrimaryDeployment string
	DesiredCount      int32
	RunningCount      int32
	// InProgress is true when a deployment of the service is still rolling
	// out, for example one started by another pipeline.
	InProgress bool
	Tags       map[string]string
	// Launch is how the service's tasks are launched, for a one-off task
	// to run where they do.
	Launch Launch
}

// Launch says where and how a service's tasks run: launch type or
// capacity provider strategy, Fargate platform version, and awsvpc
// network configuration (nil for other network modes).
type Launch struct {
	LaunchType               string
	CapacityProviderStrategy []CapacityProviderItem
	PlatformVersion          string
	Network                  *NetworkConfiguration
}

// CapacityProviderItem is one item of a capacity provider strategy.
type CapacityProviderItem struct {
	CapacityProvider string
	Weight, Base     int32
}

func launchFrom(s types.Service) Launch {
	l := Launch{LaunchType: string(s.LaunchType), PlatformVersion: aws.ToString(s.PlatformVersion)}
	for _, c := range s.CapacityProviderStrategy {
		l.CapacityProviderStrategy = append(l.CapacityProviderStrategy,
			CapacityProviderItem{CapacityProvider: aws.ToString(c.CapacityProvider), Weight: c.Weight, Base: c.Base})
	}
	if nc := s.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		v := nc.AwsvpcConfiguration
		l.Network = &NetworkConfiguration{Subnets: v.Subnets, SecurityGroups: v.SecurityGroups, AssignPublicIP: string(v.AssignPublicIp)}
	}
	return l
}

func serviceFrom(cluster string, s types.Service) Service {
	out := Service{
		ARN:            aws.ToString(s.ServiceArn),
		Name:           aws.ToString(s.ServiceName),
		Cluster:        aws.ToString(s.ClusterArn),
		TaskDefinition: aws.ToString(s.TaskDefinition),
		DesiredCount:   s.DesiredCount,
		RunningCount:   s.RunningCount,
		Launch:         launchFrom(s),
	}
	if out.Cluster == "" {
		out.Cluster = cluster
	}
	if p := primary(s.Deployments); p != nil {
		out.PrimaryDeployment = aws.ToString(p.Id)
	}
	for _, d := range s.Deployments {
		if d.RolloutState == types.DeploymentRolloutStateInProgress {
			out.InProgress = true
		}
	}
	if len(s.Tags) > 0 {
		out.Tags = map[string]string{}
		for _, t := range s.Tags {
			out.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return out
}

func primary(ds []types.Deployment) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Status) == "PRIMARY" {
			return &ds[i]
		}
	}
	return nil
}

func deploymentByID(ds []types.Deployment, id string) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Id) == id {
			return &ds[i]
		}
	}
	return nil
}

// Handle identifies the deployment that one redeploy started, and what
// the service ran before it, so that Wait can follow it and Rollback can
// undo it.
type Handle struct {
	Cluster    string
	Service    string // name
	ServiceARN string
	// DeploymentID is the id ECS gave the deployment we started.
	DeploymentID string
	// ServiceDeploymentARN is the ARN of the service deployment our
	// update started, when UpdateService said (currentServiceDeployment).
	// Wait reads its status with DescribeServiceDeployments; without it,
	// Wait finds it with ListServiceDeployments.
	ServiceDeploymentARN string
	// TaskDefinition is what our deployment runs.
	TaskDefinition string
	// StartedAt is when our deployment was created (ECS's clock when it
	// says, else ours). Events and tasks older than this are not ours.
	StartedAt time.Time
	// DesiredCount is the service's desired count after the update.
	DesiredCount int32

	PreviousDeploymentID   string
	PreviousTaskDefinition string
	PreviousDesiredCount   int32

	// RollingBack says the handle follows ECS rolling this deployment
	// back (RollBackWithECS): Wait then succeeds when the service
	// deployment is ROLLBACK_SUCCESSFUL.
	RollingBack bool
}
