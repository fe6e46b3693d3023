// Package faultproxy is an HTTP proxy for tests that stands between an AWS
// SDK client and an emulator (moto) and injects the faults AWS shows on a
// bad day: throttling, 500 and 503 answers, connections reset before the
// request arrives, responses lost after the request was applied, and
// latency. Faults are drawn at a configurable rate from a seeded random
// source, can be limited to some operations (by X-Amz-Target, or the
// Action of query-protocol calls such as STS), and are counted.
//
// Point a client at it with aws.Config.BaseEndpoint = proxy.URL().
package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Fault is a kind of failure the proxy injects.
type Fault string

// The faults the proxy can inject.
const (
	// Throttle answers HTTP 400 ThrottlingException in the protocol of the
	// call (JSON 1.0, JSON 1.1 or query XML). The request is not forwarded.
	Throttle Fault = "throttle"
	// InternalError answers HTTP 500 InternalFailure; not forwarded.
	InternalError Fault = "500"
	// Unavailable answers HTTP 503 ServiceUnavailable; not forwarded.
	Unavailable Fault = "503"
	// Reset closes the connection (TCP RST) without forwarding the request.
	Reset Fault = "reset"
	// LostResponse forwards the request, so the emulator applies it, then
	// resets the connection instead of answering: the client never learns
	// that its call succeeded and retries it.
	LostResponse Fault = "lost-response"
	// Latency delays the request by the configured latency, then forwards
	// it. It is counted as injected but the call succeeds.
	Latency Fault = "latency"
	// AccessDenied answers HTTP 400 AccessDeniedException (AccessDenied in
	// query XML), as AWS does for a call the IAM policy does not allow;
	// not forwarded, and not retried by the SDK.
	AccessDenied Fault = "access-denied"
)

// Failing are the faults that make an attempt fail without reaching the
// emulator: the ones a retryer must absorb without side effects.
var Failing = []Fault{Throttle, InternalError, Unavailable, Reset}

// Option configures a Proxy made by New.
type Option func(*Proxy)

// WithRate sets the probability, in [0, 1], that an eligible request gets
// a fault. The default is 0: the proxy only forwards.
func WithRate(rate float64) Option { return func(p *Proxy) { p.rate = clamp(rate) } }

// WithSeed seeds the random source that picks which requests fail and
// with which fault. The default seed is 1.
func WithSeed(seed uint64) Option { return func(p *Proxy) { p.seed = seed } }

// WithFaults sets the faults drawn from, each equally likely. The default
// is Failing.
func WithFaults(faults ...Fault) Option {
	return func(p *Proxy) { p.faults = slices.Clone(faults) }
}

// WithLatency sets the delay of the Latency fault (default 50ms).
func WithLatency(d time.Duration) Option { return func(p *Proxy) { p.latency = d } }

// WithOperations limits faults to the named operations (e.g. "PutImage",
// "PutItem"); other requests are always forwarded. The default is every
// operation.
func WithOperations(ops ...string) Option {
	return func(p *Proxy) {
		p.only = map[string]bool{}
		for _, op := range ops {
			p.only[op] = true
		}
	}
}

// WithMatch limits faults to the requests match accepts, given the
// operation and the request body (e.g. only the writes of one item). The
// proxy calls it once per request, in arrival order, never two at once,
// so it may keep state.
func WithMatch(match func(operation string, body []byte) bool) Option {
	return func(p *Proxy) { p.match = match }
}

// WithLimit stops injecting faults after n of them (0, the default, means
// no limit): WithRate(1) and WithLimit(1) fail exactly the first eligible
// request.
func WithLimit(n int) Option { return func(p *Proxy) { p.limit = n } }

// WithSkip lets the first n eligible requests through untouched before
// faults start: WithRate(1), WithSkip(1) and WithLimit(1) fail exactly the
// second eligible request (e.g. the first poll after a lookup).
func WithSkip(n int) Option { return func(p *Proxy) { p.skip = n } }

