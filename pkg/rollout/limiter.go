package rollout

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/pkg/clock"
)

// DefaultRate and DefaultBurst are the default caps of a Budget made by
// the deploy package (deploy.WithECSRequestBudget, --ecs-rate and
// --ecs-burst): no category of ECS actions gets more than 20 requests a
// second or bursts of 100. At DefaultQuotaShare neither binds (AWS's
// largest buckets are 20 a second and bursts of 100); lower values slow
// every category down.
const (
	DefaultRate  = 20.0 // requests per second
	DefaultBurst = 100
)

// How a Limiter adapts to ECS's throttling (AIMD: additive increase,
// multiplicative decrease). At the first ThrottlingException of its
// category it cuts its rate (and, in proportion, its burst) by
// BackoffFactor, never below MinRateShare of its ceiling; throttles in
// the BackoffSpacing after a cut answer calls that were in flight when it
// came, and cut no further. Then, for each QuietInterval without
// throttling, it gives back RecoveryStep of its ceiling, never going
// above it.
const (
	BackoffFactor  = 0.5
	BackoffSpacing = time.Second
	MinRateShare   = 1.0 / 16
	QuietInterval  = 5 * time.Second
	RecoveryStep   = 0.1
)

// Limiter is a token bucket: one category's share of a Budget. It starts
// at its ceiling (the rate and burst it was made with), backs off when
// ECS throttles and recovers slowly, as the constants above say. It is
// safe for concurrent use.
type Limiter struct {
	clock clock.Clock

	mu      sync.Mutex
	ceiling float64 // configured rate: never above
	rate    float64 // current rate, lowered when throttled
	burst   float64 // configured burst
	tokens  float64
	last    time.Time // when tokens were last counted
	// cutAt is when the rate was last cut, raisedAt since when it counts
	// quiet intervals; cuts counts the cuts.
	cutAt, raisedAt time.Time
	cuts            int
}

// NewLimiter returns a budget of rate requests a second with bursts of
// burst requests, timed by clk (nil: the system clock).
func NewLimiter(clk clock.Clock, rate float64, burst int) *Limiter {
	if clk == nil {
		clk = clock.System{}
	}
	rate = max(rate, 0.01)
	b := float64(max(burst, 1))
	now := clk.Now()
	return &Limiter{clock: clk, ceiling: rate, rate: rate, burst: b, tokens: b, last: now, raisedAt: now}
}

// Wait takes one request from the budget, waiting for it if needed.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		d := l.reserve()
		if d <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.clock.After(d):
		}
	}
}

// reserve takes a token and returns 0, or returns how long until one is due.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.recover(now)
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = min(l.capacity(), l.tokens+el*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// capacity is the burst at the current rate: the configured burst cut
// in proportion to the rate, at least 1. Callers hold mu.
func (l *Limiter) capacity() float64 {
	return max(1, l.burst*l.rate/l.ceiling)
}

// recover gives back RecoveryStep of the ceiling for each QuietInterval
// since the last cut or raise. Callers hold mu.
func (l *Limiter) recover(now time.Time) {
	if l.rate >= l.ceiling {
		l.raisedAt = now
		return
	}
	n := int(now.Sub(l.raisedAt) / QuietInterval)
	if n <= 0 {
		return
	}
	l.rate = min(l.ceiling, l.rate+float64(n)*RecoveryStep*l.ceiling)
	l.raisedAt = l.raisedAt.Add(time.Duration(n) * QuietInterval)
}

// Observe adjusts the budget after a call (or an attempt of one): a
// ThrottlingException empties the bucket and, unless the rate was cut in
// the last BackoffSpacing, cuts it by BackoffFactor. Other outcomes
// change nothing: the rate recovers with time (QuietInterval).
func (l *Limiter) Observe(err error) {
	if !isThrottle(err) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.recover(now)
	l.tokens, l.last = 0, now
	if l.cuts > 0 && now.Sub(l.cutAt) < BackoffSpacing {
		return
	}
	l.rate = max(l.rate*BackoffFactor, l.ceiling*MinRateShare)
	l.cutAt, l.raisedAt = now, now
	l.cuts++
}

// Rate returns the current rate in requests a second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recover(l.clock.Now())
	return l.rate
}

// Cuts returns how many times the limiter backed off: each throttle
// BackoffSpacing or more after the last (at MinRateShare, the rate stays
// where it is).
func (l *Limiter) Cuts() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cuts
}

// isThrottle reports whether err is AWS saying "too many requests". The
// ECS SDK has no typed throttling error, so this reads the error code.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "Throttling", "ThrottledException",
		"TooManyRequestsException", "RequestLimitExceeded", "RequestThrottled":
		return true
	}
	return false
}
