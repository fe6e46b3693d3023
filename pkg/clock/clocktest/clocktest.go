// Package clocktest is the fake clock.Clock of buoy's tests. It offers
// the two ways a test drives code that waits, and a test may switch
// between them:
//
//   - waits that end at once (NewAuto, or AutoAdvance): each wait moves
//     the clock forward by its length and ends, so a rollout of fake
//     minutes runs in no real time, and Sleeps says how long each was;
//   - waits that end when the test says (New): a wait ends once Advance
//     moves the clock past its end, and WaitUntilWaiting lets a test see,
//     without sleeping, that the code it drives is parked on the clock.
package clocktest

import (
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock"
)

// Clock is a fake clock.Clock. It is safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	wake *sync.Cond // broadcast when a wait starts pending
	now  time.Time
	// autoBelow: a wait shorter than this ends at once.
	autoBelow time.Duration
	pending   []timer
	sleeps    []time.Duration
}

type timer struct {
	at time.Time
	ch chan time.Time
}

var _ clock.Clock = (*Clock)(nil)

// New returns a Clock showing start on which a wait of more than zero
// ends only when Advance moves the clock past its end.
func New(start time.Time) *Clock {
	c := &Clock{now: start}
	c.wake = sync.NewCond(&c.mu)
	return c
}

// NewAuto returns a Clock showing start on which every wait ends at
// once, moving the clock forward by its length.
func NewAuto(start time.Time) *Clock {
	c := New(start)
	c.autoBelow = math.MaxInt64
	return c
}

// AutoAdvance makes every later wait shorter than below end at once,
// moving the clock forward by its length; longer ones end when Advance
// passes them (a wait no test advances past never ends). 0 makes every
// wait of more than zero wait for Advance, as on a Clock made by New.
func (c *Clock) AutoAdvance(below time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.autoBelow = below
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the clock's time once d has
// passed on it: at once when d is not above zero, or is shorter than
// AutoAdvance's bound (moving the clock forward by d), else when Advance
// moves the clock past it.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 || d < c.autoBelow {
		c.now = c.now.Add(max(d, 0))
		c.sleeps = append(c.sleeps, d)
		ch <- c.now
		return ch
	}
	c.pending = append(c.pending, timer{at: c.now.Add(d), ch: ch})
	c.wake.Broadcast()
	return ch
}

// Advance moves the clock forward by d and ends the waits it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.pending[:0]
	for _, t := range c.pending {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.pending = kept
}

// Sleeps returns the length of every wait that ended at once, in the
// order they were asked for.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// Slept returns how far the waits that ended at once moved the clock.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var total time.Duration
	for _, d := range c.sleeps {
		total += max(d, 0)
	}
	return total
}

// WaitUntilWaiting returns once n waits are pending on the clock (the
// code the test drives is parked on it), or done is closed. Code stuck
// elsewhere fails the test after ten seconds.
func (c *Clock) WaitUntilWaiting(t testing.TB, n int, done <-chan struct{}) {
	t.Helper()
	stop := make(chan struct{})
	defer close(stop)
	timedOut := false
	go func() {
		select {
		case <-done:
		case <-stop:
			return
		case <-time.After(10 * time.Second):
			c.mu.Lock()
			timedOut = true
			c.mu.Unlock()
		}
		c.mu.Lock()
		c.wake.Broadcast()
		c.mu.Unlock()
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.pending) < n && !timedOut {
		select {
		case <-done:
			return
		default:
		}
		c.wake.Wait()
	}
	if timedOut {
		t.Fatalf("the code driven never parked on %d waits of the clock (%d pending): it is stuck elsewhere", n, len(c.pending))
	}
}
