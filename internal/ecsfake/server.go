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
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/pkg/clock"
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
	// buckets throttle operations as ECS does (Bucket); throttled counts
	// the calls they refused.
	buckets   map[string]*TokenBucket
	throttled map[string]int

	tds          map[string]*taskDef // by ARN
	deregistered []string
	registered   []map[string]any // RegisterTaskDefinition requests

	listTaskPages  int // ListTasks pages answered
	describedTasks int // tasks DescribeTasks described

	oneOffs  []OneOff         // what the next RunTask calls play
	tasks    []*standalone    // tasks of no service
	runTasks []map[string]any // RunTask requests

	// changed is closed, and replaced, after every call: see Changed.
	changed chan struct{}
}

type state struct {
	Service
	updated bool
	polls   int
	current Frame
	updates []map[string]any
	stops   []map[string]any // StopServiceDeployment requests
	script  Script           // what the last update (or stop) plays
}

// nextScript returns what the next UpdateService plays.
func (st *state) nextScript() Script {
	n := len(st.updates) // updates before this one
	if n == 0 || len(st.Then) == 0 {
		return Script{Update: st.Update, Frames: st.Frames}
	}
	return st.Then[min(n-1, len(st.Then)-1)]
}

// New starts a server playing services, stopped when tb's test ends.
func New(tb testing.TB, api DeploymentsAPI, services ...Service) *Server {
	tb.Helper()
	s := &Server{api: api, services: map[string]*state{}, calls: map[string]int{}, throttle: map[string]int{},
		buckets: map[string]*TokenBucket{}, throttled: map[string]int{},
		tds: map[string]*taskDef{}, changed: make(chan struct{})}
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
//
// Only a call whose connection failed before the server answered it is
// tried again (up to 3 times, at once): on a loaded machine the transport
// now and then reuses a connection that has just closed, and such a call
// never reached the server, so what the server counts stays exact.
func (s *Server) Client() *ecs.Client {
	return ecs.NewFromConfig(aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	})
}

// ClientWithAttempts returns a real ECS client aimed at the server that
// makes up to n attempts per call, with no backoff between them, as the
// SDK's standard retryer decides (throttling and 5xx answers are retried).
func (s *Server) ClientWithAttempts(n int) *ecs.Client {
	return ecs.NewFromConfig(s.Config(n))
}

// Config returns the configuration of ClientWithAttempts(n), for code
// that makes its own clients (rollout.NewFromConfig).
func (s *Server) Config(n int) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = n
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// Throttle makes the next n calls of op answer ThrottlingException.
func (s *Server) Throttle(op string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle[op] += n
}

// Bucket makes the server throttle ops as ECS throttles a category of
// actions: they share a token bucket of burst requests, full at first and
// refilled at rate a second by clk (the test's clock), and a call that
// finds it empty answers ThrottlingException. Give AWS's documented
// bucket, or part of it to play an account whose other tools use the
// rest.
func (s *Server) Bucket(clk clock.Clock, rate float64, burst int, ops ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := NewTokenBucket(clk, rate, burst)
	for _, op := range ops {
		s.buckets[op] = b
	}
}

// Throttled returns how many calls of op the server answered
// ThrottlingException (Throttle, Bucket).
func (s *Server) Throttled(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled[op]
}

// TokenBucket is one of ECS's throttling token buckets: burst requests
// at once, full at first, refilled at rate a second by its clock; a call
// that finds it empty is throttled. The server throttles with it
// (Bucket); a proxy that plays a throttled account in front of an
// emulator can too. It is not safe for concurrent use: guard it.
type TokenBucket struct {
	clock               clock.Clock
	rate, burst, tokens float64
	last                time.Time
}

// NewTokenBucket returns a full bucket of burst tokens refilled at rate
// a second, timed by clk.
func NewTokenBucket(clk clock.Clock, rate float64, burst int) *TokenBucket {
	return &TokenBucket{clock: clk, rate: rate, burst: float64(burst), tokens: float64(burst), last: clk.Now()}
}

// Take takes a token and reports true, or reports false (throttled) when
// the bucket is empty. A token short by less than a nanosecond's refill
// counts: clocks count in nanoseconds.
func (b *TokenBucket) Take() bool {
	now := b.clock.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1-1e-9*b.rate {
		return false
	}
	b.tokens--
	return true
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

// Changed returns a channel that is closed once the server has answered
// its next call: a test waits on it and checks Polls, Updates or Calls
// again, instead of polling.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// DescribedTasks returns how many tasks DescribeTasks described, over
// all calls, and ListTaskPages how many ListTasks pages were answered.
func (s *Server) DescribedTasks() (tasks, listPages int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.describedTasks, s.listTaskPages
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

// Stops returns the StopServiceDeployment requests of the service's
// deployment, answered or refused.
func (s *Server) Stops(service string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.services[service].stops...)
}

// Continue plays what ECS does with a service's last update while no one
// updates it (a deployment rolling on, failing, rolled back by the
// circuit breaker after the run that started it died): the next
// DescribeServices of the service see frames, the last one repeating.
// A service never updated continues from its Before frame.
func (s *Server) Continue(service string, frames ...Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.services[service]
	if !st.updated {
		st.script.Update = st.current
	}
	st.script.Frames = frames
	st.updated = true
	st.polls = 0
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
	defer func() {
		close(s.changed)
		s.changed = make(chan struct{})
	}()
	s.calls[op]++
	if b := s.buckets[op]; b != nil && !b.Take() {
		s.throttled[op]++
		writeError(w, "ThrottlingException", "Rate exceeded")
		return
	}
	if s.throttle[op] > 0 {
		s.throttle[op]--
		s.throttled[op]++
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
