package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// poll observes every watch in ws once: DescribeServices in batches of
// ten per cluster, then our service deployments when that API is allowed.
// It reports whether ECS throttled any call; other errors are returned
// after the round, which goes on with what it could read.
func (r *Rollout) poll(ctx context.Context, ws []*watch) (throttled bool, err error) {
	var errs []error
	note := func(e error) {
		if isThrottle(e) {
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
	if r.deploymentsAPI.Load() != apiUnavailable {
		note(r.readServiceDeployments(ctx, ws))
	}
	if r.deploymentsAPI.Load() == apiUnavailable {
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
	if err := r.budget.Wait(ctx, "DescribeServices"); err != nil {
		return err
	}
	resp, err := r.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: names})
	r.budget.Observe("DescribeServices", err)
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
