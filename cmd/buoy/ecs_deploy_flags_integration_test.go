//go:build integration

package main

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/secretscan"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// newECSDeployEnv is a CLI that reaches moto through cfg (every resource
// of it read with retries, as revision cleanup does) and waits on a clock
// whose waits end at once.
func newECSDeployEnv(t *testing.T) (*cliEnv, *awstest.Family) {
	t.Helper()
	e := &cliEnv{t: t, cfg: awstest.EveryResourceConfig(t),
		ecsDeploy: []ecsdeploy.Option{ecsdeploy.WithClock(clocktest.NewAuto(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)))}}
	return e, awstest.NewFamily(t, ecs.NewFromConfig(e.cfg), "api")
}

// TestCLIECSDeployFlags runs the classic flags through the real command
// line, each on a family of its own on moto (revision 1 running in the
// service, revision 2 the newest, with A=2), and checks with the AWS SDK
// what they registered and deployed.
func TestCLIECSDeployFlags(t *testing.T) {
	t.Parallel()
	const sidecar = "public.ecr.aws/aws-observability/aws-for-fluent-bit"
	tests := []struct {
		name string
		args func(f *awstest.Family, cluster string) []string
		// want: the images of the revision the service then runs, the
		// family's ACTIVE revisions, and A of the deployed revision.
		images map[string]string // "" prefix: f.Repo
		runs   int
		active []int
		env    string
		stdout []string
	}{
		{name: "-to gives every container the tag; -i is ignored",
			args: func(_ *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "-to", "0.1.899", "-i", "ignore"}
			},
			images: map[string]string{"api": ":0.1.899", "log-router": sidecar + ":0.1.899"}, runs: 3, active: []int{1, 2, 3}, env: "1"},
		{name: "-toc limits -to to the named containers",
			args: func(_ *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "-to", "v2", "-toc", "api"}
			},
			images: map[string]string{"api": ":v2", "log-router": sidecar + ":stable"}, runs: 3, active: []int{1, 2, 3}, env: "1"},
		{name: "--use-latest-task-def copies the newest revision",
			args: func(f *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "-i", f.Repo + ":v3", "--use-latest-task-def"}
			},
			images: map[string]string{"api": ":v3", "log-router": sidecar + ":stable"}, runs: 3, active: []int{1, 2, 3}, env: "2",
			stdout: []string{"based on", ":2 (the family's newest revision)"}},
		{name: "--force-new-deployment registers nothing",
			args: func(_ *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "--force-new-deployment"}
			},
			images: map[string]string{"api": ":v1", "log-router": sidecar + ":stable"}, runs: 1, active: []int{1, 2}, env: "1"},
		{name: "--copy-task-definition-tags, and --max-definitions after success",
			args: func(f *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "-i", f.Repo + ":v4", "--copy-task-definition-tags", "--max-definitions", "1"}
			},
			images: map[string]string{"api": ":v4", "log-router": sidecar + ":stable"}, runs: 3, active: []int{1, 3}, env: "1",
			stdout: []string{"deregistered arn:aws:ecs:eu-west-1:123456789012:task-definition/"}},
		{name: "-d with -n is the revision the new one copies",
			args: func(f *awstest.Family, c string) []string {
				return []string{"-c", c, "-n", "api", "-d", f.Name + ":2", "-i", f.Repo + ":v6"}
			},
			images: map[string]string{"api": ":v6", "log-router": sidecar + ":stable"}, runs: 3, active: []int{1, 2, 3}, env: "2"},
		{name: "-d alone registers, and --max-definitions cleans up",
			args: func(f *awstest.Family, c string) []string {
				return []string{"-c", c, "-d", f.Name, "-i", f.Repo + ":v5", "--max-definitions", "2"}
			},
			images: map[string]string{"api": ":v1", "log-router": sidecar + ":stable"}, runs: 1, active: []int{1, 2, 3}, env: "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, f := newECSDeployEnv(t)
			cluster := f.Service("api", f.Register("v1", "1"))
			f.Register("v1", "2")
			code, stdout, stderr := e.run(append([]string{"ecs-deploy"}, tc.args(f, cluster)...)...)
			if code != exitcode.OK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			runs := f.Runs(cluster, "api")
			if runs != f.ARN(tc.runs) {
				t.Errorf("the service runs %s, want revision %d", runs, tc.runs)
			}
			images, env, tags := f.Describe(runs)
			want := maps.Clone(tc.images)
			want["api"] = f.Repo + want["api"]
			if !maps.Equal(images, want) || env["api.A"] != tc.env {
				t.Errorf("revision %d runs %v with A=%s; want %v with A=%s", tc.runs, images, env["api.A"], want, tc.env)
			}
			if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
				t.Errorf("revision %d's tags: got %v, want team=shop", tc.runs, tags)
			}
			if got := f.Active(); !slices.Equal(got, tc.active) {
				t.Errorf("ACTIVE revisions: got %v, want %v", got, tc.active)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
		})
	}
}

