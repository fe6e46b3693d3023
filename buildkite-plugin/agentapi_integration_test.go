//go:build integration

package main

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// agentAPI fakes the part of the Buildkite agent API that
// `buildkite-agent bootstrap`, and the `buildkite-agent` commands a job's
// hooks run, talk to. It records every request, keeps annotations and
// meta-data as the real API does, and answers anything else with an empty
// JSON object.
type agentAPI struct {
	// URL is the endpoint to give the agent (BUILDKITE_AGENT_ENDPOINT).
	URL string

	mu       sync.Mutex
	requests []apiRequest
	notes    []apiAnnotation
	meta     map[string]string
}

// apiRequest is one request the fake received.
type apiRequest struct {
	Method, Path, Auth string
	Body               string
}

// apiAnnotation is an annotation as the agent sends it.
type apiAnnotation struct {
	Body    string `json:"body"`
	Context string `json:"context"`
	Style   string `json:"style"`
	Append  bool   `json:"append"`
}

// newAgentAPI starts the fake on a free 127.0.0.1 port for the test.
func newAgentAPI(t *testing.T) *agentAPI {
	t.Helper()
	a := &agentAPI{meta: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL + "/v3"
	return a
}

func (a *agentAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, apiRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: string(body)})
	var kv struct{ Key, Value string }
	_ = json.Unmarshal(body, &kv)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/annotations") && r.Method == http.MethodPost:
		var n apiAnnotation
		if err := json.Unmarshal(body, &n); err != nil {
			http.Error(w, `{"message":"bad annotation"}`, http.StatusUnprocessableEntity)
			return
		}
		a.notes = append(a.notes, n)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{}`)
	case strings.HasSuffix(r.URL.Path, "/data/set"):
		a.meta[kv.Key] = kv.Value
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{}`)
	case strings.HasSuffix(r.URL.Path, "/data/exists"):
		_, ok := a.meta[kv.Key]
		_ = json.NewEncoder(w).Encode(map[string]bool{"exists": ok})
	case strings.HasSuffix(r.URL.Path, "/data/get"):
		v, ok := a.meta[kv.Key]
		if !ok {
			http.Error(w, `{"message":"No key found"}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"key": kv.Key, "value": v})
	default:
		_, _ = io.WriteString(w, `{}`)
	}
}

// Requests returns every request received so far, in order.
func (a *agentAPI) Requests() []apiRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apiRequest(nil), a.requests...)
}

// Annotations returns the annotations received, in order.
func (a *agentAPI) Annotations() []apiAnnotation {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]apiAnnotation(nil), a.notes...)
}

// MetaData returns the build meta-data, key to value.
func (a *agentAPI) MetaData() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.meta)
}
