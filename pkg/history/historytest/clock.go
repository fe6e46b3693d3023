// Package historytest holds the contract tests every history.Store must
// pass, and a fake clock to drive them. A Store implementation runs them
// with
//
//	func TestContract(t *testing.T) {
//		historytest.Run(t, func(t *testing.T, opts ...history.Option) history.Store {
//			return history.NewMemory(opts...)
//		})
//	}
package historytest

import (
	"sync"
	"time"
)

// Clock is a fake clock that only moves when told to. It is safe for
// concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
