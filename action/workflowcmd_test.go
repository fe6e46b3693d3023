package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// workflowCommand is one line the runner reads as a workflow command:
// ::name key=value,...::message.
var workflowCommand = regexp.MustCompile(`^::([a-z-]+)(?: ([^:]*))?::(.*)$`)

// ours are the workflow commands the action issues.
var ours = map[string]bool{"add-mask": true, "debug": true, "error": true, "warning": true, "notice": true, "group": true, "endgroup": true}

// checkWorkflowCommands fails the test when stdout holds a workflow
// command the action does not issue, an escapable character left
// unescaped in a command, or a command whose message starts with what the
// test injected (marker): text from input must never become a command.
func checkWorkflowCommands(t *testing.T, stdout, marker string) {
	t.Helper()
	for _, p := range workflowCommandProblems(stdout, marker) {
		t.Error(p)
	}
}

// workflowCommandProblems lists what checkWorkflowCommands objects to.
func workflowCommandProblems(stdout, marker string) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for i, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") && !strings.HasPrefix(line, "::") {
			continue // indented: the runner does not read it
		}
		if !strings.HasPrefix(line, "::") {
			continue
		}
		m := workflowCommand.FindStringSubmatch(line)
		if m == nil {
			report("stdout line %d is a malformed workflow command: %q", i+1, line)
			continue
		}
		name, props, msg := m[1], m[2], m[3]
		if !ours[name] {
			report("stdout line %d issues workflow command %q, which the action never does: %q", i+1, name, line)
		}
		if marker != "" && strings.HasPrefix(msg, marker) {
			report("stdout line %d is a command injected from input: %q", i+1, line)
		}
		for _, part := range []string{props, msg} {
			for j := strings.IndexByte(part, '%'); j >= 0; j = nextPercent(part, j) {
				if rest := part[j+1:]; !strings.HasPrefix(rest, "25") && !strings.HasPrefix(rest, "0A") &&
					!strings.HasPrefix(rest, "0D") && !strings.HasPrefix(rest, "3A") && !strings.HasPrefix(rest, "2C") {
					report("stdout line %d has an unescaped %%: %q", i+1, line)
					break
				}
			}
		}
	}
	return problems
}

func nextPercent(s string, after int) int {
	j := strings.IndexByte(s[after+1:], '%')
	if j < 0 {
		return -1
	}
	return after + 1 + j
}

func TestCheckWorkflowCommandsCatchesInjection(t *testing.T) {
	t.Parallel()
	for _, stdout := range []string{
		"::error::fine\n::set-env name=X::y\n",
		"::error::pwned by input\n",
		"::error::100% sure\n",
	} {
		if len(workflowCommandProblems(stdout, "pwned")) == 0 {
			t.Errorf("no problem found in %q", stdout)
		}
	}
	fine := "::add-mask::s3cret\n::error title=a%3Ab::x%250A::error::pwned\n  : :error: :pwned\nplain ::error::pwned\n"
	if p := workflowCommandProblems(fine, "pwned"); len(p) > 0 {
		t.Errorf("problems found in escaped output: %q", p)
	}
}
