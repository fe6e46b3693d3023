package cihost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// CompositeAction runs action.yml, a composite action, the way the GitHub
// runner does (actions/runner's CompositeActionHandler): for each step in
// turn, its env evaluated over the job's variables (the inputs, github,
// runner and steps contexts), its run script under `bash --noprofile
// --norc -eo pipefail` (shell: bash), with a GITHUB_OUTPUT file of its
// own whose values become steps.<id>.outputs, GITHUB_ACTION_PATH set and
// the workspace as working directory. A failing step ends the steps;
// the action's outputs are evaluated after the last step that ran, as
// the runner does after a failure too. Composite actions get no INPUT_
// variables from the runner: only what action.yml maps in env.
//
// An expression this runner does not know (a context or a step it does
// not have, an input action.yml does not declare) fails the test, so
// that a typo in action.yml cannot pass for an empty value.
type CompositeAction struct {
	// ActionPath is the action's directory (github.action_path): the
	// repository's root.
	ActionPath string
	// Ref and Repository are github.action_ref and
	// github.action_repository: v1.2.3 and buoy-deploy/buoy for `uses:
	// buoy-deploy/buoy@v1.2.3`, both empty for `uses: ./`.
	Ref, Repository string
	// Workspace is the checked-out repository (GITHUB_WORKSPACE).
	Workspace string
	// ToolCache is RUNNER_TOOL_CACHE, kept from run to run as on a
	// self-hosted runner.
	ToolCache string
	// Inputs are the step's `with:` values.
	Inputs map[string]string
	// Env is added to (and overrides) the job's variables: the runner's
	// (RUNNER_OS, RUNNER_ARCH, PATH, ...) and the workflow's.
	Env map[string]string
	// Quiet keeps Run from logging what the steps printed (benchmarks).
	Quiet bool
	dir   string
}

// CompositeResult is what a run of the composite action left behind.
type CompositeResult struct {
	// ExitCode is the failing step's, or 0.
	ExitCode int
	// FailedStep is the id of the step that failed, or "".
	FailedStep string
	// Stdout and Stderr are every step's, in order.
	Stdout, Stderr string
	// Outputs are the action's outputs (action.yml's outputs.<id>.value).
	Outputs map[string]string
	// Steps are the outputs of each step that ran, by id.
	Steps map[string]map[string]string
	// Summary is what the steps wrote to GITHUB_STEP_SUMMARY.
	Summary string
}

