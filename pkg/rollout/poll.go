package rollout

import (
	"context"
	"errors"
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

// poll observes every watch in ws once: DescribeServices in batches of
// ten per cluster, then our service deployments when that API is allowed.
// It reports whether ECS throttled any call; other errors are returned
// after the round, which goes on with what it could read.
func (r *Rollout) poll(ctx context.Context, ws []*watch) (throttled bool, err error) {
	var errs []error
	note := func(e error) {
		if IsThrottle(e) {
			throttled = true
			r.log.DebugContext(ctx, "throttled by ECS", "err", e)
		} else if e != nil {
			errs = append(errs, e)
		}
	}
	for _, w := range ws {
		w.seen = false
	}
	byCluster := map[string][]*watch{}
	var clusters []string
	for _, w := range ws {
		if _, ok := byCluster[w.h.Cluster]; !ok {
			clusters = append(clusters, w.h.Cluster)
		}
		byCluster[w.h.Cluster] = append(byCluster[w.h.Cluster], w)
	}
	for _, c := range clusters {
		for batch := range slices.Chunk(byCluster[c], describeBatch) {
			note(r.describeBatch(ctx, c, batch))
		}
	}
	if !r.noDeploymentsAPI.Load() {
		note(r.readServiceDeployments(ctx, ws))
	}
	if r.noDeploymentsAPI.Load() {
		for _, w := range ws {
			w.sd = nil
		}
	}
	for _, w := range ws {
		if w.seen && !w.done {
			r.observe(ctx, w)
		}
	}
	return throttled, errors.Join(errs...)
}

func (r *Rollout) describeBatch(ctx context.Context, cluster string, batch []*watch) error {
	names := make([]string, len(batch))
	for i, w := range batch {
		names[i] = w.h.Service
	}
	if err := r.limiter.Wait(ctx); err != nil {
		return err
	}
	resp, err := r.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names})
	r.limiter.Observe(err)
	if err != nil {
		return fmt.Errorf("describe services %v in cluster %s: %w", names, cluster, err)
	}
	found := map[string]types.Service{}
	for _, s := range resp.Services {
		for _, k := range serviceKey(cluster, s) {
			found[k] = s
		}
	}
	failures := map[string]string{}
	for _, f := range resp.Failures {
		failures[aws.ToString(f.Arn)] = aws.ToString(f.Reason)
	}
	for _, w := range batch {
		s, ok := found[w.h.ServiceARN]
		if !ok {
			s, ok = found[cluster+"/"+w.h.Service]
		}
		w.res.Polls++
		if !ok {
			r.missing(w, orNone(failures[w.h.ServiceARN]))
			continue
		}
		w.svc, w.seen = s, true
	}
	return nil
}

// readServiceDeployments resolves and reads our service deployments. When
// the API is denied or unsupported, it switches to DescribeServices alone
// for the life of the Rollout.
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
		}
		if w.sdARN != "" {
			arns = append(arns, w.sdARN)
			byARN[w.sdARN] = w
		}
	}
	for batch := range slices.Chunk(arns, describeDeploymentsBatch) {
		if err := r.limiter.Wait(ctx); err != nil {
			return err
		}
		resp, err := r.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: batch})
		r.limiter.Observe(err)
		if err != nil {
			return r.deploymentsAPIError(ctx, fmt.Errorf("describe service deployments: %w", err))
		}
		for i := range resp.ServiceDeployments {
			sd := resp.ServiceDeployments[i]
			if w := byARN[aws.ToString(sd.ServiceDeploymentArn)]; w != nil {
				w.sd = &sd
			}
		}
	}
	return nil
}

// resolveServiceDeployment finds the service deployment created with our
// deployment: the one created closest to it, within a minute.
func (r *Rollout) resolveServiceDeployment(ctx context.Context, h Handle) (string, error) {
	if err := r.limiter.Wait(ctx); err != nil {
		return "", err
	}
	resp, err := r.api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster:   aws.String(h.Cluster),
		Service:   aws.String(h.Service),
		CreatedAt: &types.CreatedAt{After: aws.Time(h.StartedAt.Add(-time.Minute))},
	})
	r.limiter.Observe(err)
	if err != nil {
		return "", fmt.Errorf("list service deployments of %s: %w", h.Service, err)
	}
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

func (r *Rollout) deploymentsAPIError(ctx context.Context, err error) error {
	if IsThrottle(err) || ctx.Err() != nil {
		return err
	}
	if r.noDeploymentsAPI.CompareAndSwap(false, true) {
		r.log.DebugContext(ctx, "service deployments API unavailable", "err", err)
		r.emit(event.Event{Kind: event.Warning, Message: "ECS service deployments API unavailable (" + err.Error() +
			"); following deployments through DescribeServices instead. Allow ecs:ListServiceDeployments and ecs:DescribeServiceDeployments for exact rollback reasons"})
	}
	return nil
}
