package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// Deploy applies an existing release (by id or unique id prefix; the
// latest when empty) to an environment.
func (d *Deployer) Deploy(ctx context.Context, in DeployInput) (*Result, error) {
	s, ctx := d.newSession(ctx)
	if err := in.check(); err != nil {
		return d.early(s, in.Request, err)
	}
	rel, err := d.release(ctx, in.Release)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	return d.apply(ctx, s, operation{req: in.Request, release: rel})
}

// ReleaseDeploy prepares a release from a label and deploys it. A dry run
// resolves the label but stores nothing.
func (d *Deployer) ReleaseDeploy(ctx context.Context, in ReleaseDeployInput) (*Result, error) {
	s, ctx := d.newSession(ctx)
	if err := in.check(); err != nil {
		return d.early(s, in.Request, err)
	}
	pin := PrepareInput{Label: in.Label, RequestedBy: in.RequestedBy, Description: in.Description, CI: in.CI}
	env, err := d.environment(in.Environment)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	op := operation{req: in.Request}
	if !in.DryRun {
		if err := d.checkNotify(env, &op); err != nil {
			return d.early(s, in.Request, err)
		}
		if err := d.checkProtected(ctx, env, op); err != nil {
			return d.earlyFinished(s, in.Request, err)
		}
		op.allowed = true
		// Lock first, so that where the floating tags point, read in the
		// same calls as the label, holds for the plan: one BatchGetImage
		// per repository for the whole deployment. From here on ctx ends
		// when the lock is lost.
		if op.held, ctx, err = d.lock(ctx, env.ID, in.Request); err != nil {
			return d.earlyFinished(s, in.Request, err)
		}
		s.lockHeld(op.held)
	}
	fail := func(err error) (*Result, error) {
		if op.held != nil {
			if rerr := op.held.release(ctx); rerr != nil {
				d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Message: rerr.Error()})
			}
		}
		return d.early(s, in.Request, err)
	}
	rel, err := d.newRelease(ctx, s, pin, env.Tag)
	if err != nil {
		return fail(err)
	}
	if !in.DryRun {
		if err := op.held.do(ctx, func(ctx context.Context) error { return d.store.PutRelease(ctx, rel) }); err != nil {
			return fail(fmt.Errorf("store the new release of %s: %w", d.project.ID, err))
		}
	}
	op.release = rel
	return d.apply(ctx, s, op)
}

// Promote deploys to an environment exactly the release another
// environment runs now. It refuses when the source has no current release
// or has drifted (its tags no longer point at what its record says).
func (d *Deployer) Promote(ctx context.Context, in PromoteInput) (*Result, error) {
	s, ctx := d.newSession(ctx)
	if err := in.check(); err != nil {
		return d.early(s, in.Request, err)
	}
	env, err := d.environment(in.Environment)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	from := in.From
	if from == "" {
		from = env.PromotesFrom
	}
	if from == "" {
		return d.early(s, in.Request, invalid("environment %s has no promotes_from: say which environment to promote from", env.ID))
	}
	if from == env.ID {
		return d.early(s, in.Request, invalid("cannot promote %s to itself", env.ID))
	}
	src, err := d.environment(from)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	cur, err := d.store.GetCurrent(ctx, d.project.ID, src.ID)
	if errors.Is(err, history.ErrNotFound) {
		return d.early(s, in.Request, invalid("environment %s has no current release to promote: deploy to it first", src.ID))
	}
	if err != nil {
		return d.early(s, in.Request, fmt.Errorf("read what %s runs: %w", src.ID, err))
	}
	if drift, err := d.tagDrift(ctx, s, src.ID, src.Tag, cur); err != nil {
		return d.early(s, in.Request, err)
	} else if len(drift) > 0 {
		return d.early(s, in.Request, invalid("environment %s has drifted from its release %s: %s; redeploy it or run `buoy status` before promoting",
			src.ID, cur.ReleaseID, strings.Join(drift, "; ")))
	}
	rel, err := d.release(ctx, cur.ReleaseID)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	return d.apply(ctx, s, operation{req: in.Request, release: rel, promotion: src.ID})
}

