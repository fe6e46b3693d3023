package rollout

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// describeDeploymentsBatch is how many ARNs DescribeServiceDeployments
// takes at once.
const describeDeploymentsBatch = 20

// What a Rollout knows of the service deployments API.
const (
	// apiUnknown: not called yet, or only throttled; the next call is a
	// probe.
	apiUnknown int32 = iota
	// apiAllowed: a call succeeded.
	apiAllowed
	// apiUnavailable: denied, unknown to this ECS (moto answers 500), or
	// turned off; Wait follows deployments through DescribeServices.
	apiUnavailable
)

// readServiceDeployments reads the service deployments of the watches
// seen this round, in batches of 20. Each watch knows its ARN from
// UpdateService's answer; ListServiceDeployments finds it only when ECS
// did not say. When the API is denied or unsupported, the Rollout
// switches to DescribeServices alone for the rest of its life.
func (r *Rollout) readServiceDeployments(ctx context.Context, ws []*watch) error {
	var arns []string
	byARN := map[string]*watch{}
	for _, w := range ws {
		if !w.seen {
			continue
		}
		if w.sdARN == "" && w.sdTries < 3 {
			w.sdTries++
			arn, err := r.resolveServiceDeployment(ctx, w.h)
			if err != nil {
				return r.deploymentsAPIError(ctx, err)
			}
			w.sdARN = arn
			w.res.Handle.ServiceDeploymentARN = arn
		}
		if w.sdARN != "" {
			arns = append(arns, w.sdARN)
			byARN[w.sdARN] = w
		}
	}
	for batch := range slices.Chunk(arns, describeDeploymentsBatch) {
		if err := r.budget.Wait(ctx, "DescribeServiceDeployments"); err != nil {
			return err
		}
		resp, err := r.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: batch}, r.deploymentsCallOptions()...)
		r.budget.Observe("DescribeServiceDeployments", err)
		if err != nil {
			return r.deploymentsAPIError(ctx, fmt.Errorf("describe service deployments: %w", err))
		}
		r.deploymentsAPI.CompareAndSwap(apiUnknown, apiAllowed)
		for i := range resp.ServiceDeployments {
			sd := resp.ServiceDeployments[i]
			w := byARN[aws.ToString(sd.ServiceDeploymentArn)]
			if w == nil {
				continue
			}
			if sd.CreatedAt != nil && sd.CreatedAt.Before(w.h.StartedAt.Add(-time.Minute)) {
				// Older than our deployment: not ours. List to find ours.
				w.sdARN, w.sd = "", nil
				w.res.Handle.ServiceDeploymentARN = ""
				continue
			}
			w.sd = &sd
		}
	}
	return nil
}

// resolveServiceDeployment finds the service deployment created with our
// deployment: the one created closest to it, within a minute.
func (r *Rollout) resolveServiceDeployment(ctx context.Context, h Handle) (string, error) {
	if err := r.budget.Wait(ctx, "ListServiceDeployments"); err != nil {
		return "", err
	}
	resp, err := r.api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster:   aws.String(h.Cluster),
		Service:   aws.String(h.Service),
		CreatedAt: &types.CreatedAt{After: aws.Time(h.StartedAt.Add(-time.Minute))},
	}, r.deploymentsCallOptions()...)
	r.budget.Observe("ListServiceDeployments", err)
	if err != nil {
		return "", fmt.Errorf("list service deployments of %s: %w", h.Service, err)
	}
	r.deploymentsAPI.CompareAndSwap(apiUnknown, apiAllowed)
	best, bestGap := "", time.Minute
	for _, b := range resp.ServiceDeployments {
		if b.CreatedAt == nil {
			continue
		}
		if gap := b.CreatedAt.Sub(h.StartedAt).Abs(); gap <= bestGap {
			best, bestGap = aws.ToString(b.ServiceDeploymentArn), gap
		}
	}
	return best, nil
}

// deploymentsCallOptions makes a probe of the service deployments API (a
// call before any has succeeded) a single attempt: an ECS that lacks the
// API (moto answers 500) or an IAM policy that denies it then costs one
// round trip, not the SDK's retries and their backoff, before Wait falls
// back to DescribeServices. Once a call has succeeded, the client's own
// retry policy applies.
func (r *Rollout) deploymentsCallOptions() []func(*ecs.Options) {
	if r.deploymentsAPI.Load() != apiUnknown {
		return nil
	}
	return []func(*ecs.Options){func(o *ecs.Options) { o.RetryMaxAttempts = 1 }}
}

// deploymentsAPIError turns off the service deployments API for the rest
// of the Rollout's life on any error but throttling or the end of ctx, and
// says so once.
func (r *Rollout) deploymentsAPIError(ctx context.Context, err error) error {
	if isThrottle(err) || ctx.Err() != nil {
		return err
	}
	if r.deploymentsAPI.Swap(apiUnavailable) != apiUnavailable {
		r.log.DebugContext(ctx, "service deployments API unavailable", "err", err)
		r.emit(event.Event{Kind: event.Warning, Message: "ECS service deployments API unavailable (" + err.Error() +
			"); following deployments through DescribeServices instead. Allow ecs:ListServiceDeployments and ecs:DescribeServiceDeployments for exact rollback reasons"})
	}
	return nil
}