// TestCLIECSDeployVerbose: -v logs buoy's decisions and every AWS call to
// stderr; without it stderr has neither.
func TestCLIECSDeployVerbose(t *testing.T) {
	t.Parallel()
	for _, verbose := range []bool{true, false} {
		t.Run(map[bool]string{true: "-v", false: "quiet"}[verbose], func(t *testing.T) {
			t.Parallel()
			e, f := newECSDeployEnv(t)
			cluster := f.Service("api", f.Register("v1", "1"))
			args := []string{"ecs-deploy", "-c", cluster, "-n", "api", "-i", f.Repo + ":v2", "--use-latest-task-def", "--max-definitions", "1"}
			if verbose {
				args = append(args, "-v")
			}
			code, stdout, stderr := e.run(args...)
			if code != exitcode.OK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, line := range []string{"level=DEBUG msg=\"service found\"", "level=DEBUG msg=\"AWS call\" service=ECS operation=UpdateService",
				"level=DEBUG msg=\"the newest revision of the family is the base\"",
				"level=DEBUG msg=\"task definitions in use\"", "level=DEBUG msg=\"task definitions EventBridge rules run\""} {
				if strings.Contains(stderr, line) != verbose {
					t.Errorf("stderr holds %q: %v, want %v\n%s", line, !verbose, verbose, stderr)
				}
			}
		})
	}
}

// signedCall is an AWS call the recorder saw: its operation and the
// access key id that signed it.
type signedCall struct{ operation, key string }

// signingRecorder is a proxy to moto that records, for each call, the
// access key id that signed it; it reads nothing else.
func signingRecorder(t *testing.T) (endpoint string, calls func() []signedCall) {
	t.Helper()
	target, err := url.Parse(awstest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var seen []signedCall
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if op == "" { // the query protocol (STS): Action=... in the body
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			if q, err := url.ParseQuery(string(body)); err == nil {
				op = "STS." + q.Get("Action")
			}
		}
		_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
		key, _, _ := strings.Cut(cred, "/")
		mu.Lock()
		seen = append(seen, signedCall{operation: op[strings.LastIndex(op, ".")+1:], key: key})
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []signedCall { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
}

// TestCLIECSDeployCredentialsFromFlags: with -k and -s every call is
// signed with that key; with -a too, the role is assumed with it and
// every ECS call signed with the role's key. The secret and the key id
// appear nowhere in what buoy prints, verbose or not, text or JSON, in a
// run that succeeds or fails; ecs-deploy writes no record (no DynamoDB
// call), so there is none to search.
func TestCLIECSDeployCredentialsFromFlags(t *testing.T) {
	t.Parallel()
	const key = "AKIAFAKEFLAGKEY00007"
	secrets := map[string]string{"-s": secretscan.Fake()["AWS_SECRET_ACCESS_KEY"], "-k": key}
	role := "arn:aws:iam::" + awstest.AccountID + ":role/deploy"
	for _, tc := range []struct {
		name    string
		extra   []string
		service string // "" the family's, else one that does not exist
		code    int
	}{
		{name: "-k -s", extra: []string{"-v"}},
		{name: "-k -s json", extra: []string{"--output", "json"}},
		{name: "-k -s -a", extra: []string{"-a", role, "-v"}},
		{name: "-k -s, an unknown service", extra: []string{"-v"}, service: "nope", code: exitcode.BadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, f := newECSDeployEnv(t)
			cluster := f.Service("api", f.Register("v1", "1"))
			endpoint, calls := signingRecorder(t)
			e.cfg.BaseEndpoint = aws.String(endpoint)
			service := "api"
			if tc.service != "" {
				service = tc.service
			}
			args := append([]string{"ecs-deploy", "-c", cluster, "-n", service, "-i", f.Repo + ":v2", "-k", key, "-s", secrets["-s"]}, tc.extra...)
			code, stdout, stderr := e.run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if found := secretscan.Find(stdout+stderr, secrets); len(found) > 0 {
				t.Errorf("the output holds the credentials of %v:\nstdout:\n%s\nstderr:\n%s", found, stdout, stderr)
			}
			assumed := slices.Contains(tc.extra, "-a")
			var ecsCalls, assumeRoles int
			for _, c := range calls() {
				switch {
				case strings.Contains(c.operation, "DynamoDB") || c.operation == "PutItem" || c.operation == "UpdateItem":
					t.Errorf("a DynamoDB call: %+v", c)
				case c.operation == "AssumeRole":
					assumeRoles++
					if !assumed || c.key != key {
						t.Errorf("AssumeRole signed with %s (assume: %v), want %s with -a only", c.key, assumed, key)
					}
				default:
					ecsCalls++
					if (c.key == key) == assumed || c.key == "" {
						t.Errorf("%s signed with %q, want %s", c.operation, c.key, map[bool]string{true: "the role's key", false: key}[assumed])
					}
				}
			}
			if ecsCalls == 0 || (assumeRoles > 0) != assumed {
				t.Errorf("calls seen: %d, of which %d AssumeRole; want some, and AssumeRole with -a only", ecsCalls, assumeRoles)
			}
		})
	}
}
