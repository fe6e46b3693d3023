package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// lockMargin is how much longer than a lock's lease a run watches it,
// unchanged, before taking it over: a second for a call the holder sent
// just before its lease ended, and a twentieth of the lease for clocks
// that do not tick at quite the same rate.
func lockMargin(ttl time.Duration) time.Duration { return time.Second + ttl/20 }

// patience is how long a run must see l unchanged before taking it over:
// its lease and the margin. A lock that does not say its lease (written
// by an older buoy) gets the longest one.
func patience(l history.Lock) time.Duration {
	lease := l.TTL
	if lease <= 0 || lease > MaxLockTTL {
		lease = MaxLockTTL
	}
	return lease + lockMargin(lease)
}

// sighting is another run's lock as this run watches it: as last seen,
// and when this run first saw it with that Token, on its own clock.
type sighting struct {
	lock  history.Lock
	since time.Time
}

// see notes l, seen at now; a new owner or Token starts the watch again.
func (w *sighting) see(l history.Lock, now time.Time) {
	if w.since.IsZero() || l.Owner != w.lock.Owner || l.Token != w.lock.Token {
		w.since = now
	}
	w.lock = l
}

// left is how long the lock must still stay unchanged before it may be
// taken over.
func (w *sighting) left(now time.Time) time.Duration {
	return w.since.Add(patience(w.lock)).Sub(now)
}

// heldLock is an environment lock this run holds. It is renewed in the
// background, and it fences the run: once the lease is lost or runs out
// (or the run's record cannot be written), the operation's context is
// cancelled with the reason, and every side effect checks it first.
type heldLock struct {
	d       *Deployer
	stopRun context.CancelCauseFunc
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	lock history.Lock
	// leaseEnd is when the lease ends by this run's clock: when it sent
	// its last successful renewal (or acquire), plus the lease. Any run
	// that takes the lock over has watched it unchanged since after that
	// renewal was written, for a lease and a margin more.
	leaseEnd time.Time
	// stopped is why the run stopped acting, once it did.
	stopped error
}

// lock takes the environment's lock, waiting up to the lock wait while
// another run holds it, and takes over a lock its holder stopped
// renewing: one this run has seen unchanged for its whole lease and a
// margin. It starts renewing the lock every third of its lease and
// returns the context the operation runs in: it is cancelled, with the
// reason as its cause, when the lock is lost.
func (d *Deployer) lock(ctx context.Context, env string, req Request) (*heldLock, context.Context, error) {
	want := history.Lock{
		Project:     d.project.ID,
		Environment: env,
		Owner:       d.owner(),
		RequestedBy: req.RequestedBy,
		BuildURL:    req.CI.BuildURL,
	}
	deadline := d.clock.Now().Add(d.lockWait)
	var watched sighting
	waiting := false
	for {
		sent := d.clock.Now()
		got, err := d.store.AcquireLock(ctx, want, d.lockTTL)
		if err == nil {
			h, hctx := d.hold(ctx, got, sent)
			return h, hctx, nil
		}
		var locked *history.LockedError
		if !errors.As(err, &locked) {
			return nil, ctx, fmt.Errorf("lock environment %s: %w", env, err)
		}
		now := d.clock.Now()
		watched.see(locked.Held, now)
		if watched.left(now) <= 0 {
			if h, hctx, err := d.takeOver(ctx, want, watched, now); h != nil {
				return h, hctx, nil
			} else if err != nil {
				return nil, ctx, err
			}
			continue // the lock changed meanwhile: look again
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return nil, ctx, d.lockWaitError(env, locked)
		}
		if !waiting {
			waiting = true
			d.emit(event.Event{Kind: event.Warning, Environment: env,
				Message: fmt.Sprintf("waiting up to %s for the lock: %v; a lock its run stops renewing is taken over once this run has seen it unchanged for %s",
					left.Round(time.Second), locked, patience(locked.Held).Round(time.Millisecond))})
		}
		if err := d.sleep(ctx, min(d.pollInterval, left, watched.left(now))); err != nil {
			return nil, ctx, fmt.Errorf("lock environment %s: %w", env, err)
		}
	}
}

