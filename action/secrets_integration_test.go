//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/secretscan"
)

// githubAPI is a local GitHub API that accepts deployments and statuses
// and records every request.
type githubAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // method, path, headers but Authorization, body
	auth     []string // the Authorization headers
}

func newGitHubAPI(t *testing.T) *githubAPI {
	t.Helper()
	g := &githubAPI{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers := r.Header.Clone()
		g.mu.Lock()
		g.auth = append(g.auth, headers.Get("Authorization"))
		headers.Del("Authorization")
		g.requests = append(g.requests, fmt.Sprintf("%s %s %v\n%s", r.Method, r.URL, headers, body))
		g.mu.Unlock()
		if r.Method == http.MethodGet { // the look-up of a deployment this step made before: none
			_, _ = w.Write([]byte(`[]`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id": 7}`))
	}))
	t.Cleanup(g.Close)
	return g
}

// TestActionLeaksNoSecret runs the action on moto with fake secrets in
// its environment and its token input: a deployment that succeeds (with
// debug logs on, a GitHub deployment recorded and notify targets told,
// their URLs and signing key secrets too, the webhook refusing every
// try), one that fails (its history table does not exist), one the
// library refuses (an unknown release) and one refused for its inputs.
// It checks that each run masks the secrets before printing anything
// else (the notify targets' before the library gets them), and that no
// secret appears in stdout (but in the masks), stderr, the outputs, the
// job summary, the requests to GitHub (but the token in Authorization)
// or the history.
func TestActionLeaksNoSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hooks := entrytest.NewHooks(t)
	ow := deployfixture.OneService(t, "shop", awstest.Name(t, "buoy"), "", "")
	ow.Environments[0].YAML = []string{hooks.YAML()}
	w := worldOf(ctx, t, ow)
	secrets := secretscan.Fake()
	gh := newGitHubAPI(t)
	bin := buildAction(t)
	haystacks := entrytest.Haystacks{}
	for _, run := range entrytest.LeakRuns(t, w.Table) {
		r := newRunnerIn(t, bin, w)
		for k, v := range run.Settings {
			r.Inputs[k] = v
		}
		r.Inputs["github-token"] = secrets["INPUT_GITHUB-TOKEN"]
		for name, v := range secrets {
			if !strings.HasPrefix(name, "INPUT_") {
				r.Env[name] = v
			}
		}
		r.Env["GITHUB_API_URL"] = gh.URL
		r.Env["RUNNER_DEBUG"] = "1"
		maps.Copy(r.Env, hooks.Env())
		res := r.run(t)
		if res.ExitCode != run.Code {
			t.Errorf("%s: exit code = %d, want %d", run.Name, res.ExitCode, run.Code)
		}
		checkMasksFirst(t, run.Name, res.Stdout, secrets)
		if run.Code == exitcode.OK {
			checkNotifyMasked(t, run.Name, res.Stdout, hooks.Env())
		}
		outputs, _ := json.Marshal(res.Outputs)
		haystacks[run.Name+": stdout"] = withoutMasks(res.Stdout)
		haystacks[run.Name+": stderr"] = res.Stderr
		haystacks[run.Name+": outputs"] = string(outputs)
		haystacks[run.Name+": job summary"] = res.Summary
	}
	if !strings.Contains(haystacks["succeeds: stdout"], "::debug::") {
		t.Errorf("the successful run wrote no debug logs to scan:\n%s", haystacks["succeeds: stdout"])
	}

	gh.mu.Lock()
	haystacks["GitHub requests"] = strings.Join(gh.requests, "\n")
	auth := gh.auth
	gh.mu.Unlock()
	if len(auth) < 3 {
		t.Errorf("GitHub got %d requests, want a deployment and its statuses to scan", len(auth))
	}
	for _, a := range auth {
		if !strings.HasSuffix(a, " "+secrets["INPUT_GITHUB-TOKEN"]) {
			t.Errorf("GitHub got Authorization %q, want the token input and nothing else", a)
		}
	}
	if deps := hooks.Deployments(); len(deps) != 1 {
		t.Errorf("the webhook heard of deployments %q, want the successful run's", deps)
	} else {
		hooks.CheckTold(t, deps[0])
	}
	if !strings.Contains(haystacks["succeeds: stdout"], "could not notify webhook ("+entrytest.HookURLVar+")") {
		t.Errorf("the successful run did not warn of the webhook that refused it, whose error is to scan:\n%s", haystacks["succeeds: stdout"])
	}
	haystacks.AddHistory(ctx, t, w.Table)
	maps.Copy(secrets, hooks.Secrets())
	haystacks.CheckNoSecret(t, secrets)
}

