package faultproxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// backend is a stand-in for the emulator that answers every request with
// an empty JSON object and counts the requests that reached it.
func backend(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func start(t *testing.T, target string, opts ...faultproxy.Option) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func post(t *testing.T, url, target, contentType, body string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return http.DefaultClient.Do(req)
}

func TestForwardsWithoutFaults(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL)
	for range 20 {
		resp, err := post(t, p.URL(), "AmazonEC2ContainerRegistry_V20150921.PutImage", "application/x-amz-json-1.1", "{}")
		if err != nil {
			t.Fatalf("request through the proxy: %v", err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status: got %d, want 200", resp.StatusCode)
		}
	}
	if got := hits.Load(); got != 20 {
		t.Errorf("requests reaching the backend: got %d, want 20", got)
	}
	if got := p.TotalInjected(); got != 0 {
		t.Errorf("faults injected at rate 0: got %d, want 0", got)
	}
	calls := p.Calls()
	if len(calls) != 20 || calls[0].Action() != "ecr:PutImage" {
		t.Errorf("calls: got %d, first %+v; want 20 of ecr:PutImage", len(calls), calls)
	}
}

func TestThrottleSpeaksEachProtocol(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle))
	tests := []struct {
		name, target, contentType, body, want string
	}{
		{"json 1.1", "AmazonEC2ContainerServiceV20141113.UpdateService", "application/x-amz-json-1.1", "{}", `"__type":"ThrottlingException"`},
		{"json 1.0", "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", "{}", `"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException"`},
		{"query", "", "application/x-www-form-urlencoded", "Action=AssumeRole&Version=2011-06-15", "<Code>Throttling</Code>"},
	}
	for _, tc := range tests {
		resp, err := post(t, p.URL(), tc.target, tc.contentType, tc.body)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: got %d %s, want 400 containing %s", tc.name, resp.StatusCode, b, tc.want)
		}
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("throttled requests reaching the backend: got %d, want 0", got)
	}
	if got := p.Injected()[faultproxy.Throttle]; got != 3 {
		t.Errorf("throttles counted: got %d, want 3", got)
	}
}

// TestAccessDeniedNamesTheDeniedAction: the fault answers as IAM does,
// in the call's protocol, naming the action (tag:GetResources for the
// tagging API), and the request never reaches the backend.
func TestAccessDeniedNamesTheDeniedAction(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.AccessDenied))
	for _, tc := range []struct {
		name, target, contentType, body, want string
	}{
		{"json 1.1", "ResourceGroupsTaggingAPI_20170126.GetResources", "application/x-amz-json-1.1", "{}", `"__type":"AccessDeniedException"`},
		{"query", "", "application/x-www-form-urlencoded", "Action=AssumeRole&Version=2011-06-15", "<Code>AccessDenied</Code>"},
	} {
		resp, err := post(t, p.URL(), tc.target, tc.contentType, tc.body)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: got %d %s, want 400 containing %s", tc.name, resp.StatusCode, b, tc.want)
		}
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("denied requests reaching the backend: got %d, want 0", got)
	}
	if calls := p.Calls(); len(calls) != 2 || calls[0].Action() != "tag:GetResources" {
		t.Errorf("calls: got %+v, want tag:GetResources first", calls)
	}
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	srv, _ := backend(t)
	for _, tc := range []struct {
		fault faultproxy.Fault
		code  int
	}{{faultproxy.InternalError, 500}, {faultproxy.Unavailable, 503}} {
		p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(tc.fault))
		resp, err := post(t, p.URL(), "AmazonSSM.PutParameter", "application/x-amz-json-1.1", "{}")
		if err != nil {
			t.Fatalf("%s: %v", tc.fault, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: status got %d, want %d", tc.fault, resp.StatusCode, tc.code)
		}
	}
}

func TestResetAndLostResponse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault     faultproxy.Fault
		wantHits  int64
		forwarded string
	}{
		{faultproxy.Reset, 0, "not forwarded"},
		{faultproxy.LostResponse, 1, "forwarded"},
	} {
		srv, hits := backend(t)
		p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(tc.fault))
		resp, err := post(t, p.URL(), "DynamoDB_20120810.PutItem", "application/x-amz-json-1.0", "{}")
		if err == nil {
			_ = resp.Body.Close()
			t.Fatalf("%s: got status %d, want a connection error", tc.fault, resp.StatusCode)
		}
		if got := hits.Load(); got != tc.wantHits {
			t.Errorf("%s: backend hits got %d, want %d (%s)", tc.fault, got, tc.wantHits, tc.forwarded)
		}
	}
}

