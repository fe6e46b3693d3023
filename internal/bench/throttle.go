package main

import (
	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// throttlingECS starts a proxy in front of moto's ECS that throttles it as
// ECS throttles an account whose other tools use all but share of AWS's
// documented quota: one token bucket per category of actions
// (ecsfake.TokenBucket, on the system clock), holding share of AWS's
// burst and refilled at share of its rate; a call that finds its
// category's bucket empty is answered ThrottlingException and never
// reaches moto. moto itself throttles nothing. Close the proxy when done.
func throttlingECS(endpoint string, share float64) (*faultproxy.Proxy, error) {
	buckets := map[rollout.Category]*ecsfake.TokenBucket{}
	for _, c := range rollout.Categories() {
		q := rollout.AWSQuota(c)
		buckets[c] = ecsfake.NewTokenBucket(clock.System{}, share*q.Rate, int(share*float64(q.Burst)))
	}
	// The proxy asks match one call at a time, in arrival order, so the
	// buckets need no lock of their own.
	empty := func(op string, _ []byte) bool {
		c, ok := rollout.CategoryOf(op)
		return ok && !buckets[c].Take()
	}
	return faultproxy.New(endpoint, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle), faultproxy.WithMatch(empty))
}

// throttledCalls counts the calls the proxy answered ThrottlingException.
func throttledCalls(p *faultproxy.Proxy) int {
	return p.Injected()[faultproxy.Throttle]
}
