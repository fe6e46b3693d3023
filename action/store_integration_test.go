//go:build integration

package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// TestRunnerMissingTableAndUnreachableStore: the action says of a history
// table that does not exist that it does not exist, where, and to run
// `buoy init` (exit 2, status invalid, one DynamoDB call); of an
// endpoint nothing listens on, or a region whose endpoint does not
// resolve, that it cannot reach it, after one attempt although the retry
// policy is the default 10.
func TestRunnerMissingTableAndUnreachableStore(t *testing.T) {
	t.Parallel()
	bin := buildAction(t)
	missing := awstest.Name(t, "missing")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	tests := []struct {
		name, endpoint, region, table string
		code                          int
		status, want                  string
	}{
		{"missing table", "proxy", "eu-west-1", missing, exitcode.BadInput, "invalid",
			"history table " + missing + " does not exist in eu-west-1: run `buoy init` to create it (or set table: to the one you have); the region is the aws-region input's, or AWS_REGION"},
		{"closed port", closed, "eu-west-1", "", exitcode.Failed, "failed",
			"cannot reach DynamoDB at " + closed + "/ in region eu-west-1 (dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused)"},
		{"unknown region", "", "eu-wset-1", "", exitcode.Failed, "failed",
			"cannot reach DynamoDB at https://dynamodb.eu-wset-1.amazonaws.com/ in region eu-wset-1 (lookup dynamodb.eu-wset-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t, bin)
			if err := os.WriteFile(filepath.Join(r.Workspace, "buoy.yaml"), []byte(badinput.EntrypointManifest()), 0o644); err != nil {
				t.Fatal(err)
			}
			var p *faultproxy.Proxy
			endpoint := tt.endpoint
			if endpoint == "proxy" {
				p, err = faultproxy.New(awstest.Endpoint(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = p.Close() })
				endpoint = p.URL()
			}
			r.Env = map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": tt.region}
			if endpoint != "" {
				r.Env["AWS_ENDPOINT_URL"] = endpoint
			}
			r.Inputs["environment"] = "stage"
			if tt.table != "" {
				r.Inputs["table"] = tt.table
			}
			res := r.run(t)
			if res.ExitCode != tt.code {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tt.code)
			}
			if s := res.Outputs["status"]; s != tt.status {
				t.Errorf("status output = %q, want %s", s, tt.status)
			}
			if !errorAnnotationSays(res.Stdout, tt.want) {
				t.Errorf("no ::error says %q:\n%s", tt.want, res.Stdout)
			}
			if strings.Contains(res.Stdout, "ResourceNotFoundException") {
				t.Errorf("the log shows DynamoDB's raw error:\n%s", res.Stdout)
			}
			if n := strings.Count(res.Stdout, "retry: AWS call"); n != 0 {
				t.Errorf("%d retries, want none: one attempt", n)
			}
			if p != nil {
				if calls := p.Calls(); len(calls) != 1 || calls[0].Service != "dynamodb" {
					t.Errorf("AWS calls = %v, want one DynamoDB call", calls)
				}
			}
		})
	}
}
