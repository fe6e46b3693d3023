package ghdeploy_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

// deploymentsAPI plays GitHub's Deployments API for one repository, as
// GitHub documents it: POST /repos/{owner}/{repo}/deployments creates a
// deployment (201), GET lists them newest first, filtered by sha,
// environment and task, POST .../deployments/{id}/statuses adds a status.
// Before answering for itself it plays its script, one entry per
// request.
type deploymentsAPI struct {
	mu          sync.Mutex
	deployments []storedDeployment
	script      []answer
	requests    []string // "METHOD /path?query"
}

// storedDeployment is a deployment as GitHub keeps it.
type storedDeployment struct {
	ID          int64           `json:"id"`
	SHA         string          `json:"sha"`
	Ref         string          `json:"ref"`
	Environment string          `json:"environment"`
	Task        string          `json:"task"`
	Payload     json.RawMessage `json:"payload"`
	Production  bool            `json:"production_environment"`
	Transient   bool            `json:"transient_environment"`
}

// answer is a scripted answer to one request.
type answer struct {
	status int
	header map[string]string
	body   string
	// lost: GitHub does the request (a POST creates its deployment), then
	// the connection drops before the answer reaches buoy.
	lost bool
}

// GitHub's documented answers to a request over a rate limit.
const (
	secondaryLimit = `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`
	primaryLimit   = `{"message":"API rate limit exceeded for installation ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`
)

func (g *deploymentsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = append(g.requests, r.Method+" "+r.URL.RequestURI())
	var a answer
	if len(g.script) > 0 {
		a, g.script = g.script[0], g.script[1:]
	}
	if a.status != 0 {
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
		return
	}
	code, body := g.serve(r)
	if a.lost {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// serve does what GitHub does with r.
func (g *deploymentsAPI) serve(r *http.Request) (int, []byte) {
	path := strings.TrimPrefix(r.URL.Path, "/repos/acme/shop/deployments")
	switch {
	case r.Method == http.MethodPost && path == "":
		var in struct {
			Ref, Environment, Task string
			Payload                json.RawMessage
			Production             bool `json:"production_environment"`
			Transient              bool `json:"transient_environment"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return http.StatusUnprocessableEntity, []byte(`{"message":"Problems parsing JSON"}`)
		}
		if len(in.Payload) == 0 {
			in.Payload = json.RawMessage(`{}`)
		}
		d := storedDeployment{ID: int64(100 + len(g.deployments)), SHA: in.Ref, Ref: in.Ref, Environment: in.Environment,
			Task: in.Task, Payload: in.Payload, Production: in.Production, Transient: in.Transient}
		g.deployments = append(g.deployments, d)
		b, _ := json.Marshal(d)
		return http.StatusCreated, b
	case r.Method == http.MethodGet && path == "":
		q := r.URL.Query()
		list := []storedDeployment{}
		for _, d := range slices.Backward(g.deployments) {
			if (q.Get("sha") == "" || q.Get("sha") == d.SHA) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) &&
				(q.Get("task") == "" || q.Get("task") == d.Task) {
				list = append(list, d)
			}
		}
		b, _ := json.Marshal(list)
		return http.StatusOK, b
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/statuses"):
		return http.StatusCreated, []byte(`{"id": 7, "state": "in_progress"}`)
	}
	return http.StatusNotFound, []byte(`{"message":"Not Found"}`)
}

func (g *deploymentsAPI) got() ([]string, []storedDeployment) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.requests), slices.Clone(g.deployments)
}

// start is the fake clock's time: a whole second, as GitHub's reset
// times are.
var start = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// serve starts g and returns a client of acme/shop talking to it, whose
// waits end at once on clock.
func serve(t *testing.T, g *deploymentsAPI, clock *clocktest.Clock, opts ...ghdeploy.Option) *ghdeploy.Client {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return ghdeploy.New("acme/shop", "s3cret", append([]ghdeploy.Option{ghdeploy.WithBaseURL(srv.URL),
		ghdeploy.WithHTTPClient(srv.Client()), ghdeploy.WithClock(clock)}, opts...)...)
}
