package deploy

import (
	"context"
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/registry"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

// WithSSM replaces the SSM client of each target (default: the SDK's),
// used to publish /{project}/images/{environment}/{image}.
func WithSSM(f func(ClusterParams) (ssmparam.SSMAPI, error)) Option {
	return func(d *Deployer) { d.newSSM = f }
}

func defaultSSM(p ClusterParams) (ssmparam.SSMAPI, error) {
	return ssmparam.NewFromConfig(p.Config), nil
}

// publishSSM writes the release's image URIs to SSM in the region and
// account of every target of the environment.
func (d *Deployer) publishSSM(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	if d.project.SSMImages != nil {
		return d.writeParams(ctx, s, p, depID, t)
	}
	images := map[string]string{}
	for _, pi := range p.images {
		images[pi.image.ID] = ssmparam.ImageURI(pi.to.Repository, pi.to.Digest)
	}
	done := map[string]bool{}
	for _, t := range p.env.Targets {
		key := t.Region + "|" + t.RoleARN
		if done[key] {
			continue
		}
		done[key] = true
		client, err := d.ssmClient(ctx, s, t)
		if err != nil {
			return err
		}
		var results []ssmparam.Result
		err = s.lease.do(ctx, func(ctx context.Context) (err error) {
			results, err = ssmparam.Publish(ctx, client, d.project.ID, p.env.ID, images)
			return err
		})
		if err != nil {
			return fmt.Errorf("publish the images of %s to SSM in region %q: %w", p.env.ID, t.Region, err)
		}
		for _, r := range results {
			if r.Changed {
				d.emit(event.Event{Kind: event.TagMoved, Environment: p.env.ID, Deployment: depID, Image: r.Image,
					To: r.Value, Message: fmt.Sprintf("SSM %s = %s", r.Name, r.Value)})
			}
		}
	}
	return nil
}

// auditTags adds the deployment's immutable audit tag to every image, so
// that ECR alone shows what ran when. A failure is a warning.
func (d *Deployer) auditTags(ctx context.Context, s *session, p *plan, depID string) {
	tag := registry.AuditTag(p.env.Tag, d.now())
	for _, pi := range p.images {
		reg, err := s.registry(ctx, pi.image)
		if err == nil {
			err = s.lease.do(ctx, func(ctx context.Context) error {
				_, err := reg.Tag(ctx, pi.image, pi.to, tag)
				return err
			})
		}
		if err != nil {
			d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID, Image: pi.image.ID,
				Message: fmt.Sprintf("could not add the audit tag %s to %s: %v", tag, pi.image.Repository, err)})
		}
	}
}

// afterSuccess publishes what an environment now runs, where configured.
func (d *Deployer) afterSuccess(ctx context.Context, s *session, p *plan, depID string) {
	if p.env.PublishSSM && p.env.Strategy != manifest.StrategySSM {
		if err := d.publishSSM(ctx, s, p, depID, untracked{}); err != nil {
			d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID, Message: err.Error()})
		}
	}
	if p.env.AuditTag {
		d.auditTags(ctx, s, p, depID)
	}
}
