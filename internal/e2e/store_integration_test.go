//go:build integration

package e2e_test

import (
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// closedPort returns a local endpoint nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// retryLines counts the lines that report a retry of an AWS call: a run
// made that many attempts more than its calls.
func retryLines(stderr string) int {
	return strings.Count(stderr, "] retry    ")
}

// TestMissingTableAndUnreachableStore: a history table that does not
// exist gives one error that names it and its region and says to run
// `buoy init` (exit 2, after one DynamoDB call, not retried); an endpoint
// nothing listens on, or a region whose endpoint does not resolve, fails
// on its first attempt (no retry) saying what it could not reach and
// where, although the retry policy is the default 10 attempts.
func TestMissingTableAndUnreachableStore(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	_, file, _, _ := runtime.Caller(0)
	valid := filepath.Join(filepath.Dir(file), "..", "..", "pkg", "manifest", "testdata", "v1", "valid_minimal.yaml")
	missing := awstest.Name(t, "missing")
	closed := closedPort(t)
	tests := []struct {
		name     string
		endpoint string // "" for AWS's own, from the region
		args     []string
		code     int
		want     string
	}{
		{"missing table, release-deploy", "proxy", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--table", missing}, 2,
			"buoy: history table " + missing + " does not exist in eu-west-1: run `buoy init --table " + missing + " --region eu-west-1` to create it (or pass --table and --region for the one you have)"},
		{"missing table, history", "proxy", []string{"history", "--manifest", valid, "--table", missing}, 2,
			"buoy: history table " + missing + " does not exist in eu-west-1: run `buoy init"},
		{"closed port", closed, []string{"history", "--manifest", valid}, 1,
			"cannot reach DynamoDB at " + closed + "/ in region eu-west-1 (dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused): check the region"},
		{"unknown region", "", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--region", "eu-wset-1"}, 1,
			"cannot reach DynamoDB at https://dynamodb.eu-wset-1.amazonaws.com/ in region eu-wset-1 (lookup dynamodb.eu-wset-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			endpoint := tt.endpoint
			var p *faultproxy.Proxy
			if endpoint == "proxy" {
				p = proxy(t)
				endpoint = p.URL()
			}
			r := start(t, bin, cliEnv(t, endpoint, "ci"), tt.args...)
			if code := r.wait(t); code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", code, tt.code, r.output())
			}
			stderr := r.stderr.String()
			contains(t, "stderr", stderr, tt.want)
			if n := retryLines(stderr); n != 0 {
				t.Errorf("%d retries, want none: one attempt\n%s", n, stderr)
			}
			if strings.Contains(stderr, "ResourceNotFoundException") {
				t.Errorf("stderr shows DynamoDB's raw error:\n%s", stderr)
			}
			if p != nil {
				if calls := p.Calls(); len(calls) != 1 || calls[0].Service != "dynamodb" {
					t.Errorf("AWS calls = %v, want one DynamoDB call", calls)
				}
			}
		})
	}
}

// TestRetriesAreReported: a DynamoDB call that fails twice with 503 is
// retried, each retry a line on stderr naming the call, the attempt and
// the error, and then succeeds: three attempts reach the endpoint.
func TestRetriesAreReported(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	_, file, _, _ := runtime.Caller(0)
	valid := filepath.Join(filepath.Dir(file), "..", "..", "pkg", "manifest", "testdata", "v1", "valid_minimal.yaml")
	table := awstest.Name(t, "history")
	if code := start(t, bin, cliEnv(t, awstest.Endpoint(t), "ci"), "init", "--table", table).wait(t); code != 0 {
		t.Fatalf("buoy init: exit %d", code)
	}
	p := proxy(t, faultproxy.WithRate(1), faultproxy.WithLimit(2), faultproxy.WithOperations("Query"), faultproxy.WithFaults(faultproxy.Unavailable))
	r := start(t, bin, cliEnv(t, p.URL(), "ci"), "history", "--manifest", valid, "--table", table)
	if code := r.wait(t); code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, r.output())
	}
	stderr := r.stderr.String()
	if n := retryLines(stderr); n != 2 {
		t.Errorf("%d retry lines, want 2:\n%s", n, stderr)
	}
	contains(t, "stderr", stderr, "retry    AWS call DynamoDB.Query failed (attempt 1), retrying: ", "retry    AWS call DynamoDB.Query failed (attempt 2), retrying: ", "StatusCode: 503")
	queries := 0
	for _, c := range p.Calls() {
		if c.Operation == "Query" {
			queries++
		}
	}
	// Two failing attempts and the one that succeeds of the first Query
	// (releases), then the deployments' and the unlocks' Query.
	if queries != 5 {
		t.Errorf("Query attempts = %d, want 5", queries)
	}
}