func TestLatencyDelaysButSucceeds(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Latency), faultproxy.WithLatency(80*time.Millisecond))
	began := time.Now()
	resp, err := post(t, p.URL(), "AmazonEC2ContainerServiceV20141113.DescribeServices", "application/x-amz-json-1.1", "{}")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if took := time.Since(began); took < 80*time.Millisecond || resp.StatusCode != 200 || hits.Load() != 1 {
		t.Errorf("latency fault: took %v, status %d, hits %d; want >= 80ms, 200, 1", took, resp.StatusCode, hits.Load())
	}
}

// TestUnstallEndsStalls: a call stalled for an hour reaches the target
// once Unstall is called, and later calls are not delayed.
func TestUnstallEndsStalls(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Latency), faultproxy.WithLatency(time.Hour))
	done := make(chan int, 2)
	call := func() {
		resp, err := post(t, p.URL(), "AmazonEC2ContainerServiceV20141113.DescribeServices", "application/x-amz-json-1.1", "{}")
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		_ = resp.Body.Close()
		done <- resp.StatusCode
	}
	go call()
	for p.Injected()[faultproxy.Latency] == 0 {
		time.Sleep(time.Millisecond)
	}
	if got := hits.Load(); got != 0 {
		t.Fatalf("the stalled call reached the target before Unstall: %d hits", got)
	}
	p.Unstall()
	go call()
	for range 2 {
		if code := <-done; code != 200 {
			t.Errorf("status after Unstall: got %d, want 200", code)
		}
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("calls that reached the target: got %d, want 2", got)
	}
}

func TestOperationFilter(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithOperations("PutImage"))
	for _, target := range []string{"AmazonEC2ContainerRegistry_V20150921.BatchGetImage", "AmazonEC2ContainerRegistry_V20150921.PutImage"} {
		resp, err := post(t, p.URL(), target, "application/x-amz-json-1.1", "{}")
		if err == nil {
			_ = resp.Body.Close()
		}
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("backend hits: got %d, want 1 (BatchGetImage only)", got)
	}
	injected := 0
	for _, c := range p.Calls() {
		if c.Fault != "" {
			injected++
			if c.Operation != "PutImage" {
				t.Errorf("fault injected into %s, which the filter excludes", c.Operation)
			}
		}
	}
	if injected != 1 {
		t.Errorf("faults injected: got %d, want 1", injected)
	}
}

// TestMatchFilter: WithMatch limits faults to the requests it accepts,
// seeing each request's operation and body in arrival order.
func TestMatchFilter(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	var seen []string
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithMatch(func(op string, body []byte) bool {
		seen = append(seen, op)
		return op == "PutItem" && strings.Contains(string(body), "LOCK#stage")
	}))
	for _, req := range [][2]string{
		{"DynamoDB_20120810.PutItem", `{"Item":{"sk":{"S":"DEPLOY#01"}}}`},
		{"DynamoDB_20120810.PutItem", `{"Item":{"sk":{"S":"LOCK#stage"}}}`},
		{"DynamoDB_20120810.GetItem", `{"Key":{"sk":{"S":"LOCK#stage"}}}`},
	} {
		resp, err := post(t, p.URL(), req[0], "application/x-amz-json-1.0", req[1])
		if err == nil {
			_ = resp.Body.Close()
		}
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("backend hits: got %d, want 2 (all but the lock's PutItem)", got)
	}
	if want := []string{"PutItem", "PutItem", "GetItem"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("match saw %v, want %v in arrival order", seen, want)
	}
	if got := p.TotalInjected(); got != 1 {
		t.Errorf("faults injected: got %d, want 1", got)
	}
}

