package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// workflowCommand is one line the runner reads as a workflow command the
// action issued: ::name key=value,...::message.
var workflowCommand = regexp.MustCompile(`^::([a-z-]+)(?: ([^:]*))?::(.*)$`)

// ours are the workflow commands the action issues.
var ours = map[string]bool{"add-mask": true, "debug": true, "error": true, "warning": true, "notice": true, "group": true, "endgroup": true}

// runnerCommands are the commands the runner knows (actions/runner's
// ActionCommandManager and its command extensions), in lower case: it
// matches them whatever their case.
var runnerCommands = map[string]bool{
	"add-mask": true, "add-matcher": true, "add-path": true, "debug": true, "echo": true, "endgroup": true,
	"error": true, "group": true, "internal-set-repo-path": true, "notice": true, "remove-matcher": true,
	"save-state": true, "set-env": true, "set-output": true, "stop-commands": true, "warning": true,
}

// runnerCommand returns the command the runner reads in one line of a
// step's output, as actions/runner's ActionCommand does: first
// TryParseV2, "::name[ properties]::data" once leading white space is
// trimmed; then TryParse, "##[name[ properties]]data" at the first "##["
// anywhere in the line. ok is false when the line is plain text.
func runnerCommand(line string) (name string, v2, ok bool) {
	commandName := func(info string) string {
		if sp := strings.IndexByte(info, ' '); sp >= 0 {
			return info[:sp]
		}
		return info
	}
	if m := strings.TrimLeftFunc(line, unicode.IsSpace); strings.HasPrefix(m, "::") {
		if end := strings.Index(m[2:], "::"); end >= 0 {
			if name := commandName(m[2 : 2+end]); runnerCommands[strings.ToLower(name)] {
				return name, true, true
			}
		}
	}
	if i := strings.Index(line, "##["); i >= 0 {
		if rb := strings.IndexByte(line[i:], ']'); rb >= 0 {
			if name := commandName(line[i+3 : i+rb]); runnerCommands[strings.ToLower(name)] {
				return name, false, true
			}
		}
	}
	return "", false, false
}

// checkWorkflowCommands fails the test when output (the action's stdout
// or stderr: the runner reads both) holds a line the runner reads as a
// workflow command the action does not issue (in either form, "::" or
// "##[", anywhere the runner looks), an escapable character left
// unescaped in a command, or a command whose message starts with what the
// test injected (marker): text from input must never become a command.
func checkWorkflowCommands(t *testing.T, output, marker string) {
	t.Helper()
	for _, p := range workflowCommandProblems(output, marker) {
		t.Error(p)
	}
}

// workflowCommandProblems lists what checkWorkflowCommands objects to.
func workflowCommandProblems(output, marker string) []string {
	var problems []string
	report := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for i, line := range strings.Split(output, "\n") {
		name, v2, ok := runnerCommand(line)
		switch {
		case !ok:
			continue
		case !v2:
			report("line %d is read by the runner as the command ##[%s], which the action never issues: %q", i+1, name, line)
			continue
		case !strings.HasPrefix(line, "::"):
			report("line %d is read by the runner as the command ::%s (after its leading space), which the action never issues so: %q", i+1, name, line)
			continue
		}
		m := workflowCommand.FindStringSubmatch(line)
		if m == nil {
			report("line %d is a malformed workflow command: %q", i+1, line)
			continue
		}
		name, props, msg := m[1], m[2], m[3]
		if !ours[name] {
			report("line %d issues workflow command %q, which the action never does: %q", i+1, name, line)
		}
		if marker != "" && strings.HasPrefix(msg, marker) {
			report("line %d is a command injected from input: %q", i+1, line)
		}
		for _, part := range []string{props, msg} {
			for j := strings.IndexByte(part, '%'); j >= 0; j = nextPercent(part, j) {
				if rest := part[j+1:]; !strings.HasPrefix(rest, "25") && !strings.HasPrefix(rest, "0A") &&
					!strings.HasPrefix(rest, "0D") && !strings.HasPrefix(rest, "3A") && !strings.HasPrefix(rest, "2C") {
					report("line %d has an unescaped %%: %q", i+1, line)
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
	for _, output := range []string{
		"::error::fine\n::set-env name=X::y\n",
		"::error::pwned by input\n",
		"::error::100% sure\n",
		"  ::error::indented, still read\n",
		"\u00a0::warning::after a no-break space\n",
		"a task stopped: ##[error]pwned\n",
		"##[set-output name=status;]pwned\n",
		"mixed case ##[Error]pwned\n",
	} {
		if len(workflowCommandProblems(output, "pwned")) == 0 {
			t.Errorf("no problem found in %q", output)
		}
	}
	fine := "::add-mask::s3cret\n::error title=a%3Ab::x%250A::error::pwned ##[error]inside the action's own command\n" +
		"  : :error: :pwned\nplain ::error::pwned\nescaped ##\\[error]pwned\n##[unknown]not a command\n"
	if p := workflowCommandProblems(fine, "pwned"); len(p) > 0 {
		t.Errorf("problems found in escaped output: %q", p)
	}
}
