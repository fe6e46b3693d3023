package faultproxy

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Through returns a copy of cfg whose clients call the proxy, with the
// SDK's standard retryer allowing maxAttempts attempts per call and a
// backoff capped at maxBackoff, so tests under faults stay fast. The
// standard retryer's retry quota (a token bucket shared by the clients of
// one configuration) is kept, as in production.
func (p *Proxy) Through(cfg aws.Config, maxAttempts int, maxBackoff time.Duration) aws.Config {
	cfg = cfg.Copy()
	cfg.BaseEndpoint = aws.String(p.URL())
	cfg.RetryMaxAttempts = 0
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.NewExponentialJitterBackoff(maxBackoff)
		})
	}
	return cfg
}