// Rollback redeploys the release an environment ran before its current
// one, as recorded: never one that failed or was rolled back from. When
// the newest deployment did not succeed, that is the current record's
// release (the last good one). chooseRollback states the rule; with
// nothing to roll back to, the error says why.
func (d *Deployer) Rollback(ctx context.Context, in RollbackInput) (*Result, error) {
	s, ctx := d.newSession(ctx)
	if err := in.check(); err != nil {
		return d.early(s, in.Request, err)
	}
	if _, err := d.environment(in.Environment); err != nil {
		return d.early(s, in.Request, err)
	}
	deps, err := d.store.ListDeployments(ctx, d.project.ID, in.Environment, 0)
	if err != nil {
		return d.early(s, in.Request, fmt.Errorf("read the deployments of %s: %w", in.Environment, err))
	}
	cur, err := d.store.GetCurrent(ctx, d.project.ID, in.Environment)
	if errors.Is(err, history.ErrNotFound) {
		cur, err = nil, nil
	}
	if err != nil {
		return d.early(s, in.Request, fmt.Errorf("read what %s runs: %w", in.Environment, err))
	}
	choice, err := chooseRollback(in.Environment, cur, deps)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	rel, err := d.release(ctx, choice.release)
	if err != nil {
		return d.early(s, in.Request, err)
	}
	d.emit(event.Event{Kind: event.Plan, Environment: in.Environment, Release: rel.ID, Message: "rollback: " + choice.why})
	return d.apply(ctx, s, operation{req: in.Request, release: rel, rollbackOf: choice.rollbackOf})
}

// release finds a release by id or prefix, or the latest when empty.
func (d *Deployer) release(ctx context.Context, id string) (*history.Release, error) {
	var rel *history.Release
	var err error
	if id == "" {
		rel, err = d.store.LatestRelease(ctx, d.project.ID)
		id = "(latest)"
	} else {
		rel, err = d.store.GetRelease(ctx, d.project.ID, id)
	}
	switch {
	case errors.Is(err, history.ErrNotFound):
		return nil, invalid("release %s of project %s not found: run `buoy history` to list releases", id, d.project.ID)
	case errors.Is(err, history.ErrAmbiguous):
		return nil, invalid("release id %s matches several releases: give more of it", id)
	case err != nil:
		return nil, fmt.Errorf("read release %s: %w", id, err)
	}
	return rel, nil
}

// tagDrift compares where an environment's tags point with its record.
func (d *Deployer) tagDrift(ctx context.Context, s *session, env, tag string, cur *history.Current) ([]string, error) {
	if d.project.SSMImages != nil {
		return d.paramDrift(ctx, s, env, cur)
	}
	refs, err := s.resolve(ctx, d.imagesAt(tag))
	if err != nil {
		return nil, fmt.Errorf("read the tags of %s: %w", env, err)
	}
	var drift []string
	for i, img := range d.project.Images {
		want := cur.Images[img.ID].Digest
		switch {
		case want == "":
			drift = append(drift, fmt.Sprintf("image %s is not in release %s", img.ID, cur.ReleaseID))
		case refs[i] == nil:
			drift = append(drift, fmt.Sprintf("%s:%s does not exist but the release pins %s", img.Repository, tag, shortDigest(want)))
		case refs[i].Digest != want:
			drift = append(drift, fmt.Sprintf("%s:%s points at %s but the release pins %s", img.Repository, tag, shortDigest(refs[i].Digest), shortDigest(want)))
		}
	}
	return drift, nil
}

// earlyFinished is early for an operation that got as far as apply
// would have: it reports the Finished event apply reports.
func (d *Deployer) earlyFinished(s *session, req Request, err error) (*Result, error) {
	res, err := d.early(s, req, err)
	d.emit(event.Event{Kind: event.Finished, Environment: req.Environment, Outcome: string(res.Status),
		Message: "deployment " + string(res.Status) + ": " + err.Error()})
	return res, err
}

// early ends an operation that failed before it could deploy: the Result
// says what is known and nothing was changed.
func (d *Deployer) early(s *session, req Request, err error) (*Result, error) {
	now := d.now()
	return &Result{Project: d.project.ID, Environment: req.Environment, Status: history.StatusFailed,
		Started: now, Finished: now, Stats: s.stats()}, err
}
