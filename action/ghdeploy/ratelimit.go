package ghdeploy

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// RateLimitError says GitHub's rate limit asks to wait longer than the
// client waits: WithMaxRateLimitWait, or what is left of the context's
// time. The client gave up at once rather than wait.
type RateLimitError struct {
	StatusCode int
	// Wait is how long GitHub asks to wait; Limit how long the client
	// would have waited at most.
	Wait, Limit time.Duration
	// Message is GitHub's.
	Message string
}

func (e *RateLimitError) Error() string {
	msg := fmt.Sprintf("GitHub's rate limit (%d %s) lifts in %s, later than the %s buoy waits for it",
		e.StatusCode, http.StatusText(e.StatusCode), e.Wait.Round(time.Second), e.Limit.Round(time.Second))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// rateLimitWait says whether resp is GitHub's rate limit and, if so, how
// long it asks to wait: a 403 or 429 with Retry-After (seconds, or an
// HTTP date), or with x-ratelimit-remaining: 0 until x-ratelimit-reset
// (UTC epoch seconds) and a second more, the reset being counted in whole
// seconds. See GitHub's "Rate limits for the REST API".
func (c *Client) rateLimitWait(resp *http.Response) (time.Duration, bool) {
	if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests) {
		return 0, false
	}
	now := c.clock.Now()
	if v := resp.Header.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			return max(time.Unix(reset, 0).Sub(now), 0) + time.Second, true
		}
	}
	return 0, false
}

// checkRetry is retryablehttp's default policy (retry connection errors,
// 429 and 5xx but 501), plus GitHub's rate limits: retried when the wait
// they ask for fits in the client's limit and the context's time, else
// given up at once with a *RateLimitError.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err == nil {
		if wait, ok := c.rateLimitWait(resp); ok {
			limit := c.maxRateLimitWait
			if deadline, ok := ctx.Deadline(); ok {
				limit = min(limit, time.Until(deadline))
			}
			if wait > limit {
				return false, &RateLimitError{StatusCode: resp.StatusCode, Wait: wait, Limit: limit}
			}
			return true, nil
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// backoff is how long to wait before the next attempt: what a rate limit
// asks for, else retryablehttp's exponential backoff (which honours
// Retry-After on 429 and 503).
func (c *Client) backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if wait, ok := c.rateLimitWait(resp); ok {
		return wait
	}
	return retryablehttp.DefaultBackoff(minWait, maxWait, attempt, resp)
}
