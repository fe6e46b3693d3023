// Package ghdeploy records deployments on GitHub through the Deployments
// REST API, so that buoy's deployments show on a repository's Environments
// page: it creates a deployment for an environment and posts its statuses.
// Requests are retried on 5xx, 429 and connection errors with backoff.
package ghdeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// DefaultBaseURL is the API of github.com; GitHub Enterprise Server runners
// pass theirs in GITHUB_API_URL.
const DefaultBaseURL = "https://api.github.com"

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
	http       *retryablehttp.Client
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
	return func(c *Client) { c.http.HTTPClient = h }
}

// WithRetry sets how many times a request is retried and the bounds of the
// wait between attempts (defaults: 4 retries, 1s to 30s).
func WithRetry(retries int, minWait, maxWait time.Duration) Option {
	return func(c *Client) {
		c.http.RetryMax = retries
		c.http.RetryWaitMin = minWait
		c.http.RetryWaitMax = maxWait
	}
}

// New returns a client for repository ("owner/name") that authenticates
// with token.
func New(repository, token string, opts ...Option) *Client {
	h := retryablehttp.NewClient()
	h.Logger = nil // the library never prints
	h.RetryMax = 4
	h.RetryWaitMin = time.Second
	h.RetryWaitMax = 30 * time.Second
	h.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	// Keep the last response when retries run out, so the error can say
	// what GitHub answered.
	h.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c := &Client{baseURL: DefaultBaseURL, token: token, repository: repository, http: h}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Deployment asks GitHub to record a deployment.
type Deployment struct {
	// Ref is the commit deployed (GITHUB_SHA).
	Ref         string
	Environment string
	Description string
	// Task defaults to "deploy".
	Task string
	// ProductionEnvironment marks the environment as production.
	ProductionEnvironment bool
}

// Status is one step of a deployment.
type Status struct {
	State          string
	LogURL         string
	EnvironmentURL string
	// Description is shortened to the 140 characters GitHub accepts.
	Description string
}

// Create records a new deployment and returns its id. It never merges
// branches (auto_merge false) and requires no status checks, since the
// image was built and tested before buoy runs.
func (c *Client) Create(ctx context.Context, d Deployment) (int64, error) {
	task := d.Task
	if task == "" {
		task = "deploy"
	}
	body := map[string]any{
		"ref":                    d.Ref,
		"environment":            d.Environment,
		"description":            d.Description,
		"task":                   task,
		"auto_merge":             false,
		"required_contexts":      []string{},
		"production_environment": d.ProductionEnvironment,
	}
	var out struct {
		ID      int64  `json:"id"`
		Message string `json:"message"`
	}
	if err := c.post(ctx, "/repos/"+c.repository+"/deployments", body, &out); err != nil {
		return 0, fmt.Errorf("create GitHub deployment for %s: %w", d.Environment, err)
	}
	if out.ID == 0 {
		// 202: GitHub merged the default branch instead; nothing to track.
		return 0, fmt.Errorf("create GitHub deployment for %s: GitHub created none: %s", d.Environment, out.Message)
	}
	return out.ID, nil
}

// SetStatus posts a status of deployment id.
func (c *Client) SetStatus(ctx context.Context, id int64, s Status) error {
	body := map[string]any{
		"state":       s.State,
		"log_url":     s.LogURL,
		"description": truncate(s.Description, maxDescription),
	}
	if s.EnvironmentURL != "" {
		body["environment_url"] = s.EnvironmentURL
	}
	path := fmt.Sprintf("/repos/%s/deployments/%d/statuses", c.repository, id)
	if err := c.post(ctx, path, body, nil); err != nil {
		return fmt.Errorf("set GitHub deployment %d to %s: %w", id, s.State, err)
	}
	return nil
}

// APIError is GitHub's answer to a request that failed for good.
type APIError struct {
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("GitHub answered %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		msg += " (check the github-token input)"
	case http.StatusForbidden, http.StatusNotFound:
		msg += " (the token needs `permissions: deployments: write`)"
	}
	return msg
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, b)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "buoy-action")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read GitHub's answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		return &APIError{StatusCode: resp.StatusCode, Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(out); err != nil {
		return fmt.Errorf("decode GitHub's answer: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
