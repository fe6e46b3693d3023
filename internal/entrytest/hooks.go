package entrytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The variables that hold the Hooks' URLs and signing key, as the
// manifest's notify targets name them (Hooks.YAML).
const (
	SlackURLVar   = "BUOY_TEST_SLACK_WEBHOOK_URL"
	HookURLVar    = "BUOY_TEST_HOOK_URL"
	HookSecretVar = "BUOY_TEST_HOOK_SECRET"
)

// The secret parts of the Hooks' URLs, and the signing key: long and
// unlike anything buoy prints, like secretscan's.
const (
	slackPath  = "/services/TFAKE0001/BFAKE0001/FAKEslackWEBHOOKsecret0008"
	hookPath   = "/hooks/FAKEhookURLtoken0123456789abcdef0009"
	hookSecret = "FAKEhmacSIGNINGkey0123456789abcdef0010"
)

// Hooks is a local notification endpoint for the entrypoints' tests: a
// Slack incoming webhook that accepts every post and a signed webhook
// that answers 500 to every try, so that each notification to it is
// given up. Their URLs' paths and the webhook's signing key are secrets
// the tests look for in every output.
type Hooks struct {
	*httptest.Server
	mu       sync.Mutex
	requests []HookRequest
}

// HookRequest is one request the Hooks got.
type HookRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// NewHooks starts the Hooks; the test's end stops them.
func NewHooks(t testing.TB) *Hooks {
	t.Helper()
	h := &Hooks{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, HookRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		h.mu.Unlock()
		if r.URL.Path == hookPath {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

// YAML is the environment key of buoy.yaml that has every deployment
// tell the Hooks: Slack and the signed webhook, their URLs and key read
// from SlackURLVar, HookURLVar and HookSecretVar.
func (h *Hooks) YAML() string {
	return "notify: [{slack: {webhook_url_env: " + SlackURLVar + "}}, {webhook: {url_env: " + HookURLVar + ", secret_env: " + HookSecretVar + "}}]"
}

// Env returns the variables YAML names, with their values.
func (h *Hooks) Env() map[string]string {
	return map[string]string{SlackURLVar: h.URL + slackPath, HookURLVar: h.URL + hookPath, HookSecretVar: hookSecret}
}

// Secrets returns what no output may hold, by name: the secret paths of
// the URLs (a URL cannot be printed without its path) and the key.
func (h *Hooks) Secrets() map[string]string {
	return map[string]string{SlackURLVar + " path": slackPath, HookURLVar + " path": hookPath, HookSecretVar: hookSecret}
}

// Requests returns the requests the Hooks got so far.
func (h *Hooks) Requests() []HookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// CheckTold checks that deployment told Slack once it started and once
// it succeeded, and tried the webhook with each event four times (the
// first try and three retries of its 500s), each try signed with the key
// (checked here apart from pkg/notify: HMAC-SHA256 of
// "<Buoy-Timestamp>.<body>").
func (h *Hooks) CheckTold(t testing.TB, deployment string) {
	t.Helper()
	var slack, hook []string
	for _, r := range h.Requests() {
		var msg struct{ Event, DeploymentID, Text string }
		if err := json.Unmarshal(r.Body, &msg); err != nil {
			t.Errorf("a notification is not JSON: %v\n%s", err, r.Body)
			continue
		}
		switch r.Path {
		case slackPath:
			if strings.Contains(string(r.Body), deployment) { // in its context line
				slack = append(slack, msg.Text)
			}
		case hookPath:
			if msg.DeploymentID != deployment {
				continue
			}
			hook = append(hook, msg.Event)
			mac := hmac.New(sha256.New, []byte(hookSecret))
			mac.Write([]byte(r.Header.Get("Buoy-Timestamp") + "."))
			mac.Write(r.Body)
			if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); !hmac.Equal([]byte(r.Header.Get("Buoy-Signature")), []byte(want)) {
				t.Errorf("a webhook request is not signed with the key: %v", r.Header)
			}
		default:
			t.Errorf("a request to %s, which no notify target names", r.Path)
		}
	}
	if len(slack) != 2 || !strings.Contains(slack[0], ": deploying release ") || !strings.Contains(slack[1], " is deployed to ") {
		t.Errorf("Slack was told %q, want the start and the success", slack)
	}
	if want := []string{"start", "start", "start", "start", "success", "success", "success", "success"}; !slices.Equal(hook, want) {
		t.Errorf("the webhook got %q of deployment %s, want 4 tries of start then of success", hook, deployment)
	}
}

// Deployments returns the ids of the deployments the webhook heard of,
// in the order it first did.
func (h *Hooks) Deployments() []string {
	var ids []string
	for _, r := range h.Requests() {
		var msg struct{ DeploymentID string }
		if r.Path == hookPath && json.Unmarshal(r.Body, &msg) == nil && !slices.Contains(ids, msg.DeploymentID) {
			ids = append(ids, msg.DeploymentID)
		}
	}
	return ids
}