// takeOver takes over the lock watched, which this run has seen
// unchanged for its lease and a margin. It returns no lock and no error
// when the lock changed meanwhile.
func (d *Deployer) takeOver(ctx context.Context, want history.Lock, watched sighting, now time.Time) (*heldLock, context.Context, error) {
	sent := d.clock.Now()
	got, err := d.store.TakeOverLock(ctx, want, d.lockTTL, watched.lock)
	switch {
	case errors.Is(err, history.ErrLocked), errors.Is(err, history.ErrNotFound):
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("lock environment %s: take over the lock of %s: %w", want.Environment,
			who(watched.lock.RequestedBy, watched.lock.BuildURL), err)
	}
	lease := watched.lock.TTL
	if lease <= 0 {
		lease = MaxLockTTL
	}
	d.emit(event.Event{Kind: event.Warning, Environment: want.Environment,
		Message: fmt.Sprintf("took over the lock of %s, whose lease expired: this run saw it unrenewed for %s (its lease, %s, and a margin of %s), so that run stopped without freeing it",
			who(watched.lock.RequestedBy, watched.lock.BuildURL), now.Sub(watched.since).Round(time.Millisecond), lease, lockMargin(lease).Round(time.Millisecond))})
	h, hctx := d.hold(ctx, got, sent)
	return h, hctx, nil
}

// lockWaitError says that the lock wait ran out, and how to get the
// lock when its run may be dead.
func (d *Deployer) lockWaitError(env string, locked *history.LockedError) error {
	err := fmt.Errorf("lock environment %s: waited %s: %w; wait for that run to finish, or pass a longer lock wait",
		env, d.lockWait.Round(time.Second), locked)
	if p := patience(locked.Held); d.lockWait < p {
		err = fmt.Errorf("%w (a run that died is taken over once another run has seen its lock unrenewed for %s: a lock wait that long does it; `buoy unlock` frees it at once)",
			err, p.Round(time.Second))
	}
	return err
}

// hold starts renewing l, acquired with a call sent at sent, and returns
// it with the operation's context.
func (d *Deployer) hold(ctx context.Context, l *history.Lock, sent time.Time) (*heldLock, context.Context) {
	ctx, stopRun := context.WithCancelCause(ctx)
	held := *l
	held.Previous = nil
	h := &heldLock{d: d, stopRun: stopRun, stop: make(chan struct{}), done: make(chan struct{}),
		lock: held, leaseEnd: sent.Add(d.lockTTL)}
	go h.heartbeat(context.WithoutCancel(ctx), sent)
	return h, ctx
}

// heartbeat renews the lease every third of it. When a renewal finds the
// lock is no longer ours, or none has succeeded by the lease's end, it
// stops the run.
func (h *heldLock) heartbeat(ctx context.Context, sent time.Time) {
	defer close(h.done)
	ttl := h.d.lockTTL
	due := sent.Add(ttl / 3)
	var lastErr error
	for {
		h.mu.Lock()
		end, l := h.leaseEnd, h.lock
		h.mu.Unlock()
		next := due
		if end.Before(next) {
			next = end
		}
		if wait := next.Sub(h.d.clock.Now()); wait > 0 {
			select {
			case <-h.stop:
				return
			case <-h.d.clock.After(wait):
			}
		}
		select {
		case <-h.stop:
			return
		default:
		}
		sent := h.d.clock.Now()
		if !sent.Before(end) {
			h.stopWith(expired(ttl, lastErr))
			return
		}
		// A renewal that cannot answer within the lease is of no use.
		rctx, cancel := context.WithTimeout(ctx, end.Sub(sent))
		err := h.d.store.RenewLock(rctx, &l, ttl)
		cancel()
		switch {
		case err == nil:
			h.mu.Lock()
			h.lock, h.leaseEnd = l, sent.Add(ttl)
			h.mu.Unlock()
			due, lastErr = sent.Add(ttl/3), nil
		case errors.Is(err, history.ErrConflict):
			h.stopWith(h.whyLost(ctx, l))
			return
		default:
			lastErr = err
			h.d.log.Warn("renew lock", "environment", l.Environment, "err", err)
			h.d.emit(event.Event{Kind: event.Warning, Environment: l.Environment,
				Message: fmt.Sprintf("could not renew the environment lock (the lease ends in %s if no renewal succeeds): %v",
					end.Sub(h.d.clock.Now()).Round(time.Millisecond), err)})
			due = h.d.clock.Now().Add(ttl / 9) // try again, a few times within the lease
		}
	}
}

// expired is the reason a run stops when no renewal succeeded within its
// lease.
func expired(ttl time.Duration, lastErr error) error {
	err := fmt.Errorf("%w: no renewal succeeded within its %s lease, so another run may take it over", ErrLockLost, ttl)
	if lastErr != nil {
		// Told, not wrapped: what the renewal met (a deadline, say)
		// must not change how the run's end is classified.
		err = fmt.Errorf("%w (last renewal: %s)", err, lastErr.Error())
	}
	return err
}

