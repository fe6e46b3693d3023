package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

// This file deploys SSM-era projects (manifest.Project.SSMImages): a
// release is read from the image URIs CI wrote under a label, pinned by
// digest, and a deployment writes /{project}/images/{environment}/{image}
// for the Terraform stacks that read it, as weco-deploy did. No tag moves
// and no ECS service is touched.

// ssmTarget is where an SSM-era project's parameters are read and
// written: the project's region, through its role (the legacy role_arn
// and region).
func (d *Deployer) ssmTarget() manifest.Target {
	return manifest.Target{Region: d.project.Registry.Region, RoleARN: d.project.Registry.RoleARN}
}

// ssmClient returns an SSM client for the region and role of t.
func (d *Deployer) ssmClient(ctx context.Context, s *session, t manifest.Target) (ssmparam.SSMAPI, error) {
	cfg, err := s.config(ctx, manifest.Target{Region: t.Region, RoleARN: t.RoleARN})
	if err != nil {
		return nil, err
	}
	client, err := d.newSSM(ClusterParams{Config: cfg, Target: t, Sink: d.sink, Logger: d.log, Clock: d.clock})
	if err != nil {
		return nil, fmt.Errorf("SSM client for region %q: %w", t.Region, err)
	}
	return client, nil
}

// releaseFromSSM makes a release of an SSM-era project from the images
// under /{project}/images/{label}: one per parameter, named by its last
// segment, each pinned by digest.
func (d *Deployer) releaseFromSSM(ctx context.Context, s *session, in PrepareInput, label string) (*history.Release, error) {
	if strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
		return nil, invalid("label %q cannot name an SSM path: use letters, digits, '_', '.' or '-', e.g. latest", label)
	}
	path := d.project.SSMImages.Path(label)
	client, err := d.ssmClient(ctx, s, d.ssmTarget())
	if err != nil {
		return nil, err
	}
	params, err := ssmparam.Read(ctx, client, path)
	if err != nil {
		return nil, fmt.Errorf("read the images of label %s: %w", label, err)
	}
	if len(params) == 0 {
		return nil, invalid("no image parameters under %s in SSM%s: CI writes one String parameter per image there, %s/<image> = <image URI>; check the label (--from-label) and the project id",
			path, regionNote(d.ssmTarget().Region), path)
	}
	images, err := d.pinSSMImages(ctx, s, path, params)
	if err != nil {
		return nil, err
	}
	return &history.Release{
		Project:     d.project.ID,
		CreatedAt:   d.now(),
		RequestedBy: in.RequestedBy,
		Description: in.Description,
		Label:       label,
		CI:          in.CI,
		Images:      images,
	}, nil
}

func regionNote(region string) string {
	if region == "" {
		return ""
	}
	return " (region " + region + ")"
}

// pinSSMImages pins every parameter's image by digest: a URI already
// pinned is kept; an ECR URI with a tag is resolved in ECR, in the
// account and region it names (one BatchGetImage per repository); any
// other URI is refused, since buoy cannot pin it.
func (d *Deployer) pinSSMImages(ctx context.Context, s *session, path string, params []ssmparam.Parameter) (map[string]history.ImageRef, error) {
	images := map[string]history.ImageRef{}
	var problems []string
	var queries []ImageQuery
	var asked []ssmparam.Parameter
	var refs []imageref.Reference
	for _, p := range params {
		ref, err := imageref.Parse(p.Value)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", p.Name, err))
			continue
		}
		if ref.Digest() != "" {
			images[p.Image] = history.ImageRef{Repository: ref.Name(), Tag: ref.Tag(), Digest: ref.Digest()}
			continue
		}
		account, region, ok := ref.ECR()
		if !ok {
			problems = append(problems, fmt.Sprintf("%s = %s names only a tag, outside ECR, so buoy cannot pin it: write it pinned by digest, %s@sha256:<digest>",
				p.Name, p.Value, ref.Name()))
			continue
		}
		img := &manifest.Image{ID: p.Image, Repository: ref.Repository(), Registry: manifest.Registry{AccountID: account, Region: region}}
		queries = append(queries, ImageQuery{Image: img, Tag: ref.Tag()})
		asked, refs = append(asked, p), append(refs, ref)
	}
	if len(problems) > 0 {
		return nil, invalid("the images under %s in SSM: %s", path, strings.Join(problems, "; "))
	}
	found, err := s.resolve(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("pin the images under %s by digest: %w", path, err)
	}
	var missing []string
	for i, f := range found {
		if f == nil {
			missing = append(missing, fmt.Sprintf("%s (%s, in %s)", asked[i].Image, asked[i].Value, asked[i].Name))
			continue
		}
		images[asked[i].Image] = history.ImageRef{Repository: refs[i].Name(), Tag: refs[i].Tag(), Digest: f.Digest, MediaType: f.MediaType}
	}
	if len(missing) > 0 {
		return nil, &MissingError{What: "image", Names: missing,
			Hint: "ECR has no image under those tags: push them, or point the parameters at images that exist"}
	}
	return images, nil
}

