// Package clock is where buoy's code that waits takes its time from: one
// Clock interface, passed in as an option by every package that waits
// (the orchestration, the rollout waiter, the ECS request budget), and
// System, the real world's. Tests pass clocktest's fake, so that nothing
// sleeps.
package clock

import "time"

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// System is the Clock of the real world: time.Now and time.After.
type System struct{}

var _ Clock = System{}

// Now returns time.Now().
func (System) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }
