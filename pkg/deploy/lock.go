package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// heldLock is an environment lock this run holds, renewed in the
// background until released.
type heldLock struct {
	d      *Deployer
	lock   *history.Lock
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	lostAt error
}

// lock takes the environment's lock, waiting up to the lock wait while
// another live run holds it, then starts renewing it every third of its
// lease.
func (d *Deployer) lock(ctx context.Context, env string, req Request) (*heldLock, error) {
	want := history.Lock{
		Project:     d.project.ID,
		Environment: env,
		Owner:       d.owner(),
		RequestedBy: req.RequestedBy,
		BuildURL:    req.CI.BuildURL,
	}
	deadline := d.now().Add(d.lockWait)
	waiting := false
	for {
		got, err := d.store.AcquireLock(ctx, want, d.lockTTL)
		if err == nil {
			if prev := got.Previous; prev != nil {
				d.emit(event.Event{Kind: event.Warning, Environment: env,
					Message: fmt.Sprintf("took over the lock of %s, whose lease expired at %s: that run stopped without freeing it",
						who(prev.RequestedBy, prev.BuildURL), prev.ExpiresAt.UTC().Format(time.RFC3339))})
			}
			h := &heldLock{d: d, lock: got, stop: make(chan struct{}), done: make(chan struct{})}
			go h.heartbeat(context.WithoutCancel(ctx))
			return h, nil
		}
		var locked *history.LockedError
		if !errors.As(err, &locked) {
			return nil, fmt.Errorf("lock environment %s: %w", env, err)
		}
		left := deadline.Sub(d.now())
		if left <= 0 {
			return nil, fmt.Errorf("lock environment %s: waited %s: %w; wait for that run to finish, or pass a longer lock wait",
				env, d.lockWait.Round(time.Second), err)
		}
		if !waiting {
			waiting = true
			d.emit(event.Event{Kind: event.Warning, Environment: env,
				Message: fmt.Sprintf("waiting up to %s for the lock: %v", left.Round(time.Second), locked)})
		}
		if err := d.sleep(ctx, min(d.pollInterval, left)); err != nil {
			return nil, fmt.Errorf("lock environment %s: %w", env, err)
		}
	}
}

func (h *heldLock) heartbeat(ctx context.Context) {
	defer close(h.done)
	every := h.d.lockTTL / 3
	for {
		select {
		case <-h.stop:
			return
		case <-h.d.clock.After(every):
		}
		if err := h.d.store.RenewLock(ctx, h.lock, h.d.lockTTL); err != nil {
			h.mu.Lock()
			h.lostAt = err
			h.mu.Unlock()
			h.d.log.Warn("renew lock", "environment", h.lock.Environment, "err", err)
			h.d.emit(event.Event{Kind: event.Warning, Environment: h.lock.Environment,
				Message: fmt.Sprintf("could not renew the environment lock: %v", err)})
			if errors.Is(err, history.ErrConflict) {
				return
			}
		}
	}
}

// release stops the heartbeat and frees the lock, even when ctx is
// cancelled.
func (h *heldLock) release(ctx context.Context) error {
	h.once.Do(func() { close(h.stop) })
	<-h.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := h.d.store.ReleaseLock(ctx, h.lock); err != nil {
		return fmt.Errorf("release the lock of environment %s: %w", h.lock.Environment, err)
	}
	return nil
}

// who names a run by its requester and, when known, its CI build.
func who(requestedBy, buildURL string) string {
	if requestedBy == "" {
		requestedBy = "an unknown requester"
	}
	if buildURL == "" {
		return requestedBy
	}
	return requestedBy + " (" + buildURL + ")"
}
