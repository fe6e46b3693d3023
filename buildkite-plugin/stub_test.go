package main

import (
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
)

// agentCall is one recorded call of the stub buildkite-agent.
type agentCall = cihost.AgentCall

// stubAgent writes a buildkite-agent script that records each call
// (cihost.StubAgent), and returns its directory (to put on PATH) and a
// function that reads the calls back. With fail set, the stub also exits
// 1 after recording.
func stubAgent(t *testing.T, fail bool) (string, func() []agentCall) {
	t.Helper()
	return cihost.StubAgent(t, fail)
}

// annotations returns the annotate calls.
func annotations(calls []agentCall) []agentCall { return cihost.Annotations(calls) }

// metaData returns the meta-data set by the calls, key to value.
func metaData(calls []agentCall) map[string]string { return cihost.MetaData(calls) }

// envFunc turns a map into a getenv function.
func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// envList turns a map into a KEY=value list like os.Environ.
func envList(m map[string]string) []string { return cihost.EnvList(m) }

// buildEnv returns the variables the agent sets for a job in a build
// started by a person, plus secrets that must never be printed
// (cihost.BuildkiteEnv).
func buildEnv(config, path string) map[string]string { return cihost.BuildkiteEnv(config, path) }