// planParams plans a deployment of an SSM-era project: per image of the
// release, the parameter /{project}/images/{environment}/{image}, what it
// holds now and whether it changes. The release's ECR images must still
// exist (one BatchGetImage per repository).
func (d *Deployer) planParams(ctx context.Context, s *session, p *plan) error {
	if len(p.release.Images) == 0 {
		return invalid("release %s has no images: prepare a new release", p.release.ID)
	}
	values := map[string]string{}
	var queries []ImageQuery
	for _, id := range slices.Sorted(maps.Keys(p.release.Images)) {
		to := p.release.Images[id]
		ref, err := imageref.Parse(ssmparam.ImageURI(to.Repository, to.Digest))
		if err != nil {
			return invalid("release %s pins image %s as %s@%s, which is not an image reference: prepare a new release", p.release.ID, id, to.Repository, to.Digest)
		}
		img := &manifest.Image{ID: id, Repository: ref.Repository()}
		if account, region, ok := ref.ECR(); ok {
			img.Registry = manifest.Registry{AccountID: account, Region: region}
			queries = append(queries, ImageQuery{Image: img, Digest: to.Digest})
		}
		p.images = append(p.images, &plannedImage{image: img, to: to})
		values[id] = ssmparam.ImageURI(to.Repository, to.Digest)
	}
	found, err := s.resolve(ctx, queries)
	if err != nil {
		return err
	}
	var missing []string
	for i, f := range found {
		if f == nil {
			q := queries[i]
			missing = append(missing, fmt.Sprintf("%s (%s@%s)", q.Image.ID, q.Image.Repository, q.Digest))
		}
	}
	if len(missing) > 0 {
		return &MissingError{What: "image", Names: missing,
			Hint: "the release's digests are gone from ECR (deleted by a lifecycle policy?); prepare a new release"}
	}
	client, err := d.ssmClient(ctx, s, d.ssmTarget())
	if err != nil {
		return err
	}
	planned, err := ssmparam.Plan(ctx, client, d.project.ID, p.env.ID, values)
	if err != nil {
		return fmt.Errorf("read the SSM parameters of %s: %w", p.env.ID, err)
	}
	for _, r := range planned {
		pi := p.image(r.Image)
		pi.param, pi.previous, pi.move = r.Name, r.Previous, r.Changed
		pi.from = pinnedDigest(r.Previous)
	}
	return nil
}

// pinnedDigest returns the digest an image URI is pinned to, or "".
func pinnedDigest(uri string) string {
	ref, err := imageref.Parse(uri)
	if err != nil {
		return ""
	}
	return ref.Digest()
}