// WithResponses keeps the body of every answer the target gives a
// forwarded call in its Call.Response, for tests that check what the
// target said.
func WithResponses() Option { return func(p *Proxy) { p.keepResponses = true } }

// Call is one request the proxy saw.
type Call struct {
	// Service is the IAM service prefix: ecr, ecs, dynamodb, ssm, sts, tag, or
	// the X-Amz-Target prefix for a service it does not know.
	Service string
	// Operation is the API operation, e.g. PutImage.
	Operation string
	// Fault is what the proxy did to it; "" means it was forwarded as is.
	Fault Fault
	// Body is the request body, for tests that check what was asked.
	Body []byte
	// Status is the HTTP status the target answered a forwarded call
	// with; 0 when the call was not forwarded or got no answer.
	Status int
	// Response is the body of that answer, with WithResponses.
	Response []byte
}

// Forwarded reports whether the call reached the target: it had no
// fault, only latency, or its answer was lost after the target applied it.
func (c Call) Forwarded() bool {
	return c.Fault == "" || c.Fault == Latency || c.Fault == LostResponse
}

// Action returns the call as an IAM action, e.g. "ecr:PutImage".
func (c Call) Action() string { return c.Service + ":" + c.Operation }

// Proxy forwards requests to a target and injects faults. Create it with
// New and Close it when done. It is safe for concurrent use.
type Proxy struct {
	target  *url.URL
	seed    uint64
	faults  []Fault
	latency time.Duration
	only    map[string]bool
	match   func(operation string, body []byte) bool
	limit   int
	skip    int
	// keepResponses keeps the target's answers (WithResponses).
	keepResponses bool
	client        *http.Client
	srv           *http.Server
	ln            net.Listener

	unstall     chan struct{}
	unstallOnce sync.Once

	mu       sync.Mutex
	rate     float64
	rng      *rand.Rand
	calls    []Call
	injected int
	// changed is closed, and replaced, at every call: see Changed.
	changed chan struct{}
}

// New starts a proxy on a free 127.0.0.1 port that forwards to target
// (e.g. "http://127.0.0.1:5055").
func New(target string, opts ...Option) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("fault proxy: target %q is not a URL like http://127.0.0.1:5000", target)
	}
	p := &Proxy{target: u, seed: 1, faults: slices.Clone(Failing), latency: 50 * time.Millisecond, unstall: make(chan struct{}),
		changed: make(chan struct{})}
	for _, opt := range opts {
		opt(p)
	}
	if len(p.faults) == 0 {
		return nil, errors.New("fault proxy: WithFaults needs at least one fault")
	}
	p.rng = rand.New(rand.NewPCG(p.seed, p.seed^0x9e3779b97f4a7c15))
	p.client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
	p.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: listen: %w", err)
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(p.ln) }()
	return p, nil
}

// URL returns the proxy's address, to use as a client's BaseEndpoint.
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Close stops the proxy and drops its connections.
func (p *Proxy) Close() error {
	p.client.CloseIdleConnections()
	return p.srv.Close()
}

// SetRate changes the fault rate from now on, e.g. to 0 to let a re-run
// through.
func (p *Proxy) SetRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = clamp(rate)
}

// Unstall ends the Latency of every call now and from now on: delayed
// calls go on to the target at once. Tests that stall runs inside a call
// use it to let them all finish.
func (p *Proxy) Unstall() { p.unstallOnce.Do(func() { close(p.unstall) }) }

// Calls returns every request seen so far, in arrival order.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

// Changed returns a channel that is closed when the proxy next sees a
// call (recorded in Calls, its fault decided): a test waits on it and
// checks Calls or Injected again, instead of polling.
func (p *Proxy) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// Injected counts the faults injected so far, by fault.
func (p *Proxy) Injected() map[Fault]int {
	out := map[Fault]int{}
	for _, c := range p.Calls() {
		if c.Fault != "" {
			out[c.Fault]++
		}
	}
	return out
}

