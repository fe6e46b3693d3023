package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// plan is what a deployment will do: per image the tag move, per service
// whether it is redeployed and why.
type plan struct {
	env      *manifest.Environment
	release  *history.Release
	images   []*plannedImage
	services []*plannedService
	// tasks are the environment's pre_deploy tasks, run before any tag
	// moves.
	tasks []*plannedTask
}

type plannedImage struct {
	image *manifest.Image
	to    history.ImageRef // the release's image
	from  string           // digest the floating tag points at now; "" if none
	// before is, when the tag already points at the release (a dead run
	// or a person moved it), the digest it pointed at before that: where
	// a rollback returns it. "" if unknown.
	before string
	move   bool
	moved  bool // set once the tag points at to
	done   bool
	// param, for an SSM-era project, is the SSM parameter written instead
	// of moving a tag (move: it changes; moved: it was written), and
	// previous the value it held before ("" if none).
	param, previous string
	// sent: the move's request was made; until done or refused, whether
	// it was applied is unknown.
	sent    bool
	refused bool // AWS answered the move with an error: it was not made
}

type plannedService struct {
	id       string // service id from the manifest
	target   manifest.Target
	ref      ServiceRef
	images   []string // ids of the images that feed it
	redeploy bool
	why      string
	// adopt, when set, is the ECS deployment a dead run started for the
	// service, which this run follows instead of redeploying if ECS
	// still rolls it out.
	adopt *Adoption

	// sent: the update's request was made; until started or refused,
	// whether ECS applied it is unknown.
	sent    bool
	refused bool // ECS answered the update with an error: it was not made
	started *Started
	outcome *Outcome
}

// preflight checks that the release's images and the environment's
// services exist and fit together, and plans the deployment. resumed is
// the record of a run that died half way, if any.
func (d *Deployer) preflight(ctx context.Context, s *session, env *manifest.Environment, rel *history.Release, resumed *history.Deployment) (*plan, error) {
	p := &plan{env: env, release: rel}
	if err := d.planImages(ctx, s, p); err != nil {
		return nil, err
	}
	if err := d.findServices(ctx, s, p); err != nil {
		return nil, err
	}
	if err := d.planTasks(ctx, s, p); err != nil {
		return nil, err
	}
	current, err := d.store.GetCurrent(ctx, d.project.ID, env.ID)
	if err != nil && !errors.Is(err, history.ErrNotFound) {
		return nil, fmt.Errorf("read what environment %s runs now: %w", env.ID, err)
	}
	d.decideRedeploys(p, current, resumed)
	p.noteWhatRanBefore(current, resumed)
	return p, nil
}

// noteWhatRanBefore finds, for each tag that already points at the
// release, the digest a rollback returns it to: the one it pointed at
// before the dead run that moved it (from that run's record), else the
// one the environment's current record names.
func (p *plan) noteWhatRanBefore(current *history.Current, resumed *history.Deployment) {
	for _, pi := range p.images {
		if pi.move {
			continue
		}
		if resumed != nil {
			if tm := resumed.Images[pi.image.ID]; tm.To == pi.to.Digest && tm.From != "" && tm.From != tm.To {
				pi.before = tm.From
				continue
			}
		}
		if current != nil {
			if d := current.Images[pi.image.ID].Digest; d != "" && d != pi.to.Digest {
				pi.before = d
			}
		}
	}
}

