package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// evilManifest is a manifest whose keys and values carry workflow
// commands (raw and percent-encoded), HTML and Markdown, which its error
// messages quote.
const evilManifest = `version: 1
projects:
  - id: shop
    "imagez ##[error]pwned\n::error::pwned %0A::warning::pwned <script>alert(1)</script> [x](javascript:alert(1))": []
    services:
      - id: api
        name: "api\n::error::pwned <b>bold</b> %0A::set-output name=status::pwned"
`

// TestInjectionThroughManifestErrors runs the built action on a manifest
// whose errors quote text that tries to issue workflow commands: every
// command line in stdout is the action's own, every % is escaped (so the
// runner shows "%0A" literally rather than as a line break), and the
// text is still shown, escaped, in the annotations.
func TestInjectionThroughManifestErrors(t *testing.T) {
	t.Parallel()
	r := newRunner(t, buildAction(t))
	if err := os.WriteFile(filepath.Join(r.Workspace, "buoy.yaml"), []byte(evilManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Inputs["environment"] = "stage"
	r.Env["AWS_REGION"] = "eu-west-1"
	r.Env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"
	res := r.run(t)
	if res.ExitCode != exitcode.BadInput {
		t.Errorf("exit code = %d, want %d", res.ExitCode, exitcode.BadInput)
	}
	checkWorkflowCommands(t, res.Stdout, "pwned")
	checkWorkflowCommands(t, res.Stderr, "pwned")
	for _, want := range []string{`imagez ##\[error]pwned\n::error::pwned %250A::warning::pwned <sc"…(107 bytes)`, "<b>bold</b> %250A::set-output name=status::\"…(65 bytes)"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q (the text, escaped for the runner):\n%s", want, res.Stdout)
		}
	}
	if res.Outputs["status"] != "invalid" || len(res.Outputs) != 2 {
		t.Errorf("outputs = %v, want only status invalid and summary-markdown: an injected set-output must not set one", res.Outputs)
	}
}

// outsideTexts are texts from AWS or a manifest that try to issue
// workflow commands the way the runner reads them: "##[" anywhere in a
// line, "::" at the start after white space, with invisible characters
// the runner's search may skip, and after line breaks.
var outsideTexts = []string{
	"##[error]pwned at the start",
	"CannotPullContainerError: ##[error]pwned in the middle",
	"##[set-output name=status;]pwned",
	"task stopped ##[set-output name=status;]pwned (exit code 1)",
	"::error::pwned at the start",
	"  ::warning::pwned after spaces",
	"\u00a0::error::pwned after a no-break space",
	"\u200b##[error]pwned after a zero-width space",
	"#\u200b#[error]pwned split by a zero-width space",
	"#\x01#[error]pwned split by a control character",
	"fine\n::error::pwned on a line of its own",
	"fine\r##[error]pwned after a carriage return",
	"| cell | ##[error]pwned | ::error::pwned |",
}

// TestOutsideTextIssuesNoCommand runs the action (in process, the library
// played by a fake) with outside text in every place it reaches the log:
// the message, service, cluster, image and outcome of every kind of
// event, a failed service's reason, the error that ends the run, a
// status report's drift, and an invalid manifest's diagnostics. No line
// of the log is one the runner reads as a workflow command but the
// action's own, and the job summary's tables keep their columns.
func TestOutsideTextIssuesNoCommand(t *testing.T) {
	t.Parallel()
	for i, evil := range outsideTexts {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			runs := map[string]*harness{}

			h := newHarness(t, map[string]string{"environment": "stage"})
			for _, k := range []event.Kind{event.Plan, event.TagMoved, event.ServiceUpdated, event.Progress, event.ServiceDone,
				event.Warning, event.Retry, event.Failed, event.Finished} {
				h.fake.Events = append(h.fake.Events,
					event.Event{Kind: k, Message: evil, Outcome: evil, From: digestA, To: digestB},
					event.Event{Kind: k, Service: evil, Cluster: evil, Message: evil},
					event.Event{Kind: k, Image: evil, Message: evil, File: evil, Line: 3})
			}
			res := succeeded()
			res.Status = history.StatusFailed
			res.Services[0].Outcome, res.Services[0].Reason, res.Services[0].Service = history.StatusFailed, evil, evil
			res.Images[0].Image, res.Images[0].Repository = evil, evil
			h.fake.Result, h.fake.Err = res, fmt.Errorf("%w: %s", deploy.ErrDeploymentFailed, evil)
			runs["release-deploy"] = h

			h = newHarness(t, map[string]string{"command": "status"})
			h.fake.Report = &deploy.StatusReport{Project: "shop", Environments: []deploy.EnvironmentStatus{{
				Environment: "stage", Drift: []string{evil},
				Images:   []deploy.ImageStatus{{Image: evil, Repository: evil, Tag: evil}},
				Services: []deploy.ServiceStatus{{Service: evil, Cluster: evil, TaskDefinition: evil}},
			}}}
			runs["status"] = h

			h = newHarness(t, map[string]string{"environment": "stage"})
			h.fake.OpenErr = &manifest.Error{Diagnostics: []manifest.Diagnostic{{Pos: manifest.Position{File: "buoy.yaml", Line: 2}, Message: evil, Hint: evil}}}
			runs["invalid manifest"] = h

			for name, h := range runs {
				if err := h.run(t); err != nil {
					reportError(githubactions.New(githubactions.WithWriter(&h.out), githubactions.WithGetenv(func(string) string { return "" })), err)
				}
				if !strings.Contains(h.out.String(), "pwned") {
					t.Errorf("%s: the log does not show the text at all:\n%s", name, &h.out)
				}
				for _, p := range workflowCommandProblems(h.out.String(), "pwned") {
					t.Errorf("%s: %s", name, p)
				}
				checkSummaryTables(t, name, h.summary(t))
			}
		})
	}
}

// checkSummaryTables fails the test when a row of a Markdown table in
// the job summary has another number of cells than its header: text in
// a cell must not add columns or rows.
func checkSummaryTables(t *testing.T, name, summary string) {
	t.Helper()
	cells := func(row string) int { return strings.Count(strings.ReplaceAll(row, `\|`, ""), "|") }
	header := -1
	for _, line := range strings.Split(summary, "\n") {
		switch {
		case !strings.HasPrefix(line, "|"):
			header = -1
		case header < 0:
			header = cells(line)
		case cells(line) != header:
			t.Errorf("%s: the summary row %q has %d cell borders, its header %d", name, line, cells(line), header)
		}
	}
}