// writeParams writes the parameters planParams found changed, and marks
// each image done once its parameter holds the release's URI.
func (d *Deployer) writeParams(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	client, err := d.ssmClient(ctx, s, d.ssmTarget())
	if err != nil {
		return err
	}
	results := make([]ssmparam.Result, 0, len(p.images))
	for _, pi := range p.images {
		results = append(results, ssmparam.Result{Image: pi.image.ID, Name: pi.param,
			Value: ssmparam.ImageURI(pi.to.Repository, pi.to.Digest), Previous: pi.previous, Changed: pi.move})
	}
	var applied []ssmparam.Result
	err = s.lease.do(ctx, func(actx context.Context) (err error) {
		t.note(ctx, false, func() {
			for _, pi := range p.images {
				pi.sent = pi.sent || pi.move
			}
		})
		applied, err = ssmparam.Apply(actx, client, p.env.ID, results)
		return err
	})
	t.note(ctx, len(applied) > 0, func() {
		for _, r := range applied {
			pi := p.image(r.Image)
			pi.done, pi.moved = true, pi.moved || r.Changed
		}
		if err != nil {
			for _, pi := range p.images {
				if pi.sent && !pi.done {
					pi.refused = refused(err)
				}
			}
		}
	})
	for _, r := range applied {
		if r.Changed {
			pi := p.image(r.Image)
			d.emit(event.Event{Kind: event.TagMoved, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
				Image: r.Image, From: pi.from, To: pi.to.Digest, Message: fmt.Sprintf("SSM %s = %s", r.Name, r.Value)})
		}
	}
	if err != nil {
		return fmt.Errorf("write the images of %s to SSM%s: %w", p.env.ID, regionNote(d.ssmTarget().Region), err)
	}
	return nil
}

// paramStatus adds to es, for an SSM-era project, what SSM holds for the
// environment beside what its current release pins, and the drift
// between them.
func (d *Deployer) paramStatus(ctx context.Context, s *session, env string, cur *history.Current, es *EnvironmentStatus) error {
	client, err := d.ssmClient(ctx, s, d.ssmTarget())
	if err != nil {
		return err
	}
	params, err := ssmparam.Read(ctx, client, d.project.SSMImages.Path(env))
	if err != nil {
		return fmt.Errorf("read what SSM holds for %s: %w", env, err)
	}
	held := map[string]ssmparam.Parameter{}
	for _, p := range params {
		held[p.Image] = p
	}
	ids := slices.Collect(maps.Keys(held))
	if cur != nil {
		for id := range cur.Images {
			if _, ok := held[id]; !ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		is := ImageStatus{Image: id, Parameter: d.project.SSMImages.Name(env, id)}
		p, inSSM := held[id]
		if inSSM {
			is.Parameter, is.Published = p.Name, p.Value
			if ref, err := imageref.Parse(p.Value); err == nil {
				is.Repository = ref.Name()
			}
		}
		want, recorded := history.ImageRef{}, false
		if cur != nil {
			want, recorded = cur.Images[id]
		}
		if recorded {
			is.Repository, is.Recorded = want.Repository, want.Digest
		}
		uri := ssmparam.ImageURI(want.Repository, want.Digest)
		switch {
		case cur == nil:
		case !recorded:
			es.Drift = append(es.Drift, fmt.Sprintf("SSM %s holds %s, but release %s has no image %s", is.Parameter, p.Value, cur.ReleaseID, id))
		case !inSSM:
			es.Drift = append(es.Drift, fmt.Sprintf("SSM %s does not exist, but release %s pins %s", is.Parameter, cur.ReleaseID, uri))
		case p.Value != uri:
			es.Drift = append(es.Drift, fmt.Sprintf("SSM %s holds %s, but release %s pins %s", is.Parameter, p.Value, cur.ReleaseID, uri))
		}
		es.Images = append(es.Images, is)
	}
	return nil
}

// paramDrift compares what SSM holds for an SSM-era environment with its
// current record.
func (d *Deployer) paramDrift(ctx context.Context, s *session, env string, cur *history.Current) ([]string, error) {
	es := &EnvironmentStatus{}
	if err := d.paramStatus(ctx, s, env, cur, es); err != nil {
		return nil, err
	}
	return es.Drift, nil
}
