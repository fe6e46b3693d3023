package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// operation is one deployment to run: which release, where, and why.
type operation struct {
	req        Request
	release    *history.Release
	promotion  string // source environment of a promotion
	rollbackOf string // deployment id a rollback undoes
	// held is the environment's lock when the caller took it already
	// (ReleaseDeploy, to read the tags once under it).
	held *heldLock
	// allowed says the caller decided already that the environment's
	// protection allows the deployment (ReleaseDeploy, before it locks).
	allowed bool
	// notify are the environment's notify targets, their secrets
	// resolved, once notifyChecked (checkNotify).
	notify        []notifyTarget
	notifyChecked bool
}

// apply runs a deployment (or, with DryRun, only plans it). It returns a
// non-nil Result whenever it got as far as knowing the environment.
func (d *Deployer) apply(ctx context.Context, s *session, op operation) (*Result, error) {
	res := &Result{Project: d.project.ID, Environment: op.req.Environment, Release: op.release, Started: d.now()}
	finish := func(err error) (*Result, error) {
		res.Finished = d.now()
		res.Stats = s.stats()
		outcome := string(res.Status)
		msg := finishedMessage(outcome, err)
		d.emit(event.Event{Kind: event.Finished, Environment: res.Environment, Release: releaseID(op.release),
			Deployment: deploymentID(res.Deployment), Outcome: outcome, Message: msg})
		return res, err
	}
	env, err := d.environment(op.req.Environment)
	if err != nil {
		res.Status = history.StatusFailed
		return finish(err)
	}
	if !op.allowed {
		if err := d.checkProtected(ctx, env, op); err != nil {
			res.Status = history.StatusFailed
			return finish(err)
		}
	}
	if err := checkDigests(op.release); err != nil {
		res.Status = history.StatusFailed
		return finish(err)
	}
	if err := d.checkNotify(env, &op); err != nil {
		res.Status = history.StatusFailed
		return finish(err)
	}
	if op.req.DryRun {
		p, err := d.preflight(ctx, s, env, op.release, nil)
		if err != nil {
			res.Status = history.StatusFailed
			return finish(classError(ErrInvalidInput, err))
		}
		d.emitPlan(p, "")
		res.Status = StatusPlanned
		fillResult(res, p)
		return finish(nil)
	}

	held := op.held
	if held == nil {
		// From here on ctx ends, with the reason, when the lock is lost.
		if held, ctx, err = d.lock(ctx, env.ID, op.req); err != nil {
			res.Status = history.StatusFailed
			return finish(err)
		}
		s.lockHeld(held)
	}
	defer func() {
		if err := held.release(ctx); err != nil {
			d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Message: err.Error()})
		}
		res.Stats = s.stats() // with the lock's release
	}()

	r, err := d.startRecord(ctx, env, op, held)
	if err != nil {
		res.Status = history.StatusFailed
		return finish(err)
	}
	res.Deployment = r.rec
	r.notifyStart(ctx, op.notify)
	err = d.execute(ctx, s, env, op, r, res)
	return finish(err)
}

func releaseID(r *history.Release) string {
	if r == nil {
		return ""
	}
	return r.ID
}

