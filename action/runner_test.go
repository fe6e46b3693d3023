package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// runner runs the built action binary the way the GitHub runner runs a
// Docker action: every input of action.yml as INPUT_<UPPER(name)> (hyphens
// kept) with its default unless the step sets it, the file-command files
// and the context variables, and the workspace as working directory.
type runner struct {
	bin       string
	Workspace string
	// Inputs are the step's `with:` values.
	Inputs map[string]string
	// Env is added to (and overrides) the runner's variables.
	Env map[string]string
	dir string
}

// runResult is what a run left behind.
type runResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
	Outputs  map[string]string
	Summary  string
}

// buildAction builds ./action into a temporary directory.
func buildAction(t *testing.T) string {
	t.Helper()
	return entrytest.Build(t, "github.com/buoy-deploy/buoy/action", "buoy-action")
}

func newRunner(t *testing.T, bin string) *runner {
	t.Helper()
	dir := t.TempDir()
	ws := filepath.Join(dir, "workspace")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return &runner{bin: bin, Workspace: ws, dir: dir, Inputs: map[string]string{}, Env: map[string]string{}}
}

// run runs the action once and collects what it wrote.
func (r *runner) run(t *testing.T) runResult {
	t.Helper()
	files := filepath.Join(r.dir, "file_commands")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	output := filepath.Join(files, "set_output")
	summary := filepath.Join(files, "step_summary")
	event := filepath.Join(r.dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"ref":"refs/heads/main","after":"3f2a9c1d","repository":{"full_name":"acme/shop"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"HOME":                      filepath.Join(r.dir, "home"),
		"CI":                        "true",
		"GITHUB_ACTIONS":            "true",
		"GITHUB_OUTPUT":             output,
		"GITHUB_STEP_SUMMARY":       summary,
		"GITHUB_EVENT_PATH":         event,
		"GITHUB_EVENT_NAME":         "push",
		"GITHUB_WORKSPACE":          r.Workspace,
		"GITHUB_ACTOR":              "octocat",
		"GITHUB_REPOSITORY":         "acme/shop",
		"GITHUB_RUN_ID":             "987654",
		"GITHUB_RUN_ATTEMPT":        "1",
		"GITHUB_SERVER_URL":         "https://github.com",
		"GITHUB_API_URL":            "https://api.github.com",
		"GITHUB_SHA":                "3f2a9c1d",
		"GITHUB_REF":                "refs/heads/main",
		"GITHUB_WORKFLOW":           "deploy",
		"GITHUB_JOB":                "deploy",
		"RUNNER_OS":                 "Linux",
		"RUNNER_TEMP":               filepath.Join(r.dir, "tmp"),
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for name, in := range readActionYML(t).Inputs {
		v := ""
		if in.Default != nil {
			v = *in.Default
		}
		if set, ok := r.Inputs[name]; ok {
			v = set
		}
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	for name := range r.Inputs {
		if _, ok := readActionYML(t).Inputs[name]; !ok {
			t.Fatalf("the test sets input %q, which action.yml does not declare", name)
		}
	}
	for k, v := range r.Env {
		env[k] = v
	}
	cmd := exec.Command(r.bin)
	cmd.Dir = r.Workspace
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := runResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run the action: %v", err)
	}
	res.Outputs = readOutputs(t, output)
	if b, err := os.ReadFile(summary); err == nil {
		res.Summary = string(b)
	}
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	return res
}

func TestRunnerMissingInput(t *testing.T) {
	t.Parallel()
	r := newRunner(t, buildAction(t))
	r.Inputs["command"] = "promote"
	r.Inputs["timeout"] = "soon"
	r.Env["AWS_SECRET_ACCESS_KEY"] = "do-not-print"
	res := r.run(t)
	if res.ExitCode != exitcode.BadInput {
		t.Errorf("exit code = %d, want %d (bad input)", res.ExitCode, exitcode.BadInput)
	}
	for _, want := range []string{
		"::add-mask::do-not-print\n",
		"::error::invalid inputs: ",
		"input timeout: \"soon\" is not a duration: write it like 30m",
		"input environment is required for command promote",
	} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Count(res.Stdout, "do-not-print") != 1 {
		t.Errorf("the AWS secret is printed outside add-mask:\n%s", res.Stdout)
	}
	if res.Outputs["status"] != "invalid" || len(res.Outputs) != 2 || !strings.Contains(res.Summary, "### ⛔ buoy: invalid") {
		t.Errorf("outputs = %v, summary = %q; want only status invalid and a summary that says so", res.Outputs, res.Summary)
	}
	if strings.Contains(res.Summary, "do-not-print") {
		t.Errorf("the job summary holds the AWS secret:\n%s", res.Summary)
	}
}

func TestRunnerNoManifest(t *testing.T) {
	t.Parallel()
	r := newRunner(t, buildAction(t))
	r.Inputs["environment"] = "stage"
	res := r.run(t)
	if res.ExitCode != exitcode.BadInput {
		t.Errorf("exit code = %d, want %d (bad input)", res.ExitCode, exitcode.BadInput)
	}
	if !strings.Contains(res.Stdout, "::error::") || !strings.Contains(res.Stdout, "set the manifest input") {
		t.Errorf("stdout lacks an error that says to set the manifest input:\n%s", res.Stdout)
	}
}
