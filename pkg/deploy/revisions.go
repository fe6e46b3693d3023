package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/eventrules"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// RevisionCleaner is a Cluster that can deregister old task definition
// revisions (an environment's keep_revisions). The default Cluster is
// one; with a Cluster that is not, no revision is deregistered.
type RevisionCleaner interface {
	// CleanupRevisions deregisters the ACTIVE revisions of family
	// beyond the keep newest that nothing uses in the target's account
	// and Region (a service or a running task of any cluster, an
	// EventBridge rule) and that are not in inUse, and returns those it
	// deregistered. When what uses a revision cannot all be read, it
	// deregisters none.
	CleanupRevisions(ctx context.Context, family string, keep int, inUse []string) ([]string, error)
}

var _ RevisionCleaner = (*ecsCluster)(nil)

// CleanupRevisions deregisters old revisions with rollout.Cleanup, adding
// to inUse the task definitions the EventBridge rules of the target's
// account and Region run.
func (c *ecsCluster) CleanupRevisions(ctx context.Context, family string, keep int, inUse []string) ([]string, error) {
	if c.rules == nil {
		return nil, fmt.Errorf("clean up the revisions of %s: the EventBridge rules, which may run one, cannot be read here", family)
	}
	scheduled, err := c.rules.TaskDefinitions(ctx)
	if err != nil {
		return nil, fmt.Errorf("clean up the revisions of %s: read the EventBridge rules, which may run one: %w", family, err)
	}
	return c.r.Cleanup(ctx, rollout.CleanupInput{Family: family, Keep: keep, InUse: append(slices.Clip(inUse), scheduled...)})
}

// cleanupRevisions, after a successful rollout under the task-definition
// strategy with keep_revisions, deregisters in each target the old
// revisions of each family it deployed, keeping the keep_revisions
// newest, what this deployment deployed and replaced, and whatever is in
// use. What it cannot do is a warning: the deployment succeeded.
func (d *Deployer) cleanupRevisions(ctx context.Context, s *session, p *plan, depID string) {
	keep := p.env.KeepRevisions
	if p.env.Strategy != manifest.StrategyTaskDefinition || keep <= 0 {
		return
	}
	type family struct {
		target manifest.Target
		name   string
		inUse  []string
	}
	var families []*family
	for _, ps := range p.services {
		if ps.started == nil {
			continue
		}
		name := familyOf(ps.started.TaskDefinition)
		i := slices.IndexFunc(families, func(f *family) bool { return f.name == name && targetKey(f.target) == targetKey(ps.target) })
		if i < 0 {
			families = append(families, &family{target: ps.target, name: name})
			i = len(families) - 1
		}
		families[i].inUse = append(families[i].inUse, ps.started.TaskDefinition, ps.started.PreviousTaskDefinition)
	}
	for _, f := range families {
		warn := func(err error) {
			d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID,
				Message: fmt.Sprintf("old revisions of %s not all cleaned up (keep_revisions: %d): %v", f.name, keep, err)})
		}
		c, err := s.cluster(ctx, f.target)
		if err != nil {
			warn(err)
			continue
		}
		rc, ok := c.(RevisionCleaner)
		if !ok {
			continue
		}
		var gone []string
		err = s.lease.do(ctx, func(actx context.Context) (err error) {
			gone, err = rc.CleanupRevisions(actx, f.name, keep, f.inUse)
			return err
		})
		for _, arn := range gone {
			d.emit(event.Event{Kind: event.Progress, Environment: p.env.ID, Deployment: depID, From: arn,
				Message: fmt.Sprintf("deregistered old revision %s (keep_revisions: %d)", arn[strings.LastIndex(arn, "/")+1:], keep)})
		}
		if err != nil {
			warn(err)
		}
	}
}

// familyOf returns the family of a task definition ARN (or of
// family:revision).
func familyOf(taskDefinition string) string {
	name := taskDefinition[strings.LastIndex(taskDefinition, "/")+1:]
	family, _, _ := strings.Cut(name, ":")
	return family
}

// rulesReader reads the task definitions EventBridge rules run.
type rulesReader interface {
	TaskDefinitions(ctx context.Context) ([]string, error)
}

var _ rulesReader = (*eventrules.Reader)(nil)
