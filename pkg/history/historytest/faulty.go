package historytest

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// ErrDied is the error of every write to a Faulty store whose process
// died (SetDead).
var ErrDied = errors.New("process died")

// Faulty is a history.Store that passes every call to another and fails
// the writes a test picks: all of them, as when the process dies
// (SetDead), or those a hook refuses (BeforeWrite); it counts the writes
// that reached the store, by method. Reads always pass. It is safe for
// concurrent use.
type Faulty struct {
	history.Store

	mu     sync.Mutex
	dead   bool
	before func(op string) error
	writes map[string]int
}

var _ history.Store = (*Faulty)(nil)

// NewFaulty returns a Faulty store over s.
func NewFaulty(s history.Store) *Faulty {
	return &Faulty{Store: s, writes: map[string]int{}}
}

// SetDead makes every later write fail with ErrDied (true), or pass again
// (false), as a run that died and the run that takes over see it.
func (f *Faulty) SetDead(dead bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead = dead
}

// BeforeWrite sets a hook run before each write, with the method's name
// (e.g. "UpdateDeployment"); its error fails the write, which then does
// not reach the store. It may run for several writes at once.
func (f *Faulty) BeforeWrite(hook func(op string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = hook
}

// Writes returns how many writes of each method reached the store.
func (f *Faulty) Writes() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.writes)
}

// write decides whether the write op may reach the store, and counts it
// when it may.
func (f *Faulty) write(op string) error {
	f.mu.Lock()
	dead, before := f.dead, f.before
	f.mu.Unlock()
	if dead {
		return ErrDied
	}
	if before != nil {
		if err := before(op); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes[op]++
	return nil
}

// PutRelease passes the write unless it fails.
func (f *Faulty) PutRelease(ctx context.Context, r *history.Release) error {
	if err := f.write("PutRelease"); err != nil {
		return err
	}
	return f.Store.PutRelease(ctx, r)
}

// CreateDeployment passes the write unless it fails.
func (f *Faulty) CreateDeployment(ctx context.Context, d *history.Deployment) error {
	if err := f.write("CreateDeployment"); err != nil {
		return err
	}
	return f.Store.CreateDeployment(ctx, d)
}

// UpdateDeployment passes the write unless it fails.
func (f *Faulty) UpdateDeployment(ctx context.Context, d *history.Deployment) error {
	if err := f.write("UpdateDeployment"); err != nil {
		return err
	}
	return f.Store.UpdateDeployment(ctx, d)
}

// SetCurrent passes the write unless it fails.
func (f *Faulty) SetCurrent(ctx context.Context, c *history.Current) error {
	if err := f.write("SetCurrent"); err != nil {
		return err
	}
	return f.Store.SetCurrent(ctx, c)
}

// AcquireLock passes the write unless it fails.
func (f *Faulty) AcquireLock(ctx context.Context, l history.Lock, ttl time.Duration) (*history.Lock, error) {
	if err := f.write("AcquireLock"); err != nil {
		return nil, err
	}
	return f.Store.AcquireLock(ctx, l, ttl)
}

// TakeOverLock passes the write unless it fails.
func (f *Faulty) TakeOverLock(ctx context.Context, l history.Lock, ttl time.Duration, stale history.Lock) (*history.Lock, error) {
	if err := f.write("TakeOverLock"); err != nil {
		return nil, err
	}
	return f.Store.TakeOverLock(ctx, l, ttl, stale)
}

// RenewLock passes the write unless it fails.
func (f *Faulty) RenewLock(ctx context.Context, l *history.Lock, ttl time.Duration) error {
	if err := f.write("RenewLock"); err != nil {
		return err
	}
	return f.Store.RenewLock(ctx, l, ttl)
}

// ReleaseLock passes the write unless it fails.
func (f *Faulty) ReleaseLock(ctx context.Context, l *history.Lock) error {
	if err := f.write("ReleaseLock"); err != nil {
		return err
	}
	return f.Store.ReleaseLock(ctx, l)
}

// BreakLock passes the write unless it fails.
func (f *Faulty) BreakLock(ctx context.Context, u *history.Unlock) error {
	if err := f.write("BreakLock"); err != nil {
		return err
	}
	return f.Store.BreakLock(ctx, u)
}
