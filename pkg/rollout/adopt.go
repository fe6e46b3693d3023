package rollout

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// AdoptInput names an ECS deployment that an earlier run started (a run
// that died while ECS rolled it out) and that this run may follow instead
// of starting a new one.
type AdoptInput struct {
	// DeploymentID is the ECS deployment id the earlier run recorded.
	DeploymentID string
	// TaskDefinition, when set, is the task definition the deployment
	// must run (the pinned revision the earlier run registered).
	TaskDefinition string
	// PreviousTaskDefinition is what the service ran before the earlier
	// run updated it, as that run recorded it.
	PreviousTaskDefinition string
}

// NotAdoptableError says why an ECS deployment cannot be adopted: it is
// gone, was replaced, failed or was rolled back, or runs another task
// definition. Starting a new deployment is then the safe course.
type NotAdoptableError struct {
	Service      string
	DeploymentID string
	// Failed is true when ECS marked the deployment as failed (its
	// circuit breaker, which then rolls it back).
	Failed bool
	Reason string
}

func (e *NotAdoptableError) Error() string {
	return fmt.Sprintf("ECS deployment %s of service %s cannot be adopted: %s", e.DeploymentID, e.Service, e.Reason)
}

// Adopt returns a Handle on ECS deployment in.DeploymentID of svc for
// Wait, without updating the service, when ECS still rolls it out or has
// completed it: it is the service's PRIMARY deployment, its rollout state
// is IN_PROGRESS or COMPLETED, and it runs in.TaskDefinition when that is
// set. Otherwise it returns a *NotAdoptableError saying why. Wait then
// follows the deployment as if this Rollout had started it, with every
// fail-fast rule: ECS starts the deployment's tasks with its id, so its
// stopped tasks are found as they are for a deployment Redeploy started.
func (r *Rollout) Adopt(ctx context.Context, svc Service, in AdoptInput) (Handle, error) {
	if err := r.budget.Wait(ctx, "DescribeServices"); err != nil {
		return Handle{}, err
	}
	resp, err := r.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(svc.Cluster), Services: []string{svc.Name}})
	r.budget.Observe("DescribeServices", err)
	if err != nil {
		return Handle{}, fmt.Errorf("describe service %s in cluster %s: %w", svc.Name, svc.Cluster, err)
	}
	no := func(failed bool, format string, args ...any) (Handle, error) {
		return Handle{}, &NotAdoptableError{Service: svc.Name, DeploymentID: in.DeploymentID, Failed: failed, Reason: fmt.Sprintf(format, args...)}
	}
	if len(resp.Services) == 0 {
		return no(false, "ECS no longer finds the service")
	}
	s := resp.Services[0]
	if st := aws.ToString(s.Status); st != "ACTIVE" {
		return no(false, "the service is %s", st)
	}
	ours, prim := deploymentByID(s.Deployments, in.DeploymentID), primary(s.Deployments)
	switch {
	case ours == nil && prim == nil:
		return no(false, "it is gone and the service has no PRIMARY deployment")
	case ours == nil:
		return no(false, "it is gone: the service runs deployment %s (task definition %s)", aws.ToString(prim.Id), shortARN(aws.ToString(prim.TaskDefinition)))
	case ours.RolloutState == types.DeploymentRolloutStateFailed:
		return no(true, "ECS marked it as failed (%s)", orNone(aws.ToString(ours.RolloutStateReason)))
	case aws.ToString(ours.Status) != "PRIMARY":
		return no(false, "it is %s: deployment %s replaced it", aws.ToString(ours.Status), primaryID(prim))
	case ours.RolloutState != types.DeploymentRolloutStateInProgress && ours.RolloutState != types.DeploymentRolloutStateCompleted:
		return no(false, "its rollout state is %q, not IN_PROGRESS or COMPLETED", ours.RolloutState)
	case in.TaskDefinition != "" && aws.ToString(ours.TaskDefinition) != in.TaskDefinition:
		return no(false, "it runs task definition %s, not %s", shortARN(aws.ToString(ours.TaskDefinition)), shortARN(in.TaskDefinition))
	}
	h := Handle{
		Cluster:                svc.Cluster,
		Service:                svc.Name,
		ServiceARN:             aws.ToString(s.ServiceArn),
		DeploymentID:           in.DeploymentID,
		ServiceDeploymentARN:   aws.ToString(s.CurrentServiceDeployment),
		TaskDefinition:         aws.ToString(ours.TaskDefinition),
		StartedAt:              r.clock.Now(),
		DesiredCount:           s.DesiredCount,
		PreviousTaskDefinition: in.PreviousTaskDefinition,
		PreviousDesiredCount:   s.DesiredCount,
	}
	if ours.CreatedAt != nil {
		h.StartedAt = *ours.CreatedAt
	}
	if h.ServiceARN == "" {
		h.ServiceARN = svc.ARN
	}
	for _, d := range s.Deployments { // the deployment ours replaces, if still there
		if aws.ToString(d.Status) == "ACTIVE" {
			h.PreviousDeploymentID = aws.ToString(d.Id)
			if h.PreviousTaskDefinition == "" {
				h.PreviousTaskDefinition = aws.ToString(d.TaskDefinition)
			}
			break
		}
	}
	r.log.DebugContext(ctx, "deployment adopted", "service", svc.Name, "deployment", in.DeploymentID, "state", ours.RolloutState)
	return h, nil
}

func primaryID(prim *types.Deployment) string {
	if prim == nil {
		return "(none)"
	}
	return aws.ToString(prim.Id)
}
