package ghdeploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Deployment asks GitHub to record a deployment.
type Deployment struct {
	// Ref is the commit deployed (GITHUB_SHA).
	Ref         string
	Environment string
	Description string
	// Task defaults to "deploy".
	Task string
	// ProductionEnvironment marks the environment as production (buoy:
	// the manifest's environment is protected).
	ProductionEnvironment bool
	// Run is the workflow run step that asks; Create reuses the
	// deployment an earlier try of the same step created.
	Run Run
}

// Run names one step of one attempt of a workflow run, for one project.
// It is kept in the deployment's payload (payload.buoy); a deployment
// whose payload names the same run, attempt, job, step and project, of
// the same commit, environment and task, is the one this step created.
type Run struct {
	ID      string `json:"run_id"`      // GITHUB_RUN_ID
	Attempt string `json:"run_attempt"` // GITHUB_RUN_ATTEMPT
	Job     string `json:"job"`         // GITHUB_JOB
	Step    string `json:"step"`        // GITHUB_ACTION: the step's id
	Project string `json:"project"`     // buoy's project id
}

// Status is one step of a deployment.
type Status struct {
	State          string
	LogURL         string
	EnvironmentURL string
	// Description is shortened to the 140 characters GitHub accepts.
	Description string
}

// foundError ends a POST's retries: the deployment the lost answer would
// have named exists.
type foundError struct{ id int64 }

func (e *foundError) Error() string { return fmt.Sprintf("found deployment %d", e.id) }

// Create records a deployment and returns its id. When d.Run names the
// run, it first looks for the deployment this step created on an earlier
// try (a re-run of the step, or a POST whose answer was lost) and
// returns that one; a POST it retries is looked for again before each
// retry. The deployment never merges branches (auto_merge false) and
// requires no status checks, since the image was built and tested before
// buoy runs.
func (c *Client) Create(ctx context.Context, d Deployment) (int64, error) {
	if d.Task == "" {
		d.Task = "deploy"
	}
	body := map[string]any{
		"ref":                    d.Ref,
		"environment":            d.Environment,
		"description":            d.Description,
		"task":                   d.Task,
		"auto_merge":             false,
		"required_contexts":      []string{},
		"production_environment": d.ProductionEnvironment,
		"transient_environment":  false,
	}
	var lookUp func(context.Context) error
	if d.Run.ID != "" {
		body["payload"] = map[string]any{"buoy": d.Run}
		id, err := c.find(ctx, d)
		if err != nil || id != 0 {
			return id, err
		}
		lookUp = func(ctx context.Context) error {
			id, err := c.find(ctx, d)
			if err == nil && id != 0 {
				return &foundError{id: id}
			}
			return err
		}
	}
	var out struct {
		ID      int64  `json:"id"`
		Message string `json:"message"`
	}
	err := c.do(ctx, request{method: http.MethodPost, path: "/repos/" + c.repository + "/deployments", body: body, out: &out, beforeRetry: lookUp})
	var found *foundError
	switch {
	case errors.As(err, &found):
		return found.id, nil
	case err != nil:
		return 0, fmt.Errorf("create GitHub deployment for %s: %w", d.Environment, err)
	case out.ID == 0:
		// 202: GitHub merged the default branch instead; nothing to track.
		return 0, fmt.Errorf("create GitHub deployment for %s: GitHub created none: %s", d.Environment, out.Message)
	}
	return out.ID, nil
}

// find returns the id of the deployment of d's ref, environment and task
// whose payload names d.Run, or 0. GitHub lists the newest first; one
// page of 100 holds every try of a step.
func (c *Client) find(ctx context.Context, d Deployment) (int64, error) {
	q := url.Values{"sha": {d.Ref}, "environment": {d.Environment}, "task": {d.Task}, "per_page": {"100"}}
	var list []struct {
		ID      int64           `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/repos/" + c.repository + "/deployments?" + q.Encode(), out: &list}); err != nil {
		return 0, fmt.Errorf("look for the GitHub deployment this step created before: %w", err)
	}
	for _, dep := range list {
		if run, ok := payloadRun(dep.Payload); ok && run == d.Run {
			return dep.ID, nil
		}
	}
	return 0, nil
}

// payloadRun reads the Run in a deployment's payload, which GitHub
// returns as the object it was given (or, for a payload given as a
// string, that string).
func payloadRun(raw json.RawMessage) (Run, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = json.RawMessage(s)
	}
	var p struct {
		Buoy *Run `json:"buoy"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Buoy == nil {
		return Run{}, false
	}
	return *p.Buoy, true
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
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: body}); err != nil {
		return fmt.Errorf("set GitHub deployment %d to %s: %w", id, s.State, err)
	}
	return nil
}