// whyLost says who has the lock a renewal found is no longer ours: the
// run that took it over, or whoever freed it with buoy unlock.
func (h *heldLock) whyLost(ctx context.Context, l history.Lock) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now, err := h.d.store.GetLock(ctx, l.Project, l.Environment)
	if err == nil {
		return fmt.Errorf("%w: %s holds it now", ErrLockLost, who(now.RequestedBy, now.BuildURL))
	}
	if us, uerr := h.d.store.ListUnlocks(ctx, l.Project, l.Environment, 1); uerr == nil && len(us) > 0 && us[0].Freed.Owner == l.Owner {
		u := us[0]
		return fmt.Errorf("%w: %s freed it with buoy unlock at %s: %s", ErrLockLost, who(u.RequestedBy, u.CI.BuildURL),
			u.At.UTC().Format(time.RFC3339), u.Reason)
	}
	return fmt.Errorf("%w: it is no longer this run's (freed by buoy unlock, or taken over and freed since)", ErrLockLost)
}

// stopWith stops the run for cause: its context is cancelled with cause,
// and no side effect starts from now on. The first cause is kept.
func (h *heldLock) stopWith(cause error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	first := h.stopped == nil
	if first {
		h.stopped = cause
	}
	env := h.lock.Environment
	h.mu.Unlock()
	if !first {
		return
	}
	h.stopRun(cause)
	h.d.log.Warn("run stopped", "environment", env, "cause", cause)
	h.d.emit(event.Event{Kind: event.Warning, Environment: env,
		Message: fmt.Sprintf("%v; this run stops now: it moves no tag, updates no service and writes nothing more but closing its own record", cause)})
}

// stoppedBy returns why the run stopped acting, or nil while it may act.
// A lease found to have run out stops the run here and now.
func (h *heldLock) stoppedBy() error {
	if h == nil {
		return nil
	}
	// The time first: the lease read after it is at least as recent, and
	// a renewal only ever moves its end later.
	now := h.d.clock.Now()
	h.mu.Lock()
	stopped, end := h.stopped, h.leaseEnd
	h.mu.Unlock()
	if stopped != nil {
		return stopped
	}
	if !now.Before(end) {
		h.stopWith(expired(h.d.lockTTL, nil))
		return h.stoppedBy()
	}
	return nil
}

// act returns the context to make one side effect with: ctx, ending with
// the lease, so that a call can neither start nor linger after it. It
// makes no context, and returns why, when the run may no longer act. A
// request AWS accepted before the lease ended may still be applied after
// it: see docs/history.md.
func (h *heldLock) act(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if h == nil {
		return ctx, func() {}, context.Cause(ctx)
	}
	if err := h.stoppedBy(); err != nil {
		return nil, nil, err
	}
	if ctx.Err() != nil {
		return nil, nil, context.Cause(ctx)
	}
	now := h.d.clock.Now()
	h.mu.Lock()
	left := h.leaseEnd.Sub(now)
	h.mu.Unlock()
	actx, cancel := context.WithTimeoutCause(ctx, left, expired(h.d.lockTTL, nil))
	return actx, cancel, nil
}

// do makes one side effect, f, with act's context.
func (h *heldLock) do(ctx context.Context, f func(context.Context) error) error {
	actx, cancel, err := h.act(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	return f(actx)
}

// release stops the heartbeat and frees the lock if it is still ours,
// even when ctx is cancelled.
func (h *heldLock) release(ctx context.Context) error {
	h.once.Do(func() { close(h.stop) })
	<-h.done
	defer h.stopRun(nil)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	h.mu.Lock()
	l := h.lock
	h.mu.Unlock()
	if err := h.d.store.ReleaseLock(ctx, &l); err != nil {
		return fmt.Errorf("release the lock of environment %s: %w", l.Environment, err)
	}
	return nil
}

// who names a run by its requester and, when known, its CI build (once:
// a requester in CI, "alice via Buildkite (<build URL>)", names it
// already).
func who(requestedBy, buildURL string) string {
	if requestedBy == "" {
		requestedBy = "an unknown requester"
	}
	if buildURL == "" || strings.Contains(requestedBy, "("+buildURL+")") {
		return requestedBy
	}
	return requestedBy + " (" + buildURL + ")"
}
