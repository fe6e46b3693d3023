package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// evilManifest is a manifest whose keys and values carry workflow
// commands (raw and percent-encoded), HTML and Markdown, which its error
// messages quote.
const evilManifest = `version: 1
projects:
  - id: shop
    "imagez\n::error::pwned %0A::warning::pwned <script>alert(1)</script> [x](javascript:alert(1))": []
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
	for _, want := range []string{"%250A::warning::pwned <script>", "<b>bold</b> %250A::set-output name=status::\"…(65 bytes)"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("stdout lacks %q (the text, escaped for the runner):\n%s", want, res.Stdout)
		}
	}
	if res.Outputs["status"] != "invalid" || len(res.Outputs) != 2 {
		t.Errorf("outputs = %v, want only status invalid and summary-markdown: an injected set-output must not set one", res.Outputs)
	}
}
