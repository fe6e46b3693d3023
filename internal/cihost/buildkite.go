package cihost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The secrets BuildkiteEnv gives a job; neither may reach its log or the
// agent.
const (
	AgentToken = "bkagent-secret-token-do-not-print"
	AWSSecret  = "aws-secret-do-not-print"
)

// BuildkiteCommit is the commit of the build BuildkiteEnv describes.
const BuildkiteCommit = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"

// BuildkiteEnv returns the variables the agent sets for a job of build 42
// of acme/catalogue, started by a person, whose step uses the plugin with
// config (BUILDKITE_PLUGIN_CONFIGURATION, the JSON the agent passes), with
// PATH set to path, plus secrets that must never be printed.
func BuildkiteEnv(config, path string) map[string]string {
	return map[string]string{
		"BUILDKITE":                      "true",
		"BUILDKITE_PLUGIN_CONFIGURATION": config,
		"BUILDKITE_PLUGIN_NAME":          "BUOY",
		"BUILDKITE_BUILD_URL":            "https://buildkite.com/acme/catalogue/builds/42",
		"BUILDKITE_BUILD_CREATOR":        "Ada Lovelace",
		"BUILDKITE_BUILD_CREATOR_EMAIL":  "ada@example.com",
		"BUILDKITE_COMMIT":               BuildkiteCommit,
		"BUILDKITE_BRANCH":               "main",
		"BUILDKITE_PIPELINE_SLUG":        "catalogue",
		"BUILDKITE_BUILD_NUMBER":         "42",
		"BUILDKITE_JOB_ID":               "0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e",
		"BUILDKITE_AGENT_ACCESS_TOKEN":   AgentToken,
		"AWS_ACCESS_KEY_ID":              "testing",
		"AWS_SECRET_ACCESS_KEY":          AWSSecret,
		"PATH":                           path,
	}
}

// EnvList turns a map into a sorted KEY=value list like os.Environ.
func EnvList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// AgentCall is one recorded call of the stub buildkite-agent.
type AgentCall struct {
	Args  []string
	Stdin string
}

// StubAgent writes a buildkite-agent script into a new directory that
// records each call's arguments and standard input, and returns the
// directory (to put on PATH) and a function that reads the calls back.
// With fail set, the stub also exits 1 after recording.
func StubAgent(t testing.TB, fail bool) (string, func() []AgentCall) {
	t.Helper()
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	if err := os.Mkdir(calls, 0o755); err != nil {
		t.Fatal(err)
	}
	exit := "0"
	if fail {
		exit = "1"
	}
	script := "#!/bin/sh\n" +
		"dir='" + calls + "'\n" +
		"n=$(find \"$dir\" -name '*.args' | wc -l)\n" +
		"printf '%s\\n' \"$@\" > \"$dir/$n.args\"\n" +
		"cat > \"$dir/$n.stdin\"\n" +
		"[ " + exit + " = 0 ] || { echo 'stub: agent API unreachable' >&2; exit " + exit + "; }\n"
	WriteExecutable(t, filepath.Join(dir, "buildkite-agent"), script)
	return dir, func() []AgentCall {
		t.Helper()
		entries, err := filepath.Glob(filepath.Join(calls, "*.args"))
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(entries, func(i, j int) bool { return callNumber(entries[i]) < callNumber(entries[j]) })
		var out []AgentCall
		for _, e := range entries {
			args, err := os.ReadFile(e)
			if err != nil {
				t.Fatal(err)
			}
			stdin, err := os.ReadFile(strings.TrimSuffix(e, ".args") + ".stdin")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, AgentCall{Args: strings.Split(strings.TrimSuffix(string(args), "\n"), "\n"), Stdin: string(stdin)})
		}
		return out
	}
}

// WriteExecutable writes an executable script. It has install(1) write
// the file, so that no write descriptor of it ever exists in this process:
// a parallel test forking at that moment would inherit it and make running
// the script fail with "text file busy".
func WriteExecutable(t testing.TB, path, script string) {
	t.Helper()
	src := path + ".src"
	if err := os.WriteFile(src, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("install", "-m", "0755", src, path).CombinedOutput(); err != nil {
		t.Fatalf("install %s: %v: %s", path, err, out)
	}
}

func callNumber(path string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(path), ".args"))
	return n
}

// Annotations returns the annotate calls.
func Annotations(calls []AgentCall) []AgentCall {
	var out []AgentCall
	for _, c := range calls {
		if len(c.Args) > 0 && c.Args[0] == "annotate" {
			out = append(out, c)
		}
	}
	return out
}

// Redacted returns what the calls gave the log redactor (buildkite-agent
// redactor add), and the other calls.
func Redacted(calls []AgentCall) (redacted []string, others []AgentCall) {
	for _, c := range calls {
		if len(c.Args) >= 2 && c.Args[0] == "redactor" && c.Args[1] == "add" {
			redacted = append(redacted, c.Stdin)
			continue
		}
		others = append(others, c)
	}
	return redacted, others
}

// MetaData returns the meta-data set by the calls, key to value.
func MetaData(calls []AgentCall) map[string]string {
	out := map[string]string{}
	for _, c := range calls {
		if len(c.Args) == 3 && c.Args[0] == "meta-data" && c.Args[1] == "set" {
			out[c.Args[2]] = c.Stdin
		}
	}
	return out
}

// JobRun is what one run of a job's command left behind.
type JobRun struct {
	Code int    // its exit status
	Log  string // the job log: its standard output and error
	// Calls are the calls of the stub buildkite-agent.
	Calls []AgentCall
}

// RunCommandHook runs the plugin's hooks/command (of this checkout) in
// dir, the pipeline's checkout, as the agent runs a job's command: with
// BuildkiteEnv(config), env added (AWS's endpoint and region, say), and a
// stub buildkite-agent first on PATH. It fails the test when a secret of
// BuildkiteEnv reaches the log or the agent, or when the hook runs longer
// than timeout (a hang, not a speed check).
func RunCommandHook(t testing.TB, dir, config string, env map[string]string, timeout time.Duration) JobRun {
	t.Helper()
	stubs, calls := StubAgent(t, false)
	vars := BuildkiteEnv(config, stubs+string(os.PathListSeparator)+os.Getenv("PATH"))
	vars["HOME"] = t.TempDir()
	vars["BUOY_CACHE_DIR"] = t.TempDir()
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(Root(), "hooks", "command"))
	cmd.Dir = dir
	cmd.Env = EnvList(vars)
	cmd.WaitDelay = 10 * time.Second
	code, log := RunLogged(t, cmd, AgentToken, AWSSecret)
	if ctx.Err() != nil {
		t.Fatalf("hooks/command still ran after %s: killed\n%s", timeout, log)
	}
	run := JobRun{Code: code, Log: log, Calls: calls()}
	for _, secret := range []string{AgentToken, AWSSecret} {
		if strings.Contains(fmt.Sprint(run.Calls), secret) {
			t.Errorf("a secret reached buildkite-agent: %q", secret)
		}
	}
	return run
}

// RunLogged runs cmd with its standard output and error as the job log
// and returns its exit status and the log. It fails the test when cmd
// cannot start, and marks it failed when the log shows one of secrets.
func RunLogged(t testing.TB, cmd *exec.Cmd, secrets ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v\n%s", cmd.Path, err, out.String())
	}
	log := out.String()
	for _, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("a secret reached the job log: %q", secret)
		}
	}
	return code, log
}
