package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// UnlockInput asks to free an environment's lock by hand.
type UnlockInput struct {
	// Environment is the id of the environment whose lock to free.
	Environment string
	// Reason says why; it is kept in the history. Required.
	Reason string
	// RequestedBy names who frees it (a person, or "actor via CI").
	RequestedBy string
	CI          history.CI
}

// UnlockResult says what Unlock did.
type UnlockResult struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	// Unlock is the record of the lock freed, with whose it was; nil
	// when the environment was not locked.
	Unlock *history.Unlock `json:"unlock"`
}

// Unlock frees an environment's lock whoever holds it: a run that was
// killed (its lock would be taken over only a lease after another run
// first sees it), or one that is stuck. It frees the lock it read and
// never a newer one, and records who freed it, when, why and whose it
// was. The run that held it stops at its next renewal (see ErrLockLost).
// An environment that is not locked is no error: the result's Unlock is
// nil. A lock that changed hands meanwhile gives a *history.LockedError
// naming its new holder.
func (d *Deployer) Unlock(ctx context.Context, in UnlockInput) (*UnlockResult, error) {
	env, err := d.environment(in.Environment)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return nil, invalid("say why the lock of %s is freed: the reason is kept in the history", env.ID)
	}
	res := &UnlockResult{Project: d.project.ID, Environment: env.ID}
	held, err := d.store.GetLock(ctx, d.project.ID, env.ID)
	if errors.Is(err, history.ErrNotFound) {
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lock of %s: %w", env.ID, err)
	}
	u := &history.Unlock{Project: d.project.ID, Environment: env.ID, At: d.now(),
		RequestedBy: in.RequestedBy, CI: in.CI, Reason: in.Reason, Freed: *held}
	err = d.store.BreakLock(ctx, u)
	switch {
	case errors.Is(err, history.ErrNotFound):
		return res, nil // freed meanwhile, by its run
	case err != nil:
		return nil, fmt.Errorf("free the lock of %s of %s: %w; read it again (buoy status) before freeing it", env.ID, who(held.RequestedBy, held.BuildURL), err)
	}
	res.Unlock = u
	d.emit(event.Event{Kind: event.Warning, Environment: env.ID,
		Message: fmt.Sprintf("freed the lock of %s, taken at %s: that run stops at its next renewal, within %s", who(held.RequestedBy, held.BuildURL),
			held.AcquiredAt.UTC().Format(time.RFC3339), renewalWithin(held.TTL))})
	return res, nil
}

// renewalWithin is how soon a run renews its lock of lease ttl: a third
// of it (of the longest lease, when the lock does not say).
func renewalWithin(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = MaxLockTTL
	}
	return ttl / 3
}
