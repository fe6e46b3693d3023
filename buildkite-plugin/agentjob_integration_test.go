//go:build integration

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
)

// agentToken and awsSecret are the job's agent access token and AWS
// secret key; neither may reach the job log.
const (
	agentToken = cihost.AgentToken
	awsSecret  = cihost.AWSSecret
)

// realAgent returns the real buildkite-agent that `make test` builds into
// .tools/ from tools/buildkite-agent/go.mod. A missing agent fails the
// test: it is a prerequisite, never a reason to skip.
func realAgent(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", ".tools", "buildkite-agent"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("the real buildkite-agent is not at %s: `make test` builds it (alone: `make .tools/buildkite-agent`, about 4 minutes the first time)", path)
	}
	return path
}

// git runs git in dir, failing the test on error.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=buoy test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=buoy test", "GIT_COMMITTER_EMAIL=test@example.com", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commitAll makes dir a git repository whose branch main holds its files
// in one commit, and returns that commit.
func commitAll(t *testing.T, dir string) string {
	t.Helper()
	git(t, dir, "init", "--quiet", "--initial-branch=main")
	git(t, dir, "add", "--all")
	git(t, dir, "commit", "--quiet", "--message=test")
	return git(t, dir, "rev-parse", "HEAD")
}

// pluginRepo returns the path of a git repository named buoy.git holding
// this plugin: the files git tracks in this checkout, as they are on disk
// (so uncommitted edits are tested too), committed on branch main. The
// agent clones it as it clones the plugin from the code host.
func pluginRepo(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(t.TempDir(), "buoy.git")
	for _, name := range strings.Split(git(t, root, "ls-files", "-z", "--cached"), "\x00") {
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if name == "" || errors.Is(err, os.ErrNotExist) { // deleted, not yet committed
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	commitAll(t, repo)
	return repo
}

// agentRun is what one `buildkite-agent bootstrap` did.
type agentRun struct {
	Code   int    // its exit status
	Log    string // the job log: its standard output and error
	Commit string // the commit it checked out
}

// bootstrap runs, with the real agent's bootstrap, a job with plugins
// (BUILDKITE_PLUGINS) whose repository holds the files of checkout, as an
// agent runs each job it accepts: it checks the plugins out, validates
// their configuration against their plugin.yml, checks the repository out
// and runs the hooks, with the agent API played by api and AWS aimed at
// moto. agent is the buildkite-agent binary.
func bootstrap(t *testing.T, agent string, api *agentAPI, checkout, plugins string) agentRun {
	t.Helper()
	commit := commitAll(t, checkout)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	for _, dir := range []string{bin, filepath.Join(work, "builds"), filepath.Join(work, "plugins"), filepath.Join(work, "hooks")} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(agent, filepath.Join(bin, "buildkite-agent")); err != nil {
		t.Fatal(err)
	}

	// The agent host's environment (Go's caches, so that the hook's go
	// build reuses them), less anything of Buildkite, AWS or buoy.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUILDKITE") && !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "BUOY_") &&
			!strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, envList(map[string]string{
		"PATH":                          bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"BUILDKITE":                     "true",
		"BUILDKITE_AGENT_ACCESS_TOKEN":  agentToken,
		"BUILDKITE_AGENT_ENDPOINT":      api.URL,
		"BUILDKITE_AGENT_NAME":          "test-agent",
		"BUILDKITE_JOB_ID":              "0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e",
		"BUILDKITE_BUILD_ID":            "0190a1b2-0000-4000-8000-000000000042",
		"BUILDKITE_BUILD_NUMBER":        "42",
		"BUILDKITE_BUILD_URL":           "https://buildkite.com/acme/catalogue/builds/42",
		"BUILDKITE_BUILD_CREATOR":       "Ada Lovelace",
		"BUILDKITE_BUILD_CREATOR_EMAIL": "ada@example.com",
		"BUILDKITE_ORGANIZATION_SLUG":   "acme",
		"BUILDKITE_PIPELINE_SLUG":       "catalogue",
		"BUILDKITE_PIPELINE_PROVIDER":   "git",
		"BUILDKITE_REPO":                checkout,
		"BUILDKITE_COMMIT":              commit,
		"BUILDKITE_BRANCH":              "main",
		"BUILDKITE_PULL_REQUEST":        "false",
		"BUILDKITE_BUILD_PATH":          filepath.Join(work, "builds"),
		"BUILDKITE_PLUGINS_PATH":        filepath.Join(work, "plugins"),
		"BUILDKITE_HOOKS_PATH":          filepath.Join(work, "hooks"),
		"BUILDKITE_BIN_PATH":            bin,
		"BUILDKITE_PLUGINS":             plugins,
		"BUILDKITE_PLUGIN_VALIDATION":   "true",
		"AWS_ENDPOINT_URL":              awstest.Endpoint(t),
		"AWS_REGION":                    awstest.Region,
		"AWS_ACCESS_KEY_ID":             "testing",
		"AWS_SECRET_ACCESS_KEY":         awsSecret,
		"AWS_EC2_METADATA_DISABLED":     "true",
		"AWS_MAX_ATTEMPTS":              "2",
	})...)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, agent, "bootstrap")
	cmd.Dir = work
	cmd.Env = env
	cmd.WaitDelay = 10 * time.Second
	code, log := runLogged(t, cmd, agentToken, awsSecret)
	return agentRun{Code: code, Log: log, Commit: commit}
}

// runPluginStep runs with the real agent a step that uses this plugin
// (from pluginRepo, at branch main) with config, in a pipeline whose
// repository holds the files of checkout. It returns the agent API the
// job talked to and what the agent did.
func runPluginStep(t *testing.T, checkout string, config map[string]any) (*agentAPI, agentRun) {
	t.Helper()
	agent := realAgent(t)
	plugins, err := json.Marshal([]map[string]any{{"file://" + pluginRepo(t) + "#main": config}})
	if err != nil {
		t.Fatal(err)
	}
	api := newAgentAPI(t)
	return api, bootstrap(t, agent, api, checkout, string(plugins))
}