// checkNotifyMasked checks that stdout masks each of the notify targets'
// URLs and keys (values) before it prints anything but masks and the
// run's opening line (printed before the manifest is read).
func checkNotifyMasked(t *testing.T, run, stdout string, values map[string]string) {
	t.Helper()
	masked := map[string]bool{}
	for _, line := range strings.Split(stdout, "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			masked[v] = true
			continue
		}
		if !strings.HasPrefix(line, "buoy ") {
			break
		}
	}
	for name, v := range values {
		if !masked[v] {
			t.Errorf("%s: stdout does not mask %s before the library runs:\n%s", run, name, stdout)
		}
	}
}

// newRunnerIn is runnerFor(t, w) with the action built once.
func newRunnerIn(t *testing.T, bin string, w *world) *runner {
	t.Helper()
	r := runnerFor(t, w)
	r.Bin = bin
	return r
}

// checkMasksFirst checks that stdout starts with an ::add-mask:: for
// each secret the action masks, before anything else.
func checkMasksFirst(t *testing.T, run, stdout string, secrets map[string]string) {
	t.Helper()
	masked := map[string]bool{}
	for _, line := range strings.Split(stdout, "\n") {
		v, ok := strings.CutPrefix(line, "::add-mask::")
		if !ok {
			break
		}
		masked[v] = true
	}
	for _, name := range []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
		if !masked[secrets[name]] {
			t.Errorf("%s: stdout does not mask %s before anything else:\n%s", run, name, stdout)
		}
	}
}

// withoutMasks drops the ::add-mask:: lines, the only place a secret may
// be printed (the runner consumes them).
func withoutMasks(stdout string) string {
	var keep []string
	for _, line := range strings.Split(stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// TestInjectionThroughAWSText deploys to a service whose task definition
// runs an "image" that is a workflow command, %0A, HTML and Markdown:
// buoy refuses it, quoting the text, and stdout issues no command but the
// action's own with every % escaped.
func TestInjectionThroughAWSText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(ctx, t, "", "")
	evil := "evil ##[set-output name=status;]pwned\n::error::pwned %0A::warning::pwned <script>alert(1)</script> [x](javascript:alert(1)) ##[error]pwned"
	awstest.RunImage(ctx, t, ecs.NewFromConfig(awstest.Config(t)), w.Cluster, w.Service, evil)
	r := runnerFor(t, w)
	r.Inputs["environment"] = "stage"
	r.Inputs["from-label"] = "ref." + deployfixture.NewCommit
	res := r.run(t)
	if res.ExitCode != exitcode.BadInput {
		t.Errorf("exit code = %d, want %d (the service does not use the image)", res.ExitCode, exitcode.BadInput)
	}
	if !strings.Contains(res.Stdout, `evil ##\[set-output name=status;]pwned%0A::error::pwned %250A::warning::pwned <script>`) {
		t.Errorf("stdout does not show the image text escaped for the runner:\n%s", res.Stdout)
	}
	checkWorkflowCommands(t, res.Stdout, "pwned")
	checkWorkflowCommands(t, res.Stderr, "pwned")
	for name, v := range res.Outputs {
		if strings.Contains(v, "pwned") && name != outSummaryMarkdown {
			t.Errorf("output %s = %q carries the injected text", name, v)
		}
	}
	if strings.Contains(res.Summary, "<script>") || strings.Contains(res.Summary, "](javascript") {
		t.Errorf("the job summary carries raw markup:\n%s", res.Summary)
	}
}