func deploymentID(r *history.Deployment) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// execute runs a deployment whose record exists and whose lock is held,
// and closes the record. Its context is the lock's (see lock): every side
// effect is made through the session's lease, and the record says what
// each stage is about to do before it starts.
func (d *Deployer) execute(ctx context.Context, s *session, env *manifest.Environment, op operation, r *recordKeeper, res *Result) error {
	timeout := op.req.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	p, err := d.preflight(ctx, s, env, op.release, r.resumed)
	if err != nil {
		err = classError(ErrInvalidInput, err)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return d.close(ctx, r, res, nil, err, "preflight failed: nothing was changed")
	}
	fillResult(res, p)
	d.emitPlan(p, r.rec.ID)
	// The record, then the migrations, then the tags and services: a
	// pre_deploy task that fails leaves every tag and service as it was.
	if len(p.tasks) > 0 {
		if err := r.enter(ctx, p, runningTasks); err != nil {
			return d.close(ctx, r, res, p, err, "nothing was changed")
		}
		if err := d.runTasks(ctx, s, p, r.rec.ID, r); err != nil {
			return d.close(ctx, r, res, p, err, "no tag was moved and no service updated")
		}
	}
	if err := r.enter(ctx, p, movingTags); err != nil {
		return d.close(ctx, r, res, p, err, "nothing was changed")
	}

	if err := d.moveTags(ctx, s, p, r.rec.ID, r); err != nil {
		return d.close(ctx, r, res, p, classError(ErrDeploymentFailed, err), "")
	}
	if err := r.flush(ctx); err != nil {
		return d.close(ctx, r, res, p, err, "")
	}

	if p.env.Strategy == manifest.StrategySSM {
		if err := d.publishSSM(ctx, s, p, r.rec.ID, r); err != nil {
			return d.close(ctx, r, res, p, classError(ErrDeploymentFailed, err), "")
		}
	}
	if err := r.enter(ctx, p, updatingServices); err != nil {
		return d.close(ctx, r, res, p, err, "")
	}
	if err := d.redeploy(ctx, s, p, r.rec.ID, r); err != nil {
		return d.close(ctx, r, res, p, classError(ErrDeploymentFailed, err), "")
	}
	if err := r.flush(ctx); err != nil {
		return d.close(ctx, r, res, p, err, "")
	}

	if op.req.NoWait {
		for _, ps := range p.services {
			if ps.started != nil {
				ps.outcome = &Outcome{Started: *ps.started, Status: history.StatusSucceeded, Reason: "updated; not waited for"}
				if ps.started.AdoptedFrom != "" {
					ps.outcome.Reason = "not waited for"
				}
			}
		}
		d.afterSuccess(ctx, s, p, r.rec.ID)
		return d.close(ctx, r, res, p, nil, "services updated; buoy did not wait for ECS")
	}
	waitStart := d.now()
	waitErr := d.wait(ctx, s, p, timeout, r.rec.ID)
	if waitErr == nil {
		d.afterSuccess(ctx, s, p, r.rec.ID)
		d.cleanupRevisions(ctx, s, p, r.rec.ID)
	}
	if waitErr != nil && op.req.Rollback && ctx.Err() == nil {
		// Say so first: a run killed while rolling back leaves this
		// in its record for the run that takes over.
		r.note(ctx, false, func() { r.rec.Reason = rollingBackPrefix + waitErr.Error() })
		if err := r.flush(ctx); err != nil {
			return d.close(ctx, r, res, p, fmt.Errorf("%w; not rolled back: %w", waitErr, err), "")
		}
		how, rbErr := d.rollBack(ctx, s, p, rollbackDeadline(waitStart, d.now(), timeout, op.req.RollbackTimeout), r.rec.ID)
		return d.closeRolledBack(ctx, r, res, p, waitErr, rbErr, how)
	}
	return d.close(ctx, r, res, p, waitErr, "")
}

// rollingBackPrefix starts the reason of a record whose run is rolling
// back; a re-run reads it to know the dead run judged its rollout failed.
const rollingBackPrefix = "rolling back after: "

// moveTags points each floating tag that moves at the release's digest,
// concurrently with the Deployer's bound, reporting each move to t.
func (d *Deployer) moveTags(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.concurrency)
	for _, pi := range p.images {
		if pi.param != "" {
			continue // an SSM parameter, written by publishSSM
		}
		if !pi.move {
			t.note(ctx, false, func() { pi.done = true })
			continue
		}
		g.Go(func() error {
			reg, err := s.registry(gctx, pi.image)
			if err != nil {
				return err
			}
			var moved bool
			err = s.lease.do(gctx, func(actx context.Context) error {
				t.note(ctx, false, func() { pi.sent = true })
				if ft, ok := reg.(fromTagger); ok {
					moved, err = ft.TagFrom(actx, pi.image, pi.to, p.env.Tag, pi.from)
				} else {
					moved, err = reg.Tag(actx, pi.image, pi.to, p.env.Tag)
				}
				return err
			})
			if err != nil {
				if pi.sent {
					t.note(ctx, false, func() { pi.refused = refused(err) })
				}
				return fmt.Errorf("point %s:%s at %s: %w", pi.image.Repository, p.env.Tag, pi.to.Digest, err)
			}
			t.note(ctx, true, func() { pi.moved, pi.done = moved, true })
			d.emit(event.Event{Kind: event.TagMoved, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
				Image: pi.image.ID, From: pi.from, To: pi.to.Digest,
				Message: fmt.Sprintf("%s:%s -> %s", pi.image.Repository, p.env.Tag, shortDigest(pi.to.Digest))})
			return nil
		})
	}
	return g.Wait()
}

