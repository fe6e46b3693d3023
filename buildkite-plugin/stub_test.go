package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// agentCall is one recorded call of the stub buildkite-agent.
type agentCall struct {
	Args  []string
	Stdin string
}

// stubAgent writes a buildkite-agent script into a new directory that
// records each call's arguments and standard input, and returns the
// directory (to put on PATH) and a function that reads the calls back.
// With fail set, the stub also exits 1 after recording.
func stubAgent(t *testing.T, fail bool) (string, func() []agentCall) {
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
	writeExecutable(t, filepath.Join(dir, "buildkite-agent"), script)
	return dir, func() []agentCall {
		t.Helper()
		entries, err := filepath.Glob(filepath.Join(calls, "*.args"))
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(entries, func(i, j int) bool { return callNumber(entries[i]) < callNumber(entries[j]) })
		var out []agentCall
		for _, e := range entries {
			args, err := os.ReadFile(e)
			if err != nil {
				t.Fatal(err)
			}
			stdin, err := os.ReadFile(strings.TrimSuffix(e, ".args") + ".stdin")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, agentCall{Args: strings.Split(strings.TrimSuffix(string(args), "\n"), "\n"), Stdin: string(stdin)})
		}
		return out
	}
}

// writeExecutable writes an executable script. It has install(1) write
// the file, so that no write descriptor of it ever exists in this process:
// a parallel test forking at that moment would inherit it and make running
// the script fail with "text file busy".
func writeExecutable(t *testing.T, path, script string) {
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

// annotations returns the annotate calls.
func annotations(calls []agentCall) []agentCall {
	var out []agentCall
	for _, c := range calls {
		if len(c.Args) > 0 && c.Args[0] == "annotate" {
			out = append(out, c)
		}
	}
	return out
}

// metaData returns the meta-data set by the calls, key to value.
func metaData(calls []agentCall) map[string]string {
	out := map[string]string{}
	for _, c := range calls {
		if len(c.Args) == 3 && c.Args[0] == "meta-data" && c.Args[1] == "set" {
			out[c.Args[2]] = c.Stdin
		}
	}
	return out
}

// envFunc turns a map into a getenv function.
func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// envList turns a map into a KEY=value list like os.Environ.
func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// buildEnv returns the variables the agent sets for a job in a build
// started by a person, plus secrets that must never be printed.
func buildEnv(config, path string) map[string]string {
	return map[string]string{
		"BUILDKITE":                      "true",
		"BUILDKITE_PLUGIN_CONFIGURATION": config,
		"BUILDKITE_PLUGIN_NAME":          "BUOY",
		"BUILDKITE_BUILD_URL":            "https://buildkite.com/acme/catalogue/builds/42",
		"BUILDKITE_BUILD_CREATOR":        "Ada Lovelace",
		"BUILDKITE_BUILD_CREATOR_EMAIL":  "ada@example.com",
		"BUILDKITE_COMMIT":               "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",
		"BUILDKITE_BRANCH":               "main",
		"BUILDKITE_PIPELINE_SLUG":        "catalogue",
		"BUILDKITE_BUILD_NUMBER":         "42",
		"BUILDKITE_JOB_ID":               "0190a1b2-c3d4-e5f6-0718-293a4b5c6d7e",
		"BUILDKITE_AGENT_ACCESS_TOKEN":   "bkagent-secret-token-do-not-print",
		"AWS_ACCESS_KEY_ID":              "testing",
		"AWS_SECRET_ACCESS_KEY":          "aws-secret-do-not-print",
		"PATH":                           path,
	}
}
