package ghdeploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
)

// fakeGitHub is a Deployments API that records requests and answers from a
// script: the first len(fail) requests get those status codes.
type fakeGitHub struct {
	mu       sync.Mutex
	fail     []int
	requests []recorded
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.requests = append(f.requests, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"message":"scripted failure"}`))
		return
	}
	w.WriteHeader(http.StatusCreated)
	if strings.HasSuffix(r.URL.Path, "/deployments") {
		_, _ = w.Write([]byte(`{"id": 42}`))
		return
	}
	_, _ = w.Write([]byte(`{"id": 7, "state": "success"}`))
}

func (f *fakeGitHub) got() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

func newClient(t *testing.T, f *fakeGitHub) *ghdeploy.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return ghdeploy.New("acme/shop", "s3cret",
		ghdeploy.WithBaseURL(srv.URL+"/"),
		ghdeploy.WithHTTPClient(srv.Client()),
		ghdeploy.WithRetry(3, time.Millisecond, 5*time.Millisecond))
}

func TestCreateSendsWhatGitHubNeeds(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := newClient(t, f)
	id, err := c.Create(context.Background(), ghdeploy.Deployment{Ref: "abc123", Environment: "stage", Description: "run 1"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if id != 42 {
		t.Errorf("id = %d, want 42", id)
	}
	reqs := f.got()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/repos/acme/shop/deployments" {
		t.Errorf("request = %s %s, want POST /repos/acme/shop/deployments", r.Method, r.Path)
	}
	for k, want := range map[string]string{
		"Accept":               "application/vnd.github+json",
		"X-Github-Api-Version": "2022-11-28",
		"Authorization":        "Bearer s3cret",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	for k, want := range map[string]any{
		"ref": "abc123", "environment": "stage", "task": "deploy", "auto_merge": false, "description": "run 1",
	} {
		if got := r.Body[k]; got != want {
			t.Errorf("body %s = %v, want %v", k, got, want)
		}
	}
	if rc, ok := r.Body["required_contexts"].([]any); !ok || len(rc) != 0 {
		t.Errorf("body required_contexts = %#v, want []", r.Body["required_contexts"])
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{}
	c := newClient(t, f)
	long := strings.Repeat("x", 200)
	err := c.SetStatus(context.Background(), 42, ghdeploy.Status{
		State: ghdeploy.StateSuccess, LogURL: "https://github.com/acme/shop/actions/runs/1",
		EnvironmentURL: "https://stage.example.com", Description: long,
	})
	if err != nil {
		t.Fatalf("SetStatus: %v", err)
	}
	r := f.got()[0]
	if r.Path != "/repos/acme/shop/deployments/42/statuses" {
		t.Errorf("path = %s, want /repos/acme/shop/deployments/42/statuses", r.Path)
	}
	if r.Body["state"] != "success" || r.Body["log_url"] != "https://github.com/acme/shop/actions/runs/1" ||
		r.Body["environment_url"] != "https://stage.example.com" {
		t.Errorf("body = %v, want state success with log_url and environment_url", r.Body)
	}
	if d, _ := r.Body["description"].(string); len([]rune(d)) != 140 {
		t.Errorf("description has %d characters, want 140", len([]rune(d)))
	}
}

func TestRetriesServerErrors(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{fail: []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusTooManyRequests}}
	c := newClient(t, f)
	id, err := c.Create(context.Background(), ghdeploy.Deployment{Ref: "abc", Environment: "prod"})
	if err != nil {
		t.Fatalf("Create after three transient failures: %v", err)
	}
	if id != 42 {
		t.Errorf("id = %d, want 42", id)
	}
	if n := len(f.got()); n != 4 {
		t.Errorf("got %d requests, want 4 (3 failures, 1 success)", n)
	}
	for i, r := range f.got() {
		if r.Body["ref"] != "abc" {
			t.Errorf("attempt %d sent body %v, want the same body every time", i+1, r.Body)
		}
	}
}

func TestGivesUpAndSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fail     []int
		requests int
		want     string
	}{
		{"server errors until retries run out", []int{500, 500, 500, 500, 500}, 4, "500"},
		{"no retry on a client error", []int{http.StatusForbidden}, 1, "deployments: write"},
		{"bad token", []int{http.StatusUnauthorized}, 1, "github-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeGitHub{fail: tt.fail}
			c := newClient(t, f)
			err := c.SetStatus(context.Background(), 1, ghdeploy.Status{State: ghdeploy.StateFailure})
			var apiErr *ghdeploy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an *APIError", err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "scripted failure") {
				t.Errorf("err = %q, want it to contain %q and GitHub's message", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("err = %q leaks the token", err)
			}
			if n := len(f.got()); n != tt.requests {
				t.Errorf("got %d requests, want %d", n, tt.requests)
			}
		})
	}
}

func TestStopsWhenContextIsCancelled(t *testing.T) {
	t.Parallel()
	f := &fakeGitHub{fail: []int{500, 500, 500, 500, 500}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := ghdeploy.New("acme/shop", "t", ghdeploy.WithBaseURL(srv.URL), ghdeploy.WithRetry(4, time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Create(ctx, ghdeploy.Deployment{Ref: "abc", Environment: "prod"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Create took %s after the context ended", time.Since(start))
	}
}