// NewCompositeAction returns a run of the action at the repository's
// root, with an empty workspace and tool cache in a new temporary
// directory.
func NewCompositeAction(t testing.TB) *CompositeAction {
	t.Helper()
	dir := t.TempDir()
	c := &CompositeAction{ActionPath: Root(), Workspace: filepath.Join(dir, "workspace"), ToolCache: filepath.Join(dir, "toolcache"),
		Inputs: map[string]string{}, Env: map[string]string{}, dir: dir}
	for _, d := range []string{c.Workspace, c.ToolCache} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// ActionMetadata is action.yml as the runner reads it: what a composite
// run needs, and what the Action's tests check.
type ActionMetadata struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Branding    struct {
		Icon  string `yaml:"icon"`
		Color string `yaml:"color"`
	} `yaml:"branding"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Required    bool    `yaml:"required"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Run   string            `yaml:"run"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// Run runs the action once and collects what it left behind.
func (c *CompositeAction) Run(t testing.TB) CompositeResult {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.ActionPath, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta ActionMetadata
	if err := yaml.Unmarshal(b, &meta); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	if meta.Runs.Using != "composite" {
		t.Fatalf("action.yml runs.using = %q, want composite", meta.Runs.Using)
	}
	inputs := map[string]string{}
	for name, in := range meta.Inputs {
		inputs[name] = ""
		if in.Default != nil {
			inputs[name] = *in.Default
		}
	}
	for name, v := range c.Inputs {
		if _, ok := inputs[name]; !ok {
			t.Fatalf("the test sets input %q, which action.yml does not declare", name)
		}
		inputs[name] = v
	}
	run, err := os.MkdirTemp(c.dir, "run")
	if err != nil {
		t.Fatal(err)
	}
	job := jobEnv(t, run, c.Workspace)
	job["RUNNER_TOOL_CACHE"] = c.ToolCache
	for _, d := range []string{job["RUNNER_TEMP"], job["HOME"]} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range c.Env {
		job[k] = v
	}
	ctx := expressionContext{inputs: inputs, steps: map[string]map[string]string{}, declared: map[string]bool{}, values: map[string]string{
		"github.action_ref":        c.Ref,
		"github.action_repository": c.Repository,
		"github.action_path":       c.ActionPath,
		"github.workspace":         c.Workspace,
		"runner.os":                job["RUNNER_OS"],
		"runner.arch":              job["RUNNER_ARCH"],
		"runner.temp":              job["RUNNER_TEMP"],
		"runner.tool_cache":        c.ToolCache,
	}}
	for _, step := range meta.Runs.Steps {
		ctx.declared[step.ID] = true
	}
	res := CompositeResult{Steps: ctx.steps}
	var stdout, stderr bytes.Buffer
	summary := filepath.Join(run, "step_summary")
	for i, step := range meta.Runs.Steps {
		if step.Shell != "bash" {
			t.Fatalf("action.yml step %d has shell %q; this runner runs shell: bash", i+1, step.Shell)
		}
		if step.ID == "" {
			t.Fatalf("action.yml step %d has no id", i+1)
		}
		env := map[string]string{}
		for k, v := range job {
			env[k] = v
		}
		env["GITHUB_ACTION_PATH"] = c.ActionPath
		output := filepath.Join(run, "output_"+step.ID)
		env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"] = output, summary
		for k, v := range step.Env {
			value, err := ctx.evaluate(v)
			if err != nil {
				t.Fatalf("action.yml step %s env %s: %v", step.ID, k, err)
			}
			env[k] = value
		}
		script, err := ctx.evaluate(step.Run)
		if err != nil {
			t.Fatalf("action.yml step %s run: %v", step.ID, err)
		}
		file := filepath.Join(run, "step_"+step.ID+".sh")
		if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", file)
		cmd.Dir = c.Workspace
		cmd.Env = EnvList(env)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		ctx.steps[step.ID] = ReadOutputs(t, output)
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			res.ExitCode, res.FailedStep = exit.ExitCode(), step.ID
		case err != nil:
			t.Fatalf("run step %s: %v", step.ID, err)
		}
		if res.FailedStep != "" {
			break
		}
	}
	res.Outputs = map[string]string{}
	for name, out := range meta.Outputs {
		v, err := ctx.evaluate(out.Value)
		if err != nil {
			t.Fatalf("action.yml output %s: %v", name, err)
		}
		res.Outputs[name] = v
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if b, err := os.ReadFile(summary); err == nil {
		res.Summary = string(b)
	}
	if !c.Quiet {
		t.Logf("exit %d (step %q)\nstdout:\n%s\nstderr:\n%s", res.ExitCode, res.FailedStep, res.Stdout, res.Stderr)
	}
	return res
}

// expressionContext is what a composite action's expressions can read.
type expressionContext struct {
	inputs   map[string]string
	steps    map[string]map[string]string // of the steps that ran
	declared map[string]bool              // the steps action.yml has, by id
	values   map[string]string            // github.* and runner.* by dotted name
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// evaluate replaces each ${{ <context>.<name> }} in s; the only
// expressions it knows are property references.
func (c expressionContext) evaluate(s string) (string, error) {
	var problems []error
	out := expression.ReplaceAllStringFunc(s, func(m string) string {
		v, err := c.lookup(expression.FindStringSubmatch(m)[1])
		if err != nil {
			problems = append(problems, err)
		}
		return v
	})
	return out, errors.Join(problems...)
}

func (c expressionContext) lookup(expr string) (string, error) {
	parts := strings.Split(expr, ".")
	switch {
	case len(parts) == 2 && parts[0] == "inputs":
		v, ok := c.inputs[parts[1]]
		if !ok {
			return "", fmt.Errorf("${{ %s }}: action.yml declares no input %s", expr, parts[1])
		}
		return v, nil
	case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
		if !c.declared[parts[1]] {
			return "", fmt.Errorf("${{ %s }}: action.yml has no step %s", expr, parts[1])
		}
		return c.steps[parts[1]][parts[3]], nil // a step that did not run, an output not set: empty
	}
	if v, ok := c.values[expr]; ok {
		return v, nil
	}
	return "", fmt.Errorf("${{ %s }}: not an expression this test runner knows", expr)
}
