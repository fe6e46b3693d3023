package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// stage is what a deployment is doing, as its record says it: from the
// write that opens a stage on, every side effect of that stage not yet
// confirmed is recorded as under way, its outcome unknown. So a record
// left by a run that died never says "not moved" of a tag it moved.
type stage int

const (
	planned          stage = iota // the plan is written; nothing started
	runningTasks                  // pre_deploy tasks not confirmed started are "starting"
	movingTags                    // tags not confirmed moved are "moving"
	updatingServices              // services not confirmed updated are "updating"
	closing                       // the run knows what it never started
)

// tracker is what moveTags and redeploy report their progress to.
type tracker interface {
	// note applies change, made by a side effect, to the plan, and has
	// the record written soon when save is set.
	note(ctx context.Context, save bool, change func())
}

// untracked applies changes to a plan no record follows (a rollback's).
type untracked struct{}

func (untracked) note(_ context.Context, _ bool, change func()) { change() }

// note applies change to the plan under the record's lock and, with save,
// writes the record: at once when no write is in flight, else right after
// the one in flight, carrying every change made since. The record is
// never behind by more than the side effects in flight.
func (r *recordKeeper) note(ctx context.Context, save bool, change func()) {
	r.mu.Lock()
	change()
	r.changes++
	start := save && r.writing == nil && r.failed == nil
	if start {
		r.writing = make(chan struct{})
	}
	r.mu.Unlock()
	if start {
		go r.writeLoop(ctx)
	}
}

// enter opens a stage: the record says so before any side effect of the
// stage starts.
func (r *recordKeeper) enter(ctx context.Context, p *plan, s stage) error {
	r.note(ctx, false, func() {
		if r.p == nil {
			r.p = p
			r.rec.Images = map[string]history.TagMove{}
		}
		r.stage = s
	})
	return r.flush(ctx)
}