func TestSeedMakesRunsRepeatable(t *testing.T) {
	t.Parallel()
	srv, _ := backend(t)
	run := func() []faultproxy.Fault {
		p := start(t, srv.URL, faultproxy.WithRate(0.3), faultproxy.WithSeed(42),
			faultproxy.WithFaults(faultproxy.Throttle, faultproxy.InternalError, faultproxy.Unavailable))
		for range 50 {
			resp, err := post(t, p.URL(), "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "{}")
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
		}
		var out []faultproxy.Fault
		for _, c := range p.Calls() {
			out = append(out, c.Fault)
		}
		return out
	}
	a, b := run(), run()
	if strings.Join(faultStrings(a), ",") != strings.Join(faultStrings(b), ",") {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	n := 0
	for _, f := range a {
		if f != "" {
			n++
		}
	}
	if n < 5 || n > 25 {
		t.Errorf("faults at rate 0.3 over 50 requests: got %d, want about 15", n)
	}
}

func faultStrings(fs []faultproxy.Fault) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func TestSetRate(t *testing.T) {
	t.Parallel()
	srv, hits := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Unavailable))
	p.SetRate(0)
	resp, err := post(t, p.URL(), "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "{}")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || hits.Load() != 1 {
		t.Errorf("after SetRate(0): status %d, hits %d; want 200, 1", resp.StatusCode, hits.Load())
	}
}

func TestNewRejectsBadTarget(t *testing.T) {
	t.Parallel()
	if _, err := faultproxy.New("not a url"); err == nil || !strings.Contains(err.Error(), "is not a URL") {
		t.Errorf("New(bad target): got %v, want an error saying it is not a URL", err)
	}
	if _, err := faultproxy.New("http://127.0.0.1:1", faultproxy.WithFaults()); err == nil {
		t.Error("New with no faults: got nil error")
	}
}

// TestSDKSeesTypedErrors proves the injected answers are ones the SDK
// parses into the error codes its retryer knows, for each protocol.
func TestSDKSeesTypedErrors(t *testing.T) {
	t.Parallel()
	srv, _ := backend(t)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle))
	cfg := aws.Config{
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(p.URL()),
		RetryMaxAttempts: 1,
	}
	ctx := context.Background()
	_, ecrErr := ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	_, ddbErr := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	_, stsErr := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	for name, tc := range map[string]struct {
		err  error
		want string
	}{"ecr": {ecrErr, "ThrottlingException"}, "dynamodb": {ddbErr, "ThrottlingException"}, "sts": {stsErr, "Throttling"}} {
		var apiErr smithy.APIError
		if !errors.As(tc.err, &apiErr) || apiErr.ErrorCode() != tc.want {
			t.Errorf("%s: got %v, want an API error with code %s", name, tc.err, tc.want)
		}
	}
	var actions []string
	for _, c := range p.Calls() {
		actions = append(actions, c.Action())
	}
	want := []string{"ecr:DescribeRepositories", "dynamodb:ListTables", "sts:GetCallerIdentity"}
	if got, _ := json.Marshal(actions); string(got) != mustJSON(want) {
		t.Errorf("calls: got %s, want %s", got, mustJSON(want))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCallsRecordWhatTheTargetAnswered: a forwarded call records the
// target's HTTP status (a 500 from moto included) and, with
// WithResponses, its answer; an injected fault records neither.
func TestCallsRecordWhatTheTargetAnswered(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetResources") {
			http.Error(w, "<html>RuntimeError</html>", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "{}")
	}))
	t.Cleanup(srv.Close)
	p := start(t, srv.URL, faultproxy.WithRate(1), faultproxy.WithFaults(faultproxy.Throttle), faultproxy.WithOperations("UpdateService"),
		faultproxy.WithResponses())
	for _, target := range []string{"ResourceGroupsTaggingAPI_20170126.GetResources", "AmazonEC2ContainerServiceV20141113.DescribeServices",
		"AmazonEC2ContainerServiceV20141113.UpdateService"} {
		resp, err := post(t, p.URL(), target, "application/x-amz-json-1.1", "{}")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	var got []string
	for _, c := range p.Calls() {
		got = append(got, strings.TrimSpace(fmt.Sprintf("%s %d %s", c.Action(), c.Status, c.Response)))
	}
	want := []string{"tag:GetResources 500 <html>RuntimeError</html>", "ecs:DescribeServices 200 {}", "ecs:UpdateService 0"}
	if !slices.Equal(got, want) {
		t.Errorf("calls: got %v, want %v", got, want)
	}
}
