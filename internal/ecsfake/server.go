package ecsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// Cluster is the name of the one cluster the server plays.
const Cluster = "test-cluster"

const (
	targetPrefix = "AmazonEC2ContainerServiceV20141113."
	region       = "eu-west-1"
	account      = "123456789012"
)

// DeploymentsAPI says how the server answers ListServiceDeployments and
// DescribeServiceDeployments.
type DeploymentsAPI int

// How the server answers the service deployment APIs.
const (
	// Unsupported answers 500 with an HTML body, as moto does.
	Unsupported DeploymentsAPI = iota
	// Denied answers AccessDeniedException, as AWS does without the IAM
	// permission.
	Denied
	// Supported plays each frame's Deployment.
	Supported
)

// Server is a scripted ECS endpoint. Create it with New.
type Server struct {
	// URL is the endpoint to give an ecs.Client as BaseEndpoint.
	URL string

	mu       sync.Mutex
	api      DeploymentsAPI
	order    []string
	services map[string]*state
	calls    map[string]int
	throttle map[string]int
}

type state struct {
	Service
	updated bool
	polls   int
	current Frame
	updates []map[string]any
}

// rollout is what the service's latest update plays.
func (st *state) rollout() Rollout {
	if n := len(st.updates); n > 1 && len(st.Next) > 0 {
		return st.Next[min(n-2, len(st.Next)-1)]
	}
	return Rollout{Update: st.Update, Frames: st.Frames}
}

// New starts a server playing services, stopped when tb's test ends.
func New(tb testing.TB, api DeploymentsAPI, services ...Service) *Server {
	tb.Helper()
	s := &Server{api: api, services: map[string]*state{}, calls: map[string]int{}, throttle: map[string]int{}}
	for _, svc := range services {
		s.order = append(s.order, svc.Name)
		s.services[svc.Name] = &state{Service: svc, current: svc.Before}
	}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Client returns a real ECS client aimed at the server, with one attempt
// per call so that the caller sees every throttling answer.
func (s *Server) Client() *ecs.Client {
	return ecs.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
	})
}

// Throttle makes the next n calls of op answer ThrottlingException.
func (s *Server) Throttle(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[op] += n
}

// Calls returns how many times op was called (throttled calls included).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// TotalCalls returns how many calls the server answered.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// Polls returns how many times DescribeServices described the service
// since it was updated.
func (s *Server) Polls(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.services[service].polls
}

// Updates returns the UpdateService requests the service received.
func (s *Server) Updates(service string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.services[service].updates...)
}

// ServiceARN returns the ARN the server gives a service name.
func ServiceARN(name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, account, Cluster, name)
}

// ClusterARN is the ARN of Cluster.
func ClusterARN() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, Cluster)
}

// DeploymentARN returns the service deployment ARN of a service's update.
func DeploymentARN(name string) string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/%s/sd-1", region, account, Cluster, name)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	body, err := io.ReadAll(r.Body)
	if !ok || err != nil {
		writeError(w, "UnknownOperationException", "no X-Amz-Target")
		return
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.throttle[op] > 0 {
		s.throttle[op]--
		writeError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	h, ok := s.handlers()[op]
	if !ok {
		writeError(w, "UnknownOperationException", op+" is not scripted")
		return
	}
	h(w, in)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}
