// Package cihost runs buoy's CI entrypoints in tests the way their hosts
// run them: the GitHub Action's binary as action.yml runs it
// (GitHubStep: every input of action.yml as INPUT_<NAME>, the
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the context variables, the
// workspace as working directory), action.yml's composite steps as the
// runner runs them (CompositeAction), and the Buildkite plugin as the agent
// runs a job (BuildkiteEnv, the job's variables with
// BUILDKITE_PLUGIN_CONFIGURATION; StubAgent, a buildkite-agent on PATH
// that records every call; RunCommandHook, the plugin's hooks/command).
// The action's and the plugin's own tests and the end-to-end tests of
// internal/e2e share it.
package cihost

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Build builds the Go package pkg (a path from the repository's root,
// e.g. "./action") into a temporary directory and returns the binary's
// path. The Go build cache makes every build after the first quick.
func Build(t testing.TB, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
