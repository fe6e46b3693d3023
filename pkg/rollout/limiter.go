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
// second or bursts of 50. At DefaultQuotaShare neither binds (half of
// AWS's largest buckets is 10 a second and bursts of 50); they bound what
// a larger share gives, and lower values slow every category down.
const (
	DefaultRate  = 20.0 // requests per second
	DefaultBurst = 50
)

// Limiter is a token bucket: one category's share of a Budget. It halves its rate each
// time ECS throttles and recovers slowly after successful calls. It is
// safe for concurrent use.
type Limiter struct {
	clock clock.Clock

	mu     sync.Mutex
	base   float64 // configured rate
	rate   float64 // current rate, lowered when throttled
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter returns a budget of rate requests a second with bursts of
// burst requests, timed by clk (nil: the system clock).
func NewLimiter(clk clock.Clock, rate float64, burst int) *Limiter {
	if clk == nil {
		clk = clock.System{}
	}
	rate = max(rate, 0.01)
	b := float64(max(burst, 1))
	return &Limiter{clock: clk, base: rate, rate: rate, burst: b, tokens: b, last: clk.Now()}
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
	if el := now.Sub(l.last).Seconds(); el > 0 {
		l.tokens = min(l.burst, l.tokens+el*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return 0
	}
	return time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
}

// Observe adjusts the budget after a call: throttling halves the rate and
// empties the bucket, success raises the rate back towards its base.
func (l *Limiter) Observe(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isThrottle(err) {
		l.rate = max(l.rate/2, l.base/16)
		l.tokens = 0
		return
	}
	if err == nil {
		l.rate = min(l.base, l.rate*1.1)
	}
}

// Rate returns the current rate in requests a second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate
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
