package ecsfake

import (
	"sync"
	"time"
)

// Clock is a fake clock for code that waits: After moves the time forward
// by d at once and fires, so waits take no real time. It is safe for
// concurrent use.
type Clock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

// NewClock returns a clock that starts at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After advances the clock by d and returns a channel that has fired.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(max(d, 0))
	c.slept += max(d, 0)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Slept returns the total time After was asked to wait.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}
