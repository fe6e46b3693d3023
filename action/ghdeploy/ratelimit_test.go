package ghdeploy_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

// TestRateLimits: GitHub's rate limits, as GitHub documents them (403 or
// 429 with Retry-After; or with x-ratelimit-remaining: 0 until
// x-ratelimit-reset), are retried after the wait GitHub asks for, on the
// client's clock; a wait longer than the client's limit, or than the
// context has left, is not waited: the request gives up at once, saying
// so.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	resetIn := func(d time.Duration) map[string]string {
		return map[string]string{"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "1000",
			"X-RateLimit-Reset": strconv.FormatInt(start.Add(d).Unix(), 10)}
	}
	retryAfter := func(s string) map[string]string { return map[string]string{"Retry-After": s} }
	limited := func(code int, header map[string]string, body string, n int) []answer {
		out := make([]answer, n)
		for i := range out {
			out[i] = answer{status: code, header: header, body: body}
		}
		return out
	}
	tests := []struct {
		name     string
		script   []answer
		deadline time.Duration // of the context; 0: none
		waits    []time.Duration
		requests int
		// wantErr is what the error says; "" for none.
		wantErr   string
		rateLimit bool // the error is a *RateLimitError
	}{
		{name: "secondary, 403 with Retry-After", script: limited(403, retryAfter("7"), secondaryLimit, 1),
			waits: []time.Duration{7 * time.Second}, requests: 2},
		{name: "secondary, 429 with Retry-After", script: limited(429, retryAfter("3"), secondaryLimit, 1),
			waits: []time.Duration{3 * time.Second}, requests: 2},
		{name: "Retry-After as an HTTP date", script: limited(429, retryAfter(start.Add(12*time.Second).Format(http.TimeFormat)), secondaryLimit, 1),
			waits: []time.Duration{12 * time.Second}, requests: 2},
		{name: "403 with x-ratelimit-remaining 0: until the reset", script: limited(403, resetIn(20*time.Second), primaryLimit, 1),
			waits: []time.Duration{21 * time.Second}, requests: 2},
		{name: "429 with x-ratelimit-remaining 0: until the reset", script: limited(429, resetIn(45*time.Second), secondaryLimit, 1),
			waits: []time.Duration{46 * time.Second}, requests: 2},
		{name: "a reset already past: a second", script: limited(403, resetIn(-time.Minute), primaryLimit, 1),
			waits: []time.Duration{time.Second}, requests: 2},
		{name: "Retry-After beyond the limit: gives up at once", script: limited(403, retryAfter("7200"), secondaryLimit, 1),
			requests: 1, rateLimit: true, wantErr: "GitHub's rate limit (403 Forbidden) lifts in 2h0m0s, later than the 1m0s buoy waits for it: You have exceeded a secondary rate limit"},
		{name: "the hourly reset in 40 minutes: gives up at once", script: limited(403, resetIn(40*time.Minute), primaryLimit, 1),
			requests: 1, rateLimit: true, wantErr: "lifts in 40m1s, later than the 1m0s buoy waits for it: API rate limit exceeded"},
		{name: "a wait longer than the context has left: gives up at once", script: limited(429, retryAfter("50"), secondaryLimit, 1),
			deadline: 20 * time.Second, requests: 1, rateLimit: true, wantErr: "lifts in 50s, later than the"},
		{name: "limited through every retry", script: limited(403, retryAfter("1"), secondaryLimit, 5),
			waits: []time.Duration{time.Second, time.Second, time.Second, time.Second}, requests: 5,
			wantErr: "GitHub answered 403 Forbidden: You have exceeded a secondary rate limit. Please wait a few minutes before you try again. (GitHub's rate limit held through every retry)"},
		{name: "403 without rate limit headers: a permission, not retried", script: limited(403, nil, `{"message":"Resource not accessible by integration"}`, 1),
			requests: 1, wantErr: "Resource not accessible by integration (the token needs `permissions: deployments: write`)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &deploymentsAPI{script: tt.script}
			clock := clocktest.NewAuto(start)
			c := serve(t, g, clock)
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			err := c.SetStatus(ctx, 100, ghdeploy.Status{State: ghdeploy.StateInProgress})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("SetStatus: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("SetStatus: got %v, want an error saying %q", err, tt.wantErr)
			}
			var rl *ghdeploy.RateLimitError
			if errors.As(err, &rl) != tt.rateLimit {
				t.Errorf("error %v: a *RateLimitError: %v, want %v", err, !tt.rateLimit, tt.rateLimit)
			}
			if got := clock.Sleeps(); !reflect.DeepEqual(got, tt.waits) && len(got)+len(tt.waits) > 0 {
				t.Errorf("waits: got %v, want %v", got, tt.waits)
			}
			if requests, _ := g.got(); len(requests) != tt.requests {
				t.Errorf("requests: got %d, want %d: %q", len(requests), tt.requests, requests)
			}
		})
	}
}

// TestRateLimitWaitEndsWithTheContext: a wait for a rate limit ends when
// the step's context does.
func TestRateLimitWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	g := &deploymentsAPI{script: []answer{{status: 429, header: map[string]string{"Retry-After": "30"}, body: secondaryLimit}}}
	clock := clocktest.New(start) // waits end only when the test advances the clock: never
	c := serve(t, g, clock)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.SetStatus(ctx, 100, ghdeploy.Status{State: ghdeploy.StateSuccess}) }()
	clock.WaitUntilWaiting(t, 1, nil)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("SetStatus: got %v, want context.Canceled", err)
	}
	if requests, _ := g.got(); len(requests) != 1 {
		t.Errorf("requests: got %d, want 1 (no retry after the context ended)", len(requests))
	}
}
