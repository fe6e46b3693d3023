package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// recordKeeper owns a deployment's record while the deployment runs.
type recordKeeper struct {
	d       *Deployer
	rec     *history.Deployment
	resumed *history.Deployment
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
func (d *Deployer) startRecord(ctx context.Context, env *manifest.Environment, op operation) (*recordKeeper, error) {
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
	r := &recordKeeper{d: d, rec: rec}
	if len(dead) > 0 {
		// As the dead run left it: closing it below changes its status
		// and reason, which the plan reads.
		resumed := *dead[0] // newest first
		r.resumed = &resumed
		rec.Resumes = dead[0].ID
	}
	if err := d.store.CreateDeployment(ctx, rec); err != nil {
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
		if err := d.store.UpdateDeployment(ctx, old); err != nil {
			d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Deployment: old.ID,
				Message: fmt.Sprintf("could not close abandoned deployment %s: %v", old.ID, err)})
			continue
		}
		d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Deployment: rec.ID,
			Message: fmt.Sprintf("deployment %s, started by %s, was left in progress by a run that died; this deployment completes it", old.ID, who(old.RequestedBy, old.CI.BuildURL))})
	}
	return r, nil
}

// plan writes the planned tag moves and services into the record.
func (r *recordKeeper) plan(p *plan) {
	r.rec.Images = map[string]history.TagMove{}
	r.progress(p)
}

// progress copies what has happened so far into the record.
func (r *recordKeeper) progress(p *plan) {
	if r.rec.Images == nil {
		r.rec.Images = map[string]history.TagMove{}
	}
	for _, pi := range p.images {
		r.rec.Images[pi.image.ID] = history.TagMove{Repository: pi.to.Repository, Tag: p.env.Tag, Parameter: pi.param,
			From: pi.from, To: pi.to.Digest, Moved: pi.moved, Done: pi.done}
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
}

// save writes the record as it stands.
func (r *recordKeeper) save(ctx context.Context) error {
	if err := r.d.store.UpdateDeployment(ctx, r.rec); err != nil {
		r.d.emit(event.Event{Kind: event.Warning, Environment: r.rec.Environment, Deployment: r.rec.ID,
			Message: fmt.Sprintf("could not update the deployment record: %v", err)})
		return fmt.Errorf("update deployment record %s: %w", r.rec.ID, err)
	}
	return nil
}

// storeContext survives the caller's cancellation so that a cancelled or
// failed run still closes its record and frees its lock.
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// close ends the deployment: the record gets its outcome (with what did
// and did not happen), the environment's current record is set on
// success, and the Result is completed. It returns err, or the error of
// writing the history when the deployment itself succeeded.
func (d *Deployer) close(ctx context.Context, r *recordKeeper, res *Result, p *plan, err error, note string) error {
	status := errStatus(ctx, err)
	return d.closeWith(ctx, r, res, p, status, err, note)
}

func (d *Deployer) closeRolledBack(ctx context.Context, r *recordKeeper, res *Result, p *plan, failure, rbErr error) error {
	if rbErr != nil {
		err := fmt.Errorf("%w; the rollback failed too: %w", failure, rbErr)
		return d.closeWith(ctx, r, res, p, history.StatusFailed, err, "")
	}
	return d.closeWith(ctx, r, res, p, history.StatusRolledBack, failure, "rolled back to what ran before")
}

func (d *Deployer) closeWith(ctx context.Context, r *recordKeeper, res *Result, p *plan, status history.Status, err error, note string) error {
	sctx, cancel := storeContext(ctx)
	defer cancel()
	if p != nil {
		r.progress(p)
	}
	r.rec.Status = status
	r.rec.FinishedAt = d.now()
	r.rec.Reason = reason(err, note, p)
	if r.rec.Status == history.StatusCancelled {
		r.rec.Reason = "cancelled: " + r.rec.Reason
	}
	var saveErr error
	if werr := r.save(sctx); werr != nil {
		saveErr = werr
	}
	res.Status = status
	res.Deployment = r.rec
	if p != nil {
		fillResult(res, p)
	}
	if status == history.StatusSucceeded && saveErr == nil {
		if cerr := d.setCurrent(sctx, r.rec, p.release); cerr != nil {
			saveErr = cerr
		}
	}
	if err == nil && saveErr != nil {
		return saveErr
	}
	if err != nil {
		d.emit(event.Event{Kind: event.Failed, Environment: r.rec.Environment, Deployment: r.rec.ID, Message: err.Error()})
	}
	return err
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
	var moved, notMoved, updated, adopted, notUpdated int
	for _, pi := range p.images {
		switch {
		case pi.moved:
			moved++
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
		case ps.redeploy:
			notUpdated++
		}
	}
	services := fmt.Sprintf("services updated: %d", updated)
	if adopted > 0 {
		services += fmt.Sprintf(", adopted: %d", adopted)
	}
	return fmt.Sprintf("%s (tags moved: %d, not moved: %d; %s, not updated: %d)",
		msg, moved, notMoved, services, notUpdated)
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
