// Package ghdeploy records deployments on GitHub through the Deployments
// REST API, so that buoy's deployments show on a repository's Environments
// page: it creates a deployment for an environment (or finds the one a
// retried or re-run step created) and posts its statuses.
//
// Requests go through go-retryablehttp: they are retried on 5xx, 429 and
// connection errors with backoff, and on GitHub's rate limits (403 or 429
// with Retry-After, or with x-ratelimit-remaining: 0) after the wait
// GitHub asks for, unless that wait is longer than the client waits
// (WithMaxRateLimitWait, and the context's deadline): then it gives up at
// once with a *RateLimitError. Every wait is on the client's clock.
package ghdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/buoy-deploy/buoy/pkg/clock"
)

// DefaultBaseURL is the API of github.com; GitHub Enterprise Server runners
// pass theirs in GITHUB_API_URL.
const DefaultBaseURL = "https://api.github.com"

// DefaultMaxRateLimitWait is the longest a client waits, by default, for
// a rate limit GitHub says will lift (Retry-After, x-ratelimit-reset).
const DefaultMaxRateLimitWait = time.Minute

// The states a deployment status can take.
const (
	StateQueued     = "queued"
	StateInProgress = "in_progress"
	StateSuccess    = "success"
	StateFailure    = "failure"
	StateError      = "error"
)

// maxDescription is the longest description GitHub accepts on a status.
const maxDescription = 140

// Client calls the Deployments API of one repository. It is safe for
// concurrent use.
type Client struct {
	baseURL    string
	token      string
	repository string
	http       *http.Client
	retries    int
	minWait    time.Duration
	maxWait    time.Duration
	// maxRateLimitWait is the longest wait for a rate limit.
	maxRateLimitWait time.Duration
	clock            clock.Clock
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the API's base URL (GITHUB_API_URL); "" keeps the
// default.
func WithBaseURL(u string) Option {
	return func(c *Client) {
		if u != "" {
			c.baseURL = strings.TrimSuffix(u, "/")
		}
	}
}

// WithHTTPClient sets the HTTP client requests go through (retries wrap it).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) { c.http = h }
}

// WithRetry sets how many times a request is retried and the bounds of the
// wait between attempts when GitHub does not say how long to wait
// (defaults: 4 retries, 1s to 30s).
func WithRetry(retries int, minWait, maxWait time.Duration) Option {
	return func(c *Client) {
		c.retries, c.minWait, c.maxWait = retries, minWait, maxWait
	}
}

// WithMaxRateLimitWait sets the longest wait for a rate limit to lift
// (default DefaultMaxRateLimitWait); GitHub asking for a longer one ends
// the request with a *RateLimitError.
func WithMaxRateLimitWait(d time.Duration) Option {
	return func(c *Client) { c.maxRateLimitWait = d }
}

// WithClock sets the clock the client waits on between attempts (default:
// the system clock).
func WithClock(cl clock.Clock) Option {
	return func(c *Client) { c.clock = cl }
}

// New returns a client for repository ("owner/name") that authenticates
// with token.
func New(repository, token string, opts ...Option) *Client {
	c := &Client{baseURL: DefaultBaseURL, token: token, repository: repository,
		http:    &http.Client{Timeout: 30 * time.Second},
		retries: 4, minWait: time.Second, maxWait: 30 * time.Second,
		maxRateLimitWait: DefaultMaxRateLimitWait, clock: clock.System{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// APIError is GitHub's answer to a request that failed for good.
type APIError struct {
	StatusCode int
	Message    string
	// RateLimited says GitHub's rate limit still held when the retries
	// ran out.
	RateLimited bool
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("GitHub answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch {
	case e.RateLimited:
		msg += " (GitHub's rate limit held through every retry)"
	case e.StatusCode == http.StatusUnauthorized:
		msg += " (check the github-token input)"
	case e.StatusCode == http.StatusForbidden, e.StatusCode == http.StatusNotFound:
		msg += " (the token needs `permissions: deployments: write`)"
	}
	return msg
}

// request is one call of the API.
type request struct {
	method, path string
	body         any // JSON; nil sends none
	out          any // decodes the answer; nil ignores it
	// beforeRetry, when set, runs before each retry, after the wait; its
	// error ends the request with that error.
	beforeRetry func(ctx context.Context) error
}

// do sends r, retrying as the package doc says.
func (c *Client) do(ctx context.Context, r request) error {
	var body any
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return err
		}
		body = b
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, c.baseURL+r.path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "buoy-action")
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.retrying(r.beforeRetry).Do(req)
	if resp != nil {
		defer func() { _ = resp.Body.Close() }()
	}
	var limited *RateLimitError
	if errors.As(err, &limited) && resp != nil {
		limited.Message = githubMessage(resp.Body)
	}
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read GitHub's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		_, rateLimited := c.rateLimitWait(resp)
		return &APIError{StatusCode: resp.StatusCode, Message: githubMessage(strings.NewReader(string(data))), RateLimited: rateLimited}
	}
	if r.out == nil {
		return nil
	}
	if err := json.Unmarshal(data, r.out); err != nil {
		return fmt.Errorf("decode GitHub's answer: %w", err)
	}
	return nil
}

// retrying returns the retryablehttp client of one request: its checks
// and waits are the Client's, its waits on the Client's clock (Backoff
// says how long, PrepareRetry waits, then runs beforeRetry).
func (c *Client) retrying(beforeRetry func(context.Context) error) *retryablehttp.Client {
	var owed time.Duration
	return &retryablehttp.Client{
		HTTPClient:   c.http,
		RetryMax:     c.retries,
		RetryWaitMin: c.minWait,
		RetryWaitMax: c.maxWait,
		CheckRetry:   c.checkRetry,
		Backoff: func(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
			owed = c.backoff(minWait, maxWait, attempt, resp)
			return 0
		},
		PrepareRetry: func(req *http.Request) error {
			if err := c.sleep(req.Context(), owed); err != nil {
				return err
			}
			if beforeRetry != nil {
				return beforeRetry(req.Context())
			}
			return nil
		},
		// Keep the last response when retries run out, so the error can
		// say what GitHub answered.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
}

// sleep waits d on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.clock.After(d):
		return nil
	}
}

// githubMessage is the message of GitHub's JSON error body.
func githubMessage(body io.Reader) string {
	var e struct {
		Message string `json:"message"`
	}
	_ = json.NewDecoder(io.LimitReader(body, 1<<20)).Decode(&e)
	return e.Message
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
