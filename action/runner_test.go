package main

import (
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// runner runs the built action binary the way action.yml's last step
// runs it (cihost.GitHubStep: every input of action.yml as
// INPUT_<UPPER(name)> with its default unless the step sets it, the
// file-command files and the context variables, and the workspace as
// working directory).
type runner struct{ *cihost.GitHubStep }

// runResult is what a run left behind.
type runResult = cihost.StepResult

// buildAction builds ./action into a temporary directory.
func buildAction(t *testing.T) string {
	t.Helper()
	return cihost.Build(t, "./action", "buoy-action")
}

func newRunner(t *testing.T, bin string) *runner {
	t.Helper()
	return &runner{cihost.NewGitHubStep(t, bin)}
}

// run runs the action once and collects what it wrote.
func (r *runner) run(t *testing.T) runResult {
	t.Helper()
	return r.Run(t)
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
