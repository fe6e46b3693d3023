package rollout

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// RedeployInput says how to redeploy a service. The zero value is the tag
// strategy: a new deployment of the same task definition, so that ECS
// pulls the images its floating tags now point at.
type RedeployInput struct {
	// TaskDefinition, when set, is the task definition ARN to deploy (the
	// task-definition strategy, or a rollback).
	TaskDefinition string
	// DesiredCount, when set, changes the service's desired count.
	DesiredCount *int32
	// MinimumHealthyPercent and MaximumPercent, when set, change the
	// service's deployment configuration.
	MinimumHealthyPercent *int32
	MaximumPercent        *int32
}

// Redeploy starts one new deployment of svc with a single UpdateService
// call (forceNewDeployment, so that it happens even when nothing else
// changes) and returns a Handle on it. Call it once per service, even when
// several images feed the service.
func (r *Rollout) Redeploy(ctx context.Context, svc Service, in RedeployInput) (Handle, error) {
	req := &ecs.UpdateServiceInput{
		Cluster:            aws.String(svc.Cluster),
		Service:            aws.String(svc.Name),
		ForceNewDeployment: true,
		DesiredCount:       in.DesiredCount,
	}
	if in.TaskDefinition != "" {
		req.TaskDefinition = aws.String(in.TaskDefinition)
	}
	if in.MinimumHealthyPercent != nil || in.MaximumPercent != nil {
		req.DeploymentConfiguration = &types.DeploymentConfiguration{
			MinimumHealthyPercent: in.MinimumHealthyPercent,
			MaximumPercent:        in.MaximumPercent,
		}
	}
	if err := r.budget.Wait(ctx, "UpdateService"); err != nil {
		return Handle{}, err
	}
	started := r.clock.Now()
	resp, err := r.api.UpdateService(ctx, req)
	r.budget.Observe("UpdateService", err)
	if err != nil {
		return Handle{}, fmt.Errorf("redeploy service %s in cluster %s: %w", svc.Name, svc.Cluster, err)
	}
	if resp.Service == nil {
		return Handle{}, fmt.Errorf("redeploy service %s in cluster %s: ECS returned no service", svc.Name, svc.Cluster)
	}
	s := resp.Service
	p := primary(s.Deployments)
	if p == nil {
		return Handle{}, fmt.Errorf("redeploy service %s in cluster %s: ECS returned no PRIMARY deployment (is the service managed by CodeDeploy or an external controller? buoy redeploys services with the ECS deployment controller)", svc.Name, svc.Cluster)
	}
	h := Handle{
		Cluster:                svc.Cluster,
		Service:                svc.Name,
		ServiceARN:             aws.ToString(s.ServiceArn),
		DeploymentID:           aws.ToString(p.Id),
		ServiceDeploymentARN:   aws.ToString(s.CurrentServiceDeployment),
		TaskDefinition:         aws.ToString(p.TaskDefinition),
		StartedAt:              started,
		DesiredCount:           s.DesiredCount,
		PreviousDeploymentID:   svc.PrimaryDeployment,
		PreviousTaskDefinition: svc.TaskDefinition,
		PreviousDesiredCount:   svc.DesiredCount,
	}
	if p.CreatedAt != nil {
		h.StartedAt = *p.CreatedAt
	}
	if h.TaskDefinition == "" {
		h.TaskDefinition = aws.ToString(s.TaskDefinition)
	}
	if h.ServiceARN == "" {
		h.ServiceARN = svc.ARN
	}
	if h.DeploymentID == svc.PrimaryDeployment {
		r.emit(event.Event{Kind: event.Warning, Service: svc.Name, Cluster: svc.Cluster,
			Message: fmt.Sprintf("ECS did not start a new deployment of %s (the PRIMARY is still %s); buoy follows it anyway", svc.Name, h.DeploymentID)})
	}
	r.log.DebugContext(ctx, "service updated", "service", svc.Name, "deployment", h.DeploymentID, "previous", svc.PrimaryDeployment)
	r.emit(event.Event{Kind: event.ServiceUpdated, Service: svc.Name, Cluster: svc.Cluster,
		From: svc.TaskDefinition, To: h.TaskDefinition,
		Message: fmt.Sprintf("deployment %s started", h.DeploymentID)})
	return h, nil
}