// TotalInjected returns how many faults were injected so far.
func (p *Proxy) TotalInjected() int {
	n := 0
	for _, v := range p.Injected() {
		n += v
	}
	return n
}

func clamp(r float64) float64 { return min(max(r, 0), 1) }

// decide records the call and picks its fault, if any; it returns the
// call's index in p.calls.
func (p *Proxy) decide(service, op string, body []byte) (Fault, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var f Fault
	eligible := (p.only == nil || p.only[op]) && (p.limit == 0 || p.injected < p.limit) &&
		(p.match == nil || p.match(op, body))
	if eligible && p.skip > 0 {
		p.skip--
		eligible = false
	}
	if eligible && p.rate > 0 && p.rng.Float64() < p.rate {
		f = p.faults[p.rng.IntN(len(p.faults))]
		p.injected++
	}
	p.calls = append(p.calls, Call{Service: service, Operation: op, Fault: f, Body: body})
	p.notify()
	return f, len(p.calls) - 1
}

// notify wakes whoever waits on Changed; p.mu is held.
func (p *Proxy) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// answered records the status (and with WithResponses, the body) the
// target answered call i with.
func (p *Proxy) answered(i, status int, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[i].Status = status
	if p.keepResponses {
		p.calls[i].Response = body
	}
	p.notify()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "fault proxy: read request: "+err.Error(), http.StatusBadGateway)
		return
	}
	service, op := operation(r, body)
	f, i := p.decide(service, op, body)
	switch f {
	case Throttle:
		writeError(w, r, http.StatusBadRequest, "ThrottlingException", "Throttling", "Rate exceeded")
	case InternalError:
		writeError(w, r, http.StatusInternalServerError, "InternalFailure", "InternalFailure", "We encountered an internal error. Please try again.")
	case Unavailable:
		writeError(w, r, http.StatusServiceUnavailable, "ServiceUnavailable", "ServiceUnavailable", "Service is unavailable. Please try again.")
	case AccessDenied:
		writeError(w, r, http.StatusBadRequest, "AccessDeniedException", "AccessDenied",
			"User: arn:aws:sts::123456789012:assumed-role/ci/buoy is not authorized to perform: "+service+":"+op+" because no identity-based policy allows it")
	case Reset:
		reset(w)
	case LostResponse:
		if resp, err := p.forward(r.Context(), r, body); err == nil {
			p.answered(i, resp.StatusCode, nil)
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
		reset(w)
	case Latency:
		select {
		case <-time.After(p.latency):
		case <-p.unstall:
		case <-r.Context().Done():
			return
		}
		p.relay(w, r, body, i)
	default:
		p.relay(w, r, body, i)
	}
}

// relay forwards the request and copies the answer back.
func (p *Proxy) relay(w http.ResponseWriter, r *http.Request, body []byte, call int) {
	resp, err := p.forward(r.Context(), r, body)
	if err != nil {
		http.Error(w, "fault proxy: forward: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	// Recorded before the client has the answer, so that a test that
	// reads Calls once the client is done sees it.
	var answer io.Reader = resp.Body
	if p.keepResponses {
		b, _ := io.ReadAll(resp.Body)
		p.answered(call, resp.StatusCode, b)
		answer = bytes.NewReader(b)
	} else {
		p.answered(call, resp.StatusCode, nil)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, answer)
}

func (p *Proxy) forward(ctx context.Context, r *http.Request, body []byte) (*http.Response, error) {
	u := *p.target
	u.Path = r.URL.Path
	u.RawPath = r.URL.RawPath
	u.RawQuery = r.URL.RawQuery
	req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	req.Host = r.Host // the signature covers the Host header
	req.ContentLength = int64(len(body))
	return p.client.Do(req)
}

// reset closes the client's connection with a TCP RST, as a load balancer
// that drops a connection does.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