func (d *Deployer) planImages(ctx context.Context, s *session, p *plan) error {
	if d.project.SSMImages != nil {
		return d.planParams(ctx, s, p)
	}
	var queries []ImageQuery
	var missingInRelease []string
	for _, img := range d.project.Images {
		ref, ok := p.release.Images[img.ID]
		if !ok {
			missingInRelease = append(missingInRelease, img.ID)
			continue
		}
		p.images = append(p.images, &plannedImage{image: img, to: ref})
		queries = append(queries,
			ImageQuery{Image: img, Digest: ref.Digest},
			ImageQuery{Image: img, Tag: p.env.Tag})
	}
	if len(missingInRelease) > 0 {
		return invalid("release %s has no digest for image %s (the manifest changed since it was made): prepare a new release",
			p.release.ID, strings.Join(missingInRelease, ", "))
	}
	refs, err := s.resolve(ctx, queries)
	if err != nil {
		return err
	}
	var missing []string
	for i, pi := range p.images {
		if refs[2*i] == nil {
			missing = append(missing, fmt.Sprintf("%s (%s@%s)", pi.image.ID, pi.image.Repository, pi.to.Digest))
		}
		if tagged := refs[2*i+1]; tagged != nil {
			pi.from = tagged.Digest
		}
		pi.move = pi.from != pi.to.Digest
	}
	if len(missing) > 0 {
		return &MissingError{What: "image", Names: missing,
			Hint: "the release's digests are gone from ECR (deleted by a lifecycle policy?); prepare a new release"}
	}
	return nil
}

