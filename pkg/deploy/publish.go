package deploy

import (
	"context"
	"fmt"
	"slices"

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

// publishPlaces returns where publish_ssm writes an environment's
// parameters: the region and role of each of its targets, once each. A
// target limited to some services (a legacy service's own role_arn or
// region_name) publishes nothing of its own: a legacy project publishes
// in its own region through its own role, as weco-deploy did, where its
// stacks read the parameters.
func publishPlaces(project *manifest.Project, env *manifest.Environment) []manifest.Target {
	var out []manifest.Target
	for _, t := range env.Targets {
		place := manifest.Target{Region: t.Region, RoleARN: t.RoleARN}
		if len(t.Services) > 0 {
			place = manifest.Target{Region: project.Registry.Region, RoleARN: project.Registry.RoleARN}
		}
		if !slices.ContainsFunc(out, func(o manifest.Target) bool { return o.Region == place.Region && o.RoleARN == place.RoleARN }) {
			out = append(out, place)
		}
	}
	return out
}

// publishSSM writes the release's image URIs to SSM in the region and
// account of every target of the environment (publishPlaces).
func (d *Deployer) publishSSM(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	if d.project.SSMImages != nil {
		return d.writeParams(ctx, s, p, depID, t)
	}
	images := map[string]string{}
	for _, pi := range p.images {
		images[pi.image.ID] = ssmparam.ImageURI(pi.to.Repository, pi.to.Digest)
	}
	for _, t := range publishPlaces(d.project, p.env) {
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