// redeploy starts a new ECS deployment of each service that needs one,
// reporting each to t.
func (d *Deployer) redeploy(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.concurrency)
	for _, ps := range p.services {
		if !ps.redeploy {
			continue
		}
		g.Go(func() error {
			c, err := s.cluster(gctx, ps.target)
			if err != nil {
				return err
			}
			if st, err := d.adopt(gctx, c, p, ps, depID); st != nil || err != nil {
				if st != nil {
					t.note(ctx, true, func() { ps.started = st })
				}
				return err
			}
			td := ""
			if p.env.Strategy == manifest.StrategyTaskDefinition {
				var pins []history.ImageRef
				for _, id := range ps.images {
					pins = append(pins, p.image(id).to)
				}
				err := s.lease.do(gctx, func(actx context.Context) (err error) {
					td, err = c.PinImages(actx, ps.ref, pins)
					return err
				})
				if err != nil {
					return fmt.Errorf("register a task definition for %s with pinned images: %w", ps.ref.Name, err)
				}
			}
			var st Started
			err = s.lease.do(gctx, func(actx context.Context) (err error) {
				t.note(ctx, false, func() { ps.sent = true })
				st, err = c.Redeploy(actx, ps.ref, td)
				return err
			})
			if err != nil {
				if ps.sent {
					t.note(ctx, false, func() { ps.refused = refused(err) })
				}
				return fmt.Errorf("redeploy service %s in %s: %w", ps.ref.Name, ps.ref.Cluster, err)
			}
			t.note(ctx, true, func() { ps.started = &st })
			d.emit(event.Event{Kind: event.ServiceUpdated, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
				Service: ps.ref.Name, Cluster: ps.ref.Cluster, From: st.PreviousTaskDefinition, To: st.TaskDefinition,
				Message: fmt.Sprintf("%s: new ECS deployment %s", ps.ref.Name, st.ECSDeployment)})
			return nil
		})
	}
	return g.Wait()
}

// adopt follows the ECS deployment a dead run started for ps, when the
// plan allows it and ECS still rolls it out, and returns it when it does.
// When ECS no longer does (the deployment failed, was rolled back or
// replaced), it says so, and the caller starts a new deployment.
func (d *Deployer) adopt(ctx context.Context, c Cluster, p *plan, ps *plannedService, depID string) (*Started, error) {
	ad, ok := c.(Adopter)
	if ps.adopt == nil || !ok {
		return nil, nil
	}
	st, err := ad.Adopt(ctx, ps.ref, *ps.adopt)
	var na *NotAdoptableError
	switch {
	case err == nil:
		st.AdoptedFrom = ps.adopt.From
		d.emit(event.Event{Kind: event.ServiceUpdated, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
			Service: ps.ref.Name, Cluster: ps.ref.Cluster, From: st.PreviousTaskDefinition, To: st.TaskDefinition,
			Message: fmt.Sprintf("%s: adopted ECS deployment %s from deployment %s; not updated again", ps.ref.Name, st.ECSDeployment, st.AdoptedFrom)})
		return &st, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &na):
		what := "ECS no longer rolls it out"
		if na.Failed {
			what = "it failed while no run watched it"
		}
		d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
			Service: ps.ref.Name, Cluster: ps.ref.Cluster,
			Message: fmt.Sprintf("%s: ECS deployment %s, started by deployment %s, is not adopted: %s; %s, so a new one starts", ps.ref.Name, ps.adopt.ECSDeployment, ps.adopt.From, na.Reason, what)})
	default:
		d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
			Service: ps.ref.Name, Cluster: ps.ref.Cluster,
			Message: fmt.Sprintf("%s: could not check ECS deployment %s, started by deployment %s (%v); a new one starts", ps.ref.Name, ps.adopt.ECSDeployment, ps.adopt.From, err)})
	}
	return nil, nil
}

