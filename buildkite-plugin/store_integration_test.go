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
	"github.com/buoy-deploy/buoy/pkg/report"
)

// TestE2EMissingTableAndUnreachableStore: the plugin says of a history
// table that does not exist that it does not exist, where, and to run
// `buoy init` (exit 2, buoy:status invalid, one DynamoDB call); of an
// endpoint nothing listens on, or a region whose endpoint does not
// resolve, that it cannot reach it, after one attempt although the retry
// policy is the default 10.
func TestE2EMissingTableAndUnreachableStore(t *testing.T) {
	t.Parallel()
	bin := buildPlugin(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "buoy.yaml"), []byte(badinput.EntrypointManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := awstest.Name(t, "missing")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	_ = ln.Close()
	tests := []struct {
		name, endpoint, region, config string
		code                           int
		status, want                   string
	}{
		{"missing table", "proxy", "eu-west-1", `{"environment":"stage","table":"` + missing + `"}`, exitcode.BadInput, "invalid",
			"history table " + missing + " does not exist in eu-west-1: run `buoy init` to create it (or set table: to the one you have); the region is AWS_REGION's, or the manifest registry's"},
		{"closed port", closed, "eu-west-1", `{"environment":"stage"}`, exitcode.Failed, "failed",
			"cannot reach DynamoDB at " + closed + "/ in region eu-west-1 (dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused)"},
		{"unknown region", "", "eu-wset-1", `{"environment":"stage"}`, exitcode.Failed, "failed",
			"cannot reach DynamoDB at https://dynamodb.eu-wset-1.amazonaws.com/ in region eu-wset-1 (lookup dynamodb.eu-wset-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
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
			// AWS_MAX_ATTEMPTS empty: the default policy of 10 attempts.
			code, log, calls := runBinary(t, bin, dir, tt.config, map[string]string{
				"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": tt.region, "AWS_MAX_ATTEMPTS": ""})
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", code, tt.code, log)
			}
			if !strings.Contains(log, tt.want) {
				t.Errorf("log does not say %q:\n%s", tt.want, log)
			}
			notes := annotations(calls)
			if len(notes) != 1 || !strings.Contains(notes[0].Stdin, report.Escape(tt.want)) {
				t.Errorf("annotations = %v, want one saying %q", notes, report.Escape(tt.want))
			}
			if got := metaData(calls)["buoy:status"]; got != tt.status {
				t.Errorf("buoy:status = %q, want %s", got, tt.status)
			}
			if strings.Contains(log, "ResourceNotFoundException") {
				t.Errorf("the log shows DynamoDB's raw error:\n%s", log)
			}
			if n := strings.Count(log, "retry: AWS call"); n != 0 {
				t.Errorf("%d retries, want none: one attempt\n%s", n, log)
			}
			if p != nil {
				if c := p.Calls(); len(c) != 1 || c[0].Service != "dynamodb" {
					t.Errorf("AWS calls = %v, want one DynamoDB call", c)
				}
			}
		})
	}
}