// flush writes every change made so far and waits until the record
// carries them; it returns the error of the write that failed, if one
// did (the run then stops).
func (r *recordKeeper) flush(ctx context.Context) error {
	for {
		r.mu.Lock()
		if r.failed != nil {
			err := r.failed
			r.mu.Unlock()
			return err
		}
		if r.writing == nil {
			if r.saved >= r.changes {
				r.mu.Unlock()
				return nil
			}
			r.writing = make(chan struct{})
			r.mu.Unlock()
			r.writeLoop(ctx)
			continue
		}
		writing := r.writing
		r.mu.Unlock()
		select {
		case <-writing:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// settle waits until no write is in flight. Each ends by the lease's end
// at the latest, or when the run's context is cancelled.
func (r *recordKeeper) settle() {
	r.mu.Lock()
	writing := r.writing
	r.mu.Unlock()
	if writing != nil {
		<-writing
	}
}

// writeLoop writes the record until it carries every change, one write at
// a time; the caller set r.writing. A write that fails stops the run: no
// side effect may happen that the record could not tell.
func (r *recordKeeper) writeLoop(ctx context.Context) {
	for {
		r.mu.Lock()
		if r.saved >= r.changes || r.failed != nil {
			close(r.writing)
			r.writing = nil
			r.mu.Unlock()
			return
		}
		if r.p != nil {
			r.fill(r.p)
		}
		snap := snapshot(r.rec)
		upTo := r.changes
		r.mu.Unlock()
		err := r.lease.do(ctx, func(ctx context.Context) error { return r.d.store.UpdateDeployment(ctx, snap) })
		if err != nil {
			err = fmt.Errorf("update deployment record %s: %w", snap.ID, err)
			// Unless the run is stopping already (cancelled, or its
			// lease, which bounds the write, ran out).
			if ctx.Err() == nil && r.lease.stoppedBy() == nil {
				r.d.emit(event.Event{Kind: event.Warning, Environment: snap.Environment, Deployment: snap.ID,
					Message: fmt.Sprintf("could not update the deployment record: %v", err)})
				r.lease.stopWith(fmt.Errorf("stopped: the deployment record cannot be written, and nothing may happen that it does not tell: %w", err))
			}
		}
		r.mu.Lock()
		if err == nil {
			r.rec.Version, r.saved = snap.Version, upTo
		} else {
			r.failed = err
		}
		r.mu.Unlock()
	}
}

// writeClosing writes the closed record: the one write a stopped run
// still makes. When a progress write whose answer never came was applied
// after all, the record's version moved on: it is read again and
// written, unless another run closed it meanwhile.
func (r *recordKeeper) writeClosing(ctx context.Context) error {
	err := r.d.store.UpdateDeployment(ctx, r.rec)
	if errors.Is(err, history.ErrConflict) {
		if stored, gerr := r.d.store.GetDeployment(ctx, r.rec.Project, r.rec.ID); gerr == nil && stored.Status == history.StatusInProgress {
			r.rec.Version = stored.Version
			err = r.d.store.UpdateDeployment(ctx, r.rec)
		}
	}
	if err != nil {
		r.d.emit(event.Event{Kind: event.Warning, Environment: r.rec.Environment, Deployment: r.rec.ID,
			Message: fmt.Sprintf("could not close the deployment record: %v", err)})
		return fmt.Errorf("update deployment record %s: %w", r.rec.ID, err)
	}
	return nil
}

// snapshot copies a record for a write made outside the lock.
func snapshot(d *history.Deployment) *history.Deployment {
	c := *d
	c.Images = maps.Clone(d.Images)
	c.Services = slices.Clone(d.Services)
	c.Notifications = slices.Clone(d.Notifications)
	c.PreDeploy = slices.Clone(d.PreDeploy)
	return &c
}

// fill copies what has happened so far into the record; r.mu is held.
func (r *recordKeeper) fill(p *plan) {
	if r.rec.Images == nil {
		r.rec.Images = map[string]history.TagMove{}
	}
	for _, pi := range p.images {
		tm := history.TagMove{Repository: pi.to.Repository, Tag: p.env.Tag, Parameter: pi.param,
			From: pi.from, To: pi.to.Digest, Moved: pi.moved, Done: pi.done || !pi.move}
		if pi.move && !pi.done {
			tm.Moving = r.unconfirmed(movingTags, pi.sent, pi.refused)
		}
		r.rec.Images[pi.image.ID] = tm
	}
	r.rec.Services = r.rec.Services[:0]
	for _, ps := range p.services {
		so := history.ServiceOutcome{Service: ps.ref.Name, Cluster: ps.ref.Cluster, Region: ps.ref.Region,
			TaskDefinition: ps.ref.TaskDefinition}
		switch {
		case ps.outcome != nil:
			so.Outcome, so.Reason = ps.outcome.Status, ps.outcome.Reason
		case ps.started != nil:
			so.Outcome, so.Reason = history.StatusInProgress, "updated; waiting for ECS"
			if ps.started.AdoptedFrom != "" {
				so.Reason = "waiting for ECS"
			}
		case ps.redeploy && r.unconfirmed(updatingServices, ps.sent, ps.refused):
			so.Outcome, so.Reason = history.StatusInProgress, "updating: outcome unknown (the run was updating it when it wrote this record)"
		case ps.redeploy:
			so.Outcome, so.Reason = history.StatusInProgress, "to redeploy: "+ps.why
		default:
			so.Outcome, so.Reason = history.StatusSucceeded, "not redeployed: "+ps.why
		}
		if ps.started != nil {
			so.ECSDeployment = ps.started.ECSDeployment
			so.TaskDefinition = ps.started.TaskDefinition
			so.PreviousTaskDefinition = ps.started.PreviousTaskDefinition
			so.AdoptedFrom = ps.started.AdoptedFrom
			so.Reason = adoptedNote(ps.started, so.Reason)
		}
		r.rec.Services = append(r.rec.Services, so)
	}
	r.fillTasks(p)
}

// unconfirmed reports whether a side effect of stage s that is not
// confirmed is recorded as under way, its outcome unknown: while the run
// is in that stage or later, unless it is closing and knows the side
// effect was never made (not sent, or refused).
func (r *recordKeeper) unconfirmed(s stage, sent, refused bool) bool {
	if r.stage == closing {
		return sent && !refused
	}
	return r.stage >= s
}

// refused reports whether err is AWS's answer to a call (so the call was
// not applied) rather than a call whose answer never came (a dropped
// connection, a cancellation, a deadline), whose outcome is unknown.
func refused(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api)
}
