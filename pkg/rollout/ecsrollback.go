package rollout

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// ErrNoECSRollback says that ECS cannot roll a deployment back itself:
// the service deployments API is denied or missing, ECS does not know the
// deployment, or it is no longer in progress (it completed, or was
// stopped). The caller rolls back in place instead (Rollback).
var ErrNoECSRollback = errors.New("ECS cannot roll this deployment back itself")

// RollBackWithECS has ECS roll back the service deployment h follows, as
// ECS does when its circuit breaker or an alarm fails a deployment: when
// it is still in progress, StopServiceDeployment with stopType ROLLBACK
// asks ECS to (allowed even where the service's configuration sets no
// rollback); when ECS already rolls it back, nothing is asked. It
// returns the handle to Wait for, which succeeds once the service
// deployment is ROLLBACK_SUCCESSFUL.
//
// It returns an error wrapping ErrNoECSRollback, saying why, when ECS
// cannot; any other error is the end of ctx.
func (r *Rollout) RollBackWithECS(ctx context.Context, h Handle) (Handle, error) {
	noRollback := func(format string, args ...any) (Handle, error) {
		return Handle{}, fmt.Errorf("roll back %s with ECS: %s: %w", h.Service, fmt.Sprintf(format, args...), ErrNoECSRollback)
	}
	if r.deploymentsAPI.Load() == apiUnavailable {
		return noRollback("the service deployments API is unavailable")
	}
	arn := h.ServiceDeploymentARN
	if arn == "" {
		found, err := r.resolveServiceDeployment(ctx, h)
		if err != nil {
			_ = r.deploymentsAPIError(ctx, err)
			return r.apiFailed(ctx, h, err)
		}
		if arn = found; arn == "" {
			return noRollback("ECS lists no service deployment of deployment %s", h.DeploymentID)
		}
	}
	sd, err := r.describeServiceDeployment(ctx, arn)
	if err != nil {
		_ = r.deploymentsAPIError(ctx, err)
		return r.apiFailed(ctx, h, err)
	}
	back := h
	back.ServiceDeploymentARN, back.RollingBack = arn, true
	switch {
	case sd == nil:
		return noRollback("ECS does not know service deployment %s", arn)
	case sd.Status == types.ServiceDeploymentStatusRollbackRequested, sd.Status == types.ServiceDeploymentStatusRollbackInProgress,
		sd.Status == types.ServiceDeploymentStatusRollbackSuccessful:
		r.emit(event.Event{Kind: event.Progress, Service: h.Service, Cluster: h.Cluster,
			Message: fmt.Sprintf("ECS rolls deployment %s back already (%s); buoy waits for it", h.DeploymentID, sd.Status)})
		return back, nil
	case !forward(sd.Status):
		return noRollback("service deployment %s is %s, and ECS stops only one in progress", arn, sd.Status)
	}
	if err := r.budget.Wait(ctx, "StopServiceDeployment"); err != nil {
		return Handle{}, err
	}
	_, err = r.api.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
		ServiceDeploymentArn: aws.String(arn), StopType: types.StopServiceDeploymentStopTypeRollback})
	r.budget.Observe("StopServiceDeployment", err)
	if err != nil {
		return r.apiFailed(ctx, h, fmt.Errorf("stop service deployment %s: %w", arn, err))
	}
	r.emit(event.Event{Kind: event.Progress, Service: h.Service, Cluster: h.Cluster,
		Message: fmt.Sprintf("asked ECS to roll deployment %s back to task definition %s (StopServiceDeployment, stopType ROLLBACK)", h.DeploymentID, shortARN(h.PreviousTaskDefinition))})
	return back, nil
}

// apiFailed turns an error of the service deployments API into
// ErrNoECSRollback, but the end of ctx.
func (r *Rollout) apiFailed(ctx context.Context, h Handle, err error) (Handle, error) {
	if ctx.Err() != nil {
		return Handle{}, ctx.Err()
	}
	return Handle{}, fmt.Errorf("roll back %s with ECS: %w: %w", h.Service, err, ErrNoECSRollback)
}

// describeServiceDeployment reads one service deployment; nil when ECS
// does not know it.
func (r *Rollout) describeServiceDeployment(ctx context.Context, arn string) (*types.ServiceDeployment, error) {
	if err := r.budget.Wait(ctx, "DescribeServiceDeployments"); err != nil {
		return nil, err
	}
	resp, err := r.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}}, r.deploymentsCallOptions()...)
	r.budget.Observe("DescribeServiceDeployments", err)
	if err != nil {
		return nil, fmt.Errorf("describe service deployment %s: %w", arn, err)
	}
	r.deploymentsAPI.CompareAndSwap(apiUnknown, apiAllowed)
	for i := range resp.ServiceDeployments {
		if aws.ToString(resp.ServiceDeployments[i].ServiceDeploymentArn) == arn {
			return &resp.ServiceDeployments[i], nil
		}
	}
	return nil, nil
}
