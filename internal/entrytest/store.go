package entrytest

import (
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/faultproxy"
)

// StoreFault is a way the history store cannot be used, as an
// entrypoint's test plays it: run the entrypoint with Env and, when set,
// Table as its history table, then Check what it did.
type StoreFault struct {
	Name string
	// Env aims AWS where the fault is: AWS_REGION, and AWS_ENDPOINT_URL
	// unless AWS's own endpoints are meant.
	Env map[string]string
	// Table is the history table to name; "" for the default.
	Table string
	// Code is the exit code the run ends with, Status the refusal's
	// status (the Action's status output, the plugin's buoy:status) and
	// Says what its error says.
	Code   int
	Status string
	Says   string

	// proxy, when set, sees every AWS call of the run.
	proxy *faultproxy.Proxy
}

// StoreFaults are a history table that does not exist (on moto, through
// a proxy that counts the calls), an endpoint nothing listens on, and a
// region whose endpoint does not resolve. regionAdvice ends what the
// entrypoint says of the missing table: where its region comes from.
func StoreFaults(t *testing.T, regionAdvice string) []StoreFault {
	t.Helper()
	p, err := faultproxy.New(awstest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	missing := awstest.Name(t, "missing")
	closed := ClosedPort(t)
	return []StoreFault{
		{Name: "missing table", Env: map[string]string{"AWS_ENDPOINT_URL": p.URL(), "AWS_REGION": "eu-west-1"}, Table: missing,
			Code: exitcode.BadInput, Status: exitcode.StatusInvalid, proxy: p,
			Says: "history table " + missing + " does not exist in eu-west-1: run `buoy init` to create it (or set table: to the one you have); " + regionAdvice},
		{Name: "closed port", Env: map[string]string{"AWS_ENDPOINT_URL": closed, "AWS_REGION": "eu-west-1"},
			Code: exitcode.Failed, Status: "failed",
			Says: "cannot reach DynamoDB at " + closed + "/ in region eu-west-1 (dial tcp " + strings.TrimPrefix(closed, "http://") + ": connect: connection refused)"},
		{Name: "unknown region", Env: map[string]string{"AWS_REGION": "eu-wset-1"},
			Code: exitcode.Failed, Status: "failed",
			Says: "cannot reach DynamoDB at https://dynamodb.eu-wset-1.amazonaws.com/ in region eu-wset-1 (lookup dynamodb.eu-wset-1.amazonaws.com"},
	}
}

// Check checks what every entrypoint must do of the fault, given its exit
// code, its refusal's status and its log: end with Code and Status, show
// no raw DynamoDB error, and try once (one DynamoDB call where the proxy
// counts them), although the retry policy is the default 10. Whether the
// log and the host's annotations say Says is the caller's to check, as its
// host shows them.
func (f StoreFault) Check(t *testing.T, code int, status, log string) {
	t.Helper()
	if code != f.Code {
		t.Errorf("exit code = %d, want %d\n%s", code, f.Code, log)
	}
	if status != f.Status {
		t.Errorf("status = %q, want %s", status, f.Status)
	}
	if strings.Contains(log, "ResourceNotFoundException") {
		t.Errorf("the log shows DynamoDB's raw error:\n%s", log)
	}
	if n := strings.Count(log, "retry: AWS call"); n != 0 {
		t.Errorf("%d retries, want none: one attempt\n%s", n, log)
	}
	if f.proxy != nil {
		if calls := f.proxy.Calls(); len(calls) != 1 || calls[0].Service != "dynamodb" {
			t.Errorf("AWS calls = %v, want one DynamoDB call", calls)
		}
	}
}
