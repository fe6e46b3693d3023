package deploy

import "time"

// DefaultRollbackTimeout is the least time a rollback waits for ECS when
// Request.RollbackTimeout is zero.
const DefaultRollbackTimeout = 5 * time.Minute

// rollbackDeadline says when a rollback (moving tags back, redeploying
// and waiting for ECS) must be done: it gets what is left of the
// rollout's timeout, counted from the start of the rollout's wait, and at
// least rollbackTimeout from now, when it starts. So the whole wait for
// ECS, the rollout's and the rollback's, ends within timeout +
// rollbackTimeout of its start.
func rollbackDeadline(waitStart, now time.Time, timeout, rollbackTimeout time.Duration) time.Time {
	if rollbackTimeout <= 0 {
		rollbackTimeout = DefaultRollbackTimeout
	}
	deadline := waitStart.Add(timeout)
	if least := now.Add(rollbackTimeout); least.After(deadline) {
		deadline = least
	}
	if limit := waitStart.Add(timeout + rollbackTimeout); deadline.After(limit) {
		deadline = limit
	}
	return deadline
}

// until is what is left before deadline, for a wait: never zero, which
// would mean the default timeout, so a rollback out of time still looks
// at ECS once.
func until(now, deadline time.Time) time.Duration {
	return max(deadline.Sub(now), time.Nanosecond)
}
