package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// recordKeeper owns a deployment's record while the deployment runs: it
// writes the progress the side effects make as they make it (progress.go)
// and closes the record with the outcome.
type recordKeeper struct {
	d *Deployer
	// lease fences every write of the record but its closing.
	lease   *heldLock
	resumed *history.Deployment

	// mu guards the record, the plan's progress (what each side effect
	// changes in it, through note) and the writes' state.
	mu    sync.Mutex
	rec   *history.Deployment
	p     *plan
	stage stage
	// changes counts the changes made to the plan, saved those the
	// stored record carries; writing is closed when the write in flight
	// ends (nil when none is); failed is the error of a progress write,
	// which stopped the run.
	changes, saved uint64
	writing        chan struct{}
	failed         error

	// notify are told when the deployment starts and ends; notifying is
	// closed once the start is told (notifyStart).
	notify    []notifyTarget
	notifying chan struct{}
}

// abandonedBy lists in-progress deployments of env left by runs that died:
// the caller holds the lock, so no live run is writing them.
func (d *Deployer) abandoned(ctx context.Context, env string) ([]*history.Deployment, error) {
	recent, err := d.store.ListDeployments(ctx, d.project.ID, env, DefaultHistoryLimit)
	if err != nil {
		return nil, fmt.Errorf("read recent deployments of %s: %w", env, err)
	}
	var out []*history.Deployment
	for _, dep := range recent {
		if dep.Status == history.StatusInProgress {
			out = append(out, dep)
		}
	}
	return out, nil
}

// startRecord writes the deployment's record, in progress, before any
// side effect, and closes the records of dead runs it resumes.
func (d *Deployer) startRecord(ctx context.Context, env *manifest.Environment, op operation, lease *heldLock) (*recordKeeper, error) {
	dead, err := d.abandoned(ctx, env.ID)
	if err != nil {
		return nil, err
	}
	rec := &history.Deployment{
		Project:     d.project.ID,
		Environment: env.ID,
		ReleaseID:   op.release.ID,
		RollbackOf:  op.rollbackOf,
		Status:      history.StatusInProgress,
		StartedAt:   d.now(),
		RequestedBy: op.req.RequestedBy,
		Description: op.req.Description,
		CI:          op.req.CI,
	}
	r := &recordKeeper{d: d, rec: rec, lease: lease, notify: op.notify}
	if len(dead) > 0 {
		// As the dead run left it: closing it below changes its status
		// and reason, which the plan reads.
		resumed := *dead[0] // newest first
		r.resumed = &resumed
		rec.Resumes = dead[0].ID
	}
	if err := lease.do(ctx, func(ctx context.Context) error { return d.store.CreateDeployment(ctx, rec) }); err != nil {
		return nil, fmt.Errorf("write the deployment record: %w", err)
	}
	for _, old := range dead {
		old.Status = history.StatusFailed
		doing := ""
		if old.Reason != "" {
			doing = " (" + old.Reason + ")"
		}
		old.Reason = fmt.Sprintf("abandoned: the run stopped before finishing%s and its lock expired; deployment %s took over", doing, rec.ID)
		old.FinishedAt = d.now()
		if err := lease.do(ctx, func(ctx context.Context) error { return d.store.UpdateDeployment(ctx, old) }); err != nil {
			d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Deployment: old.ID,
				Message: fmt.Sprintf("could not close abandoned deployment %s: %v", old.ID, err)})
			continue
		}
		d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Deployment: rec.ID,
			Message: fmt.Sprintf("deployment %s, started by %s, was left in progress by a run that died; this deployment completes it", old.ID, who(old.RequestedBy, old.CI.BuildURL))})
	}
	return r, nil
}

// storeContext survives the caller's cancellation so that a cancelled or
// failed run still closes its record and frees its lock.
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// close ends the deployment: the record gets its outcome (with what did
// and did not happen), the environment's current record is set on
// success, and the Result is completed. It returns err, or the error of
// writing the history when the deployment itself succeeded. A run that
// stopped (its lock lost, its record unwritable) ends failed, saying why.
func (d *Deployer) close(ctx context.Context, r *recordKeeper, res *Result, p *plan, err error, note string) error {
	if stop := r.lease.stoppedBy(); stop != nil {
		return d.closeWith(ctx, r, res, p, history.StatusFailed, stoppedErr(stop, err), note)
	}
	return d.closeWith(ctx, r, res, p, errStatus(ctx, err), err, note)
}

func (d *Deployer) closeRolledBack(ctx context.Context, r *recordKeeper, res *Result, p *plan, failure, rbErr error, how string) error {
	if stop := r.lease.stoppedBy(); stop != nil {
		return d.closeWith(ctx, r, res, p, history.StatusFailed, stoppedErr(stop, fmt.Errorf("%w; rolling back: %w", failure, rbErr)), "")
	}
	if rbErr != nil {
		err := fmt.Errorf("%w; the rollback failed too: %w", failure, rbErr)
		return d.closeWith(ctx, r, res, p, history.StatusFailed, err, "")
	}
	note := "rolled back to what ran before"
	if how != "" {
		note += ": " + how
	}
	return d.closeWith(ctx, r, res, p, history.StatusRolledBack, failure, note)
}

// stoppedErr is the error of a run that stopped for stop while it was
// failing with err (often only the cancellation stop caused).
func stoppedErr(stop, err error) error {
	if err == nil || errors.Is(err, stop) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return stop
	}
	// Told, not wrapped: the run ended because it stopped, whatever the
	// error it met on the way (a cancellation would read as a signal).
	return fmt.Errorf("%w; before it stopped: %s", stop, err.Error())
}

func (d *Deployer) closeWith(ctx context.Context, r *recordKeeper, res *Result, p *plan, status history.Status, err error, note string) error {
	sctx, cancel := storeContext(ctx)
	defer cancel()
	r.awaitNotifyStart() // its outcomes go in the closing write
	r.settle()
	if status == history.StatusSucceeded {
		if stop := r.lease.stoppedBy(); stop != nil {
			status, err = history.StatusFailed, stop
		}
	}
	r.closeAs(p, status, err, note)
	saveErr := r.writeClosing(sctx)
	closed := saveErr == nil
	res.Status = status
	res.Deployment = r.rec
	if p != nil {
		fillResult(res, p)
	}
	if status == history.StatusSucceeded && saveErr == nil {
		cerr := r.lease.do(sctx, func(ctx context.Context) error { return d.setCurrent(ctx, r.rec, p.release) })
		if stop := r.lease.stoppedBy(); cerr != nil && stop != nil {
			// The one write a stopped run still makes: its record says
			// it did not record what the environment runs.
			err = fmt.Errorf("%w; ECS rolled the release out, but this run did not record that %s runs it", stop, r.rec.Environment)
			status = history.StatusFailed
			r.closeAs(p, status, err, note)
			if werr := r.writeClosing(sctx); werr != nil {
				cerr, closed = werr, false
			}
			res.Status = status
			fillResult(res, p)
		}
		if cerr != nil {
			saveErr = cerr
		}
	}
	d.notifyEnd(sctx, r, r.notify, closed)
	if err == nil && saveErr != nil {
		return saveErr
	}
	if err != nil {
		d.emit(event.Event{Kind: event.Failed, Environment: r.rec.Environment, Deployment: r.rec.ID, Message: err.Error()})
	}
	return err
}

// closeAs writes the outcome into the record (not yet to the store).
func (r *recordKeeper) closeAs(p *plan, status history.Status, err error, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stage = closing
	if p != nil {
		r.fill(p)
	}
	r.rec.Status = status
	r.rec.FinishedAt = r.d.now()
	r.rec.Reason = reason(err, note, p)
	if status == history.StatusCancelled {
		r.rec.Reason = "cancelled: " + r.rec.Reason
	}
}

// reason says in plain words how a deployment ended and what did and did
// not happen.
func reason(err error, note string, p *plan) string {
	msg := note
	if err != nil {
		msg = err.Error()
		if note != "" {
			msg += "; " + note
		}
	}
	if p == nil || err == nil {
		return msg
	}
	var moved, moving, notMoved, updated, adopted, updating, notUpdated int
	for _, pi := range p.images {
		switch {
		case pi.moved:
			moved++
		case pi.move && !pi.done && pi.sent && !pi.refused:
			moving++
		case pi.move && !pi.done:
			notMoved++
		}
	}
	for _, ps := range p.services {
		switch {
		case ps.started != nil && ps.started.AdoptedFrom != "":
			adopted++
		case ps.started != nil:
			updated++
		case ps.redeploy && ps.sent && !ps.refused:
			updating++
		case ps.redeploy:
			notUpdated++
		}
	}
	tags := fmt.Sprintf("tags moved: %d", moved)
	if moving > 0 {
		tags += fmt.Sprintf(", moving (outcome unknown): %d", moving)
	}
	services := fmt.Sprintf("services updated: %d", updated)
	if adopted > 0 {
		services += fmt.Sprintf(", adopted: %d", adopted)
	}
	if updating > 0 {
		services += fmt.Sprintf(", updating (outcome unknown): %d", updating)
	}
	return fmt.Sprintf("%s (%s, not moved: %d; %s, not updated: %d)", msg, tags, notMoved, services, notUpdated)
}

// setCurrent records that env now runs the deployment's release,
// retrying once when another writer got there first.
func (d *Deployer) setCurrent(ctx context.Context, dep *history.Deployment, rel *history.Release) error {
	for range 2 {
		cur, err := d.store.GetCurrent(ctx, dep.Project, dep.Environment)
		switch {
		case errors.Is(err, history.ErrNotFound):
			cur = &history.Current{Project: dep.Project, Environment: dep.Environment}
		case err != nil:
			return fmt.Errorf("read the current record of %s: %w", dep.Environment, err)
		}
		cur.ReleaseID, cur.DeploymentID, cur.UpdatedAt = rel.ID, dep.ID, d.now()
		cur.Images = maps.Clone(rel.Images)
		err = d.store.SetCurrent(ctx, cur)
		if err == nil {
			return nil
		}
		if !errors.Is(err, history.ErrConflict) {
			return fmt.Errorf("record that %s runs release %s: %w", dep.Environment, rel.ID, err)
		}
	}
	return fmt.Errorf("record that %s runs release %s: %w", dep.Environment, rel.ID, history.ErrConflict)
}

// adoptedNote prefixes reason, for a service whose ECS deployment was
// adopted, with where it came from.
func adoptedNote(st *Started, reason string) string {
	if st == nil || st.AdoptedFrom == "" {
		return reason
	}
	note := fmt.Sprintf("adopted ECS deployment %s from deployment %s", st.ECSDeployment, st.AdoptedFrom)
	if reason == "" {
		return note
	}
	return note + "; " + reason
}
