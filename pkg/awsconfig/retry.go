package awsconfig

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// buoy's retry policy for a configuration that has none of its own.
//
// A deployment of 200 services makes about 850 calls. With the SDK's
// default of 3 attempts, a call fails when 3 attempts in a row do: at a
// fifth of calls failing (throttling or 5xx, as in buoy's fault tests)
// that is 1 call in 125, and most such deployments would fail. With 10
// attempts it is 1 in 10 million. The backoff is the standard retryer's
// exponential one with jitter, capped at 20 s, so a call that keeps
// failing gives up after about two minutes at worst.
//
// The mode is standard, not adaptive. ECS calls, the bulk of a
// deployment, are already shaped by buoy's own request budget
// (rollout.Budget), which slows down when ECS throttles; adaptive mode's
// client-side rate limiter would throttle the same calls a second time,
// per client, and can hold calls back long after the throttling ended.
// The SDK documents adaptive mode as experimental (and its retry quota
// does not refill after successes: aws/aws-sdk-go-v2#3550).
const (
	DefaultMaxAttempts = 10
	DefaultMaxBackoff  = 20 * time.Second
)

// DefaultRetries gives cfg buoy's retry policy (standard mode,
// DefaultMaxAttempts attempts, backoff capped at DefaultMaxBackoff) unless
// cfg already says how to retry: a Retryer, RetryMaxAttempts or
// RetryMode, as config.LoadDefaultConfig sets them from AWS_MAX_ATTEMPTS,
// AWS_RETRY_MODE, the shared config's max_attempts and retry_mode, or
// config.WithRetryer. It reports whether it set the policy.
func DefaultRetries(cfg *aws.Config) bool {
	if cfg.Retryer != nil || cfg.RetryMaxAttempts != 0 || cfg.RetryMode != "" {
		return false
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = DefaultMaxAttempts
			o.MaxBackoff = DefaultMaxBackoff
		})
	}
	return true
}
