//go:build integration

package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
)

// buildPlugin builds the plugin binary into a temporary directory.
func buildPlugin(t *testing.T) string {
	t.Helper()
	return cihost.Build(t, "github.com/buoy-deploy/buoy/buildkite-plugin", "buoy-buildkite-plugin")
}

// runBinary runs the plugin binary in the world's checkout as
// hooks/command does, with the agent's variables, AWS aimed at moto (and
// extra variables), and a stub buildkite-agent on PATH. It returns the
// exit code, the job log and the agent calls.
func runBinary(t *testing.T, bin, dir, config string, extra map[string]string) (int, string, []agentCall) {
	t.Helper()
	stubs, calls := stubAgent(t, false)
	env := buildEnv(config, stubs+":/usr/bin:/bin")
	env["AWS_ENDPOINT_URL"] = awstest.Endpoint(t)
	env["AWS_REGION"] = awstest.Region
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	env["AWS_MAX_ATTEMPTS"] = "2"
	env["HOME"] = t.TempDir()
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = dir
	cmd.Env = envList(env)
	secrets := []string{env["AWS_SECRET_ACCESS_KEY"], env["BUILDKITE_AGENT_ACCESS_TOKEN"]}
	code, log := runLogged(t, cmd, secrets...)
	for _, secret := range secrets {
		if strings.Contains(fmt.Sprint(calls()), secret) {
			t.Errorf("a secret reached buildkite-agent: %q", secret)
		}
	}
	return code, log, calls()
}

// runLogged runs cmd with its standard output and error as the job log
// (cihost.RunLogged) and returns its exit status and the log.
func runLogged(t *testing.T, cmd *exec.Cmd, secrets ...string) (int, string) {
	t.Helper()
	return cihost.RunLogged(t, cmd, secrets...)
}

// hasSection reports whether the job log has a line starting with section.
func hasSection(log, section string) bool {
	return strings.HasPrefix(log, section) || strings.Contains(log, "\n"+section)
}

func TestE2EBadConfiguration(t *testing.T) {
	t.Parallel()
	bin := buildPlugin(t)
	dir := t.TempDir()
	tests := []struct{ name, config, want string }{
		{"unknown option", `{"environment":"stage","cluster":"prod"}`, `unknown option "cluster"`},
		{"wrong type", `{"environment":"stage","timeout":30}`, `option "timeout" must be a string, got a number`},
		{"missing environment", `{"command":"deploy"}`, `option "environment" is missing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, log, calls := runBinary(t, bin, dir, tt.config, nil)
			if code != 2 {
				t.Errorf("exit code = %d, want 2\n%s", code, log)
			}
			if !strings.Contains(log, tt.want) {
				t.Errorf("log does not say %q:\n%s", tt.want, log)
			}
			notes := annotations(calls)
			if len(notes) != 1 || notes[0].Args[2] != "error" {
				t.Fatalf("annotations = %v, want one --style error", notes)
			}
			if got := metaData(calls)["buoy:status"]; got != "invalid" {
				t.Errorf("buoy:status = %q, want invalid", got)
			}
		})
	}
}