func (d *Deployer) findServices(ctx context.Context, s *session, p *plan) error {
	var problems []string
	var missing []*MissingError
	for _, t := range p.env.Targets {
		svcs := d.project.ServicesOf(t)
		if len(svcs) == 0 {
			continue // nothing to find (an SSM-era project has no services)
		}
		c, err := s.cluster(ctx, t)
		if err != nil {
			return err
		}
		found, err := c.Find(ctx, findInput(p.env, svcs))
		var me *MissingError
		if errors.As(err, &me) {
			missing = append(missing, me)
			continue
		}
		if err != nil {
			return fmt.Errorf("find the services of environment %s in %s: %w", p.env.ID, where(t), err)
		}
		byKey := map[string]ServiceRef{}
		for _, f := range found {
			byKey[f.Key] = f
		}
		for _, svc := range svcs {
			ref, ok := byKey[p.env.ServiceName(svc)]
			if !ok {
				missing = append(missing, &MissingError{What: "service", Names: []string{p.env.ServiceName(svc)}, Where: where(t)})
				continue
			}
			ps := &plannedService{id: svc.ID, target: t, ref: ref}
			for _, img := range d.project.ImagesFeeding(svc.ID) {
				ps.images = append(ps.images, img.ID)
			}
			problems = append(problems, d.checkContainers(p, ps)...)
			p.services = append(p.services, ps)
		}
	}
	if len(missing) > 0 {
		all := &MissingError{What: "service", Hint: "check the service names in the manifest and the targets' clusters, regions and accounts"}
		var where []string
		for _, m := range missing {
			all.Names = append(all.Names, m.Names...)
			if m.Where != "" && !slices.Contains(where, m.Where) {
				where = append(where, m.Where)
			}
		}
		all.Where = strings.Join(where, ", ")
		return all
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	return nil
}

// findInput asks a Cluster for svcs as env finds them.
func findInput(env *manifest.Environment, svcs []*manifest.Service) FindInput {
	in := FindInput{ByTags: env.FindByTags, Environment: env.ID}
	for _, svc := range svcs {
		in.Names = append(in.Names, env.ServiceName(svc))
	}
	return in
}

// checkContainers says how a service's task definition does not fit the
// images that feed it: each must be used by a container, and with the tag
// strategy, through the floating tag.
func (d *Deployer) checkContainers(p *plan, ps *plannedService) []string {
	var problems []string
	for _, id := range ps.images {
		pi := p.image(id)
		uses, viaTag := false, false
		var seen []string
		for _, img := range ps.ref.Containers {
			seen = append(seen, img)
			ref, ok := ofImage(img, pi.to.Repository, pi.image.Repository)
			if !ok {
				continue
			}
			uses = true
			if ref.Digest() == "" && ref.Tag() == p.env.Tag {
				viaTag = true
			}
		}
		slices.Sort(seen)
		switch {
		case !uses:
			problems = append(problems, fmt.Sprintf("service %s (task definition %s) does not use image %s (%s); its containers use %s: fix the image's services in the manifest or the task definition",
				ps.ref.Name, ps.ref.TaskDefinition, id, pi.image.Repository, strings.Join(seen, ", ")))
		case p.env.Strategy == manifest.StrategyTag || p.env.Strategy == "":
			if !viaTag {
				problems = append(problems, fmt.Sprintf("service %s uses %s without the tag %s, so moving the tag would not change it: point its task definition at %s:%s, or use the task-definition strategy",
					ps.ref.Name, pi.image.Repository, p.env.Tag, pi.image.Repository, p.env.Tag))
			}
		}
	}
	return problems
}

func (p *plan) image(id string) *plannedImage {
	for _, pi := range p.images {
		if pi.image.ID == id {
			return pi
		}
	}
	return nil
}

// decideRedeploys says which services need a new ECS deployment.
//
// A service is redeployed when a tag feeding it moves; or, although its
// tags already point at the release, the environment's current record
// does not show this release rolled out there (a run that died after
// moving tags, or tags moved by hand); or a dead run's record shows it
// unfinished. With the task-definition strategy, a service is redeployed
// unless its task definition already pins the release's digests. With the
// ssm strategy, nothing is redeployed.
func (d *Deployer) decideRedeploys(p *plan, current *history.Current, resumed *history.Deployment) {
	for _, ps := range p.services {
		ps.redeploy, ps.why = p.needsRedeploy(ps, current, resumed)
		if ps.redeploy {
			ps.adopt = p.adoption(ps, resumed)
		}
		if ps.adopt != nil {
			ps.why += fmt.Sprintf("; adopts ECS deployment %s, which that run started, if ECS still rolls it out", ps.adopt.ECSDeployment)
		}
	}
}

// adoption returns the ECS deployment of ps that the dead run resumed
// started, when this run may follow it instead of starting another: the
// dead run deployed this release (sameRelease), was not rolling back, updated ps (its
// record has the ECS deployment id, and did not see it fail), and every
// tag feeding ps points at the release's digest, moved there by the
// dead run before it updated ps. The service must still run the task
// definition the dead run deployed (with the task-definition strategy,
// the revision it registered, which pins the release's digests). Whether
// ECS still rolls the deployment out is the Adopter's to check.
func (p *plan) adoption(ps *plannedService, resumed *history.Deployment) *Adoption {
	if resumed == nil || !p.sameRelease(resumed) || strings.HasPrefix(resumed.Reason, rollingBackPrefix) {
		return nil
	}
	so, ok := recordedService(resumed, ps.ref)
	if !ok || so.ECSDeployment == "" || so.TaskDefinition == "" ||
		(so.Outcome != history.StatusInProgress && so.Outcome != history.StatusSucceeded) {
		return nil
	}
	for _, id := range ps.images {
		pi, tm := p.image(id), resumed.Images[id]
		if pi.move || !tm.Done || tm.To != pi.to.Digest {
			return nil
		}
	}
	if p.env.Strategy == manifest.StrategyTaskDefinition && (ps.ref.TaskDefinition != so.TaskDefinition || p.unpinned(ps) != "") {
		return nil
	}
	return &Adoption{ECSDeployment: so.ECSDeployment, TaskDefinition: so.TaskDefinition,
		PreviousTaskDefinition: so.PreviousTaskDefinition, From: resumed.ID}
}

// sameRelease reports whether dep deployed the plan's release: the same
// id, or (release-deploy makes a release per run) the same digest for
// every image, as dep's tag moves record them.
func (p *plan) sameRelease(dep *history.Deployment) bool {
	if dep.ReleaseID == p.release.ID {
		return true
	}
	if len(dep.Images) != len(p.images) {
		return false
	}
	for _, pi := range p.images {
		if dep.Images[pi.image.ID].To != pi.to.Digest {
			return false
		}
	}
	return true
}

// recordedService finds ref's entry in a deployment record.
func recordedService(dep *history.Deployment, ref ServiceRef) (history.ServiceOutcome, bool) {
	for _, so := range dep.Services {
		if so.Service == ref.Name && so.Cluster == ref.Cluster && (so.Region == "" || ref.Region == "" || so.Region == ref.Region) {
			return so, true
		}
	}
	return history.ServiceOutcome{}, false
}

// unpinned returns the first image feeding ps that its task definition
// does not pin to the release's digest, or "".
func (p *plan) unpinned(ps *plannedService) string {
	for _, id := range ps.images {
		pi := p.image(id)
		pinned := false
		for _, img := range ps.ref.Containers {
			if ref, ok := ofImage(img, pi.to.Repository, pi.image.Repository); ok && ref.Digest() == pi.to.Digest {
				pinned = true
			}
		}
		if !pinned {
			return id
		}
	}
	return ""
}

func (p *plan) needsRedeploy(ps *plannedService, current *history.Current, resumed *history.Deployment) (bool, string) {
	switch p.env.Strategy {
	case manifest.StrategySSM:
		return false, "the ssm strategy leaves redeploying to another tool"
	case manifest.StrategyTaskDefinition:
		if id := p.unpinned(ps); id != "" {
			return true, "its task definition does not pin " + id + " to the release's digest"
		}
		if unfinished(ps, resumed) {
			return true, "its task definition pins the release's digests, but the run of deployment " + resumed.ID + " did not see ECS finish rolling it out"
		}
		return false, "its task definition already pins the release's digests"
	}
	for _, id := range ps.images {
		if p.image(id).move {
			return true, "the tag of " + id + " moves"
		}
	}
	if current == nil {
		return true, "no deployment to this environment is recorded"
	}
	for _, id := range ps.images {
		if current.Images[id].Digest != p.image(id).to.Digest {
			return true, "the tags already point at the release, but the record does not show it rolled out"
		}
	}
	if unfinished(ps, resumed) {
		return true, "the run of deployment " + resumed.ID + " did not finish it"
	}
	return false, "it already runs this release"
}

// unfinished reports whether the dead run's record shows ps unfinished.
func unfinished(ps *plannedService, resumed *history.Deployment) bool {
	if resumed == nil {
		return false
	}
	for _, so := range resumed.Services {
		if so.Service == ps.ref.Name && so.Cluster == ps.ref.Cluster && so.Outcome != history.StatusSucceeded {
			return true
		}
	}
	return false
}

// ofImage parses a container's image (as a task definition or a task
// names it) and reports whether it is of a manifest image: of the
// repository uri (the release's, "" when unknown), or of the manifest's
// repository name in any registry.
func ofImage(container, uri, name string) (imageref.Reference, bool) {
	ref, err := imageref.Parse(container)
	if err != nil {
		return ref, false
	}
	if repo, err := imageref.Parse(uri); err == nil && imageref.SameRepository(ref, repo) {
		return ref, true
	}
	return ref, ref.NameAsWritten() == name || ref.Repository() == name
}

// emitPlan reports the plan, one event per pre_deploy task, image and
// service.
func (d *Deployer) emitPlan(p *plan, deploymentID string) {
	d.emitTaskPlans(p, deploymentID)
	for _, pi := range p.images {
		where := p.env.Tag
		if pi.param != "" {
			where = pi.param
		}
		msg := fmt.Sprintf("%s: %s %s -> %s", pi.image.ID, where, shortDigest(pi.from), shortDigest(pi.to.Digest))
		if !pi.move {
			msg = fmt.Sprintf("%s: %s already at %s", pi.image.ID, where, shortDigest(pi.to.Digest))
		}
		d.emit(event.Event{Kind: event.Plan, Environment: p.env.ID, Release: p.release.ID, Deployment: deploymentID,
			Image: pi.image.ID, From: pi.from, To: pi.to.Digest, Message: msg})
	}
	for _, ps := range p.services {
		verb := "redeploy"
		if !ps.redeploy {
			verb = "leave"
		}
		d.emit(event.Event{Kind: event.Plan, Environment: p.env.ID, Release: p.release.ID, Deployment: deploymentID,
			Service: ps.ref.Name, Cluster: ps.ref.Cluster, Message: fmt.Sprintf("%s %s: %s", verb, ps.ref.Name, ps.why)})
	}
}

// shortDigest shortens sha256:abcdef... to its first 12 hex digits.
func shortDigest(d string) string {
	if d == "" {
		return "(none)"
	}
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}
