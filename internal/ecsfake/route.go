package ecsfake

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// WithTaskDefinitionsAt returns an AWS endpoint made of two: the ECS
// calls on task definitions (Register, Describe, List, Deregister) go to
// endpoint, e.g. moto, where they are really kept, revisions and all, as
// do the calls of every other JSON service (CloudWatch Logs,
// EventBridge); every other ECS call goes to the scripted server, which
// plays the rollouts and tasks moto cannot. The endpoint is closed when
// tb's test ends.
func (s *Server) WithTaskDefinitionsAt(tb testing.TB, endpoint string) string {
	tb.Helper()
	proxy := func(target string) *httputil.ReverseProxy {
		u, err := url.Parse(target)
		if err != nil {
			tb.Fatalf("ecsfake: endpoint %q: %v", target, err)
		}
		return httputil.NewSingleHostReverseProxy(u)
	}
	toTaskDefinitions, toServer := proxy(endpoint), proxy(s.URL)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		if !strings.HasPrefix(target, "AmazonEC2ContainerServiceV20141113.") ||
			strings.HasSuffix(target, "TaskDefinition") || strings.HasSuffix(target, "TaskDefinitions") {
			toTaskDefinitions.ServeHTTP(w, r)
			return
		}
		toServer.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}
