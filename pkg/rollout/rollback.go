package rollout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rollback redeploys each handle's service with what it ran before
// (its previous task definition and desired count, forcing a new
// deployment) and waits for those deployments. For the tag strategy, move
// the floating tags back to the previous digests first: the new
// deployment then pulls them. It returns the new handles with the wait's
// results.
func (r *Rollout) Rollback(ctx context.Context, handles []Handle, timeout time.Duration) ([]Handle, []Result, error) {
	var back []Handle
	var errs []error
	for _, h := range handles {
		if h.PreviousTaskDefinition == "" {
			errs = append(errs, fmt.Errorf("roll back service %s: its previous task definition is unknown", h.Service))
			continue
		}
		svc := Service{ARN: h.ServiceARN, Name: h.Service, Cluster: h.Cluster, TaskDefinition: h.TaskDefinition,
			PrimaryDeployment: h.DeploymentID, DesiredCount: h.DesiredCount}
		in := RedeployInput{TaskDefinition: h.PreviousTaskDefinition}
		if h.PreviousDesiredCount != h.DesiredCount {
			in.DesiredCount = &h.PreviousDesiredCount
		}
		nh, err := r.Redeploy(ctx, svc, in)
		if err != nil {
			errs = append(errs, fmt.Errorf("roll back: %w", err))
			continue
		}
		back = append(back, nh)
	}
	if len(back) == 0 {
		return nil, nil, errors.Join(errs...)
	}
	res, err := r.Wait(ctx, WaitInput{Handles: back, Timeout: timeout})
	if err != nil {
		errs = append(errs, fmt.Errorf("roll back: %w", err))
	}
	return back, res, errors.Join(errs...)
}
