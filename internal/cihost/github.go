package cihost

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// GitHubStep runs the built action binary the way action.yml's last
// step runs it (and the runner runs a container action, the image's
// entrypoint): every input of action.yml as INPUT_<UPPER(name)> (hyphens
// kept) with its default unless the step sets it, the file-command files
// and the context variables of a push to main of acme/shop by octocat,
// and the workspace as working directory. CompositeAction runs
// action.yml itself.
type GitHubStep struct {
	// Bin is the action binary.
	Bin string
	// Workspace is the checked-out repository (GITHUB_WORKSPACE).
	Workspace string
	// Inputs are the step's `with:` values.
	Inputs map[string]string
	// Env is added to (and overrides) the runner's variables.
	Env map[string]string
	dir string
}

// StepResult is what a run of the step left behind.
type StepResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
	// Outputs are the step's outputs, read from GITHUB_OUTPUT.
	Outputs map[string]string
	// Summary is what the step wrote to GITHUB_STEP_SUMMARY.
	Summary string
}

// NewGitHubStep returns a step of bin with an empty workspace in a new
// temporary directory.
func NewGitHubStep(t testing.TB, bin string) *GitHubStep {
	t.Helper()
	dir := t.TempDir()
	ws := filepath.Join(dir, "workspace")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	return &GitHubStep{Bin: bin, Workspace: ws, dir: dir, Inputs: map[string]string{}, Env: map[string]string{}}
}

// Run runs the step once and collects what it wrote. It fails the test
// when the step sets an input action.yml does not declare.
func (s *GitHubStep) Run(t testing.TB) StepResult {
	t.Helper()
	files := filepath.Join(s.dir, "file_commands")
	if err := os.MkdirAll(files, 0o755); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(files, "set_output"), filepath.Join(files, "step_summary")
	for _, f := range []string{output, summary} { // each run's own, as each step's
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	env := jobEnv(t, s.dir, s.Workspace)
	env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"] = output, summary
	declared := actionInputs(t)
	for name, def := range declared {
		v := def
		if set, ok := s.Inputs[name]; ok {
			v = set
		}
		env["INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_"))] = v
	}
	for name := range s.Inputs {
		if _, ok := declared[name]; !ok {
			t.Fatalf("the test sets input %q, which action.yml does not declare", name)
		}
	}
	for k, v := range s.Env {
		env[k] = v
	}
	cmd := exec.Command(s.Bin)
	cmd.Dir = s.Workspace
	cmd.Env = EnvList(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := StepResult{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run the action: %v", err)
	}
	res.Outputs = ReadOutputs(t, output)
	if b, err := os.ReadFile(summary); err == nil {
		res.Summary = string(b)
	}
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.Stdout, res.Stderr)
	return res
}

// jobEnv returns the variables the runner gives every step of a job run
// for a push to main of acme/shop by octocat, on a Linux X64 runner whose
// temporary directories and event file are under dir.
func jobEnv(t testing.TB, dir, workspace string) map[string]string {
	t.Helper()
	event := filepath.Join(dir, "event.json")
	if err := os.WriteFile(event, []byte(`{"ref":"refs/heads/main","after":"3f2a9c1d","repository":{"full_name":"acme/shop"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"HOME":                      filepath.Join(dir, "home"),
		"CI":                        "true",
		"GITHUB_ACTIONS":            "true",
		"GITHUB_EVENT_PATH":         event,
		"GITHUB_EVENT_NAME":         "push",
		"GITHUB_WORKSPACE":          workspace,
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
		"RUNNER_ARCH":               "X64",
		"RUNNER_TEMP":               filepath.Join(dir, "tmp"),
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// actionInputs returns the inputs action.yml declares, with their
// defaults ("" for none).
func actionInputs(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Inputs map[string]struct {
			Default *string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	out := map[string]string{}
	for name, in := range meta.Inputs {
		out[name] = ""
		if in.Default != nil {
			out[name] = *in.Default
		}
	}
	return out
}

// ReadOutputs parses GITHUB_OUTPUT as the runner does: name=value lines,
// and the heredoc form name<<DELIM, value lines, DELIM. A missing file
// holds no outputs.
func ReadOutputs(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if eq := strings.Index(lines[i], "="); eq >= 0 && (!ok || eq < len(name)) {
			out[lines[i][:eq]] = lines[i][eq+1:]
			continue
		}
		if !ok {
			t.Fatalf("GITHUB_OUTPUT line %d = %q, want name=value or name<<delimiter", i+1, lines[i])
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("GITHUB_OUTPUT: output %s has no closing %s", name, delim)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}