// wait follows every started deployment, one waiter per target, and
// returns ErrDeploymentFailed or ErrTimeout naming what went wrong.
func (d *Deployer) wait(ctx context.Context, s *session, p *plan, timeout time.Duration, depID string) error {
	byTarget := map[string][]*plannedService{}
	var targets []manifest.Target
	for _, ps := range p.services {
		if ps.started == nil {
			continue
		}
		k := targetKey(ps.target)
		if _, ok := byTarget[k]; !ok {
			targets = append(targets, ps.target)
		}
		byTarget[k] = append(byTarget[k], ps)
	}
	g, gctx := errgroup.WithContext(ctx)
	var mu sync.Mutex
	for _, t := range targets {
		g.Go(func() error {
			c, err := s.cluster(gctx, t)
			if err != nil {
				return err
			}
			pss := byTarget[targetKey(t)]
			started := make([]Started, len(pss))
			for i, ps := range pss {
				started[i] = *ps.started
			}
			outs, err := c.Wait(gctx, started, timeout)
			if err != nil && len(outs) != len(pss) {
				return fmt.Errorf("wait for ECS in %s: %w", where(t), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, ps := range pss {
				o := outs[i]
				ps.outcome = &o
				d.emit(event.Event{Kind: event.ServiceDone, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
					Service: ps.ref.Name, Cluster: ps.ref.Cluster, Outcome: string(o.Status), Message: serviceMessage(o)})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return classError(ErrDeploymentFailed, err)
	}
	// Wait returns every service's outcome even when it was interrupted;
	// an interruption is a cancellation, not a failed rollout.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var failed, timedOut []string
	for _, ps := range p.services {
		if ps.outcome == nil || ps.outcome.Status == history.StatusSucceeded {
			continue
		}
		line := ps.ref.Name + ": " + ps.outcome.Reason
		if ps.outcome.TimedOut {
			timedOut = append(timedOut, line)
		} else {
			failed = append(failed, line)
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Errorf("%w: %s", ErrDeploymentFailed, strings.Join(append(failed, timedOut...), "; "))
	case len(timedOut) > 0:
		return fmt.Errorf("%w after %s: %s", ErrTimeout, timeout, strings.Join(timedOut, "; "))
	}
	return nil
}

func serviceMessage(o Outcome) string {
	msg := fmt.Sprintf("%s %s after %s", o.Started.Service.Name, o.Status, o.Duration.Round(time.Second))
	if o.Reason != "" {
		msg += ": " + o.Reason
	}
	return msg
}

// rollBack points moved tags back at their previous digests, rolls back
// the services that were redeployed and waits until deadline. A service
// whose rollout failed while ECS still rolls it out (or rolls it back) is
// rolled back by ECS itself, where the Cluster can (ECSRollbacker); the
// others are redeployed in place with what they ran before (their
// previous task definition under the task-definition strategy). It
// returns how each service was rolled back, in plain words.
func (d *Deployer) rollBack(ctx context.Context, s *session, p *plan, deadline time.Time, depID string) (string, error) {
	d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID,
		Message: "rolling back to what ran before"})
	back := &plan{env: p.env, release: p.release}
	for _, pi := range p.images {
		var prev string
		switch {
		case pi.moved && pi.from == "":
			d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Image: pi.image.ID,
				Message: fmt.Sprintf("%s:%s did not exist before; it stays at the release's digest", pi.image.Repository, p.env.Tag)})
			continue
		case pi.moved:
			prev = pi.from
		case !pi.move && pi.before != "":
			prev = pi.before // moved by a dead run (or by hand) before this one
		default:
			continue
		}
		to := pi.to
		to.Digest, to.Tag = prev, p.env.Tag
		back.images = append(back.images, &plannedImage{image: pi.image, to: to, from: pi.to.Digest, move: true})
	}
	if err := d.moveTags(ctx, s, back, depID, untracked{}); err != nil {
		return "", fmt.Errorf("roll back tags: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.concurrency)
	var redeployed []*plannedService
	var mu sync.Mutex
	var byECS, inPlace []string
	for _, ps := range p.services {
		if ps.started == nil {
			continue
		}
		rb := &plannedService{id: ps.id, target: ps.target, ref: ps.ref, images: ps.images, redeploy: true}
		redeployed = append(redeployed, rb)
		g.Go(func() error {
			c, err := s.cluster(gctx, rb.target)
			if err != nil {
				return err
			}
			st, withECS, err := d.rollBackService(gctx, s, c, p, ps, depID)
			if err != nil {
				return fmt.Errorf("roll back service %s: %w", rb.ref.Name, err)
			}
			rb.started = &st
			mu.Lock()
			defer mu.Unlock()
			if withECS {
				byECS = append(byECS, rb.ref.Name)
			} else {
				inPlace = append(inPlace, rb.ref.Name)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	back.services = redeployed
	return rollbackHow(byECS, inPlace), d.wait(ctx, s, back, until(d.now(), deadline), depID)
}

// rollBackService rolls back one service: by ECS itself when its rollout
// failed and the Cluster can (reporting true), else by redeploying what
// it ran before.
func (d *Deployer) rollBackService(ctx context.Context, s *session, c Cluster, p *plan, ps *plannedService, depID string) (Started, bool, error) {
	var st Started
	if rb, ok := c.(ECSRollbacker); ok && ps.outcome != nil && ps.outcome.Status != history.StatusSucceeded {
		err := s.lease.do(ctx, func(actx context.Context) (err error) {
			st, err = rb.RollBackWithECS(actx, ps.outcome.Started)
			return err
		})
		if err == nil {
			return st, true, nil
		}
		if !errors.Is(err, ErrNoECSRollback) {
			return Started{}, false, err
		}
		d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID, Service: ps.ref.Name, Cluster: ps.ref.Cluster,
			Message: fmt.Sprintf("%v; redeploying what %s ran before instead", err, ps.ref.Name)})
	}
	td := ""
	if p.env.Strategy == manifest.StrategyTaskDefinition {
		td = ps.started.PreviousTaskDefinition
	}
	err := s.lease.do(ctx, func(actx context.Context) (err error) {
		st, err = c.Redeploy(actx, ps.ref, td)
		return err
	})
	return st, false, err
}

// rollbackHow says how the services were rolled back.
func rollbackHow(byECS, inPlace []string) string {
	slices.Sort(byECS)
	slices.Sort(inPlace)
	var parts []string
	if len(byECS) > 0 {
		parts = append(parts, "ECS rolled back "+strings.Join(byECS, ", ")+" itself (StopServiceDeployment, stopType ROLLBACK)")
	}
	if len(inPlace) > 0 {
		parts = append(parts, "buoy redeployed "+strings.Join(inPlace, ", ")+" with what ran before")
	}
	return strings.Join(parts, "; ")
}

// fillResult copies the plan into a Result.
func fillResult(res *Result, p *plan) {
	res.Images = res.Images[:0]
	for _, pi := range p.images {
		res.Images = append(res.Images, ImageResult{Image: pi.image.ID, Repository: pi.to.Repository, Tag: p.env.Tag,
			Parameter: pi.param, From: pi.from, To: pi.to.Digest, Moved: pi.moved || (res.Status == StatusPlanned && pi.move)})
	}
	res.PreDeploy = taskResults(res.Status, p.tasks)
	res.Services = res.Services[:0]
	for _, ps := range p.services {
		sr := ServiceResult{Service: ps.ref.Name, Cluster: ps.ref.Cluster, Region: ps.ref.Region,
			Images: slices.Clone(ps.images), TaskDefinition: ps.ref.TaskDefinition}
		switch {
		case ps.outcome != nil:
			sr.Outcome, sr.Reason, sr.Duration = ps.outcome.Status, adoptedNote(ps.started, ps.outcome.Reason), ps.outcome.Duration
			sr.TaskDefinition, sr.ECSDeployment, sr.AdoptedFrom = ps.started.TaskDefinition, ps.started.ECSDeployment, ps.started.AdoptedFrom
		case ps.started != nil:
			sr.Outcome, sr.Reason = history.StatusInProgress, "updated; not finished"
			if ps.started.AdoptedFrom != "" {
				sr.Reason = adoptedNote(ps.started, "not finished")
			}
			sr.TaskDefinition, sr.ECSDeployment, sr.AdoptedFrom = ps.started.TaskDefinition, ps.started.ECSDeployment, ps.started.AdoptedFrom
		case !ps.redeploy:
			sr.Outcome, sr.Reason = history.StatusSucceeded, "not redeployed: "+ps.why
		default:
			sr.Outcome, sr.Reason = "", "not updated"
		}
		if res.Status == StatusPlanned {
			sr.Outcome = StatusPlanned
			if ps.redeploy {
				sr.Reason = "would redeploy: " + ps.why
			}
		}
		res.Services = append(res.Services, sr)
	}
}

// errStatus maps the error a deployment ended with to its record status.
func errStatus(ctx context.Context, err error) history.Status {
	switch {
	case err == nil:
		return history.StatusSucceeded
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return history.StatusCancelled
	default:
		return history.StatusFailed
	}
}

// finishedMessage is the Finished event's message: "deployment <outcome>",
// then the error, whose own text already starts so when it is
// ErrDeploymentFailed's ("deployment failed: web: …", said once).
func finishedMessage(outcome string, err error) string {
	msg := "deployment " + outcome
	if err == nil {
		return msg
	}
	if e := err.Error(); strings.HasPrefix(e, msg) {
		return e
	}
	return msg + ": " + err.Error()
}
