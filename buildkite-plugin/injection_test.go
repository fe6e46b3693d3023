package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// TestInjectionThroughManifestErrors runs the plugin on a manifest whose
// errors quote Markdown, HTML, log section markers and terminal escapes:
// the annotation shows them escaped, and the log opens no section of
// theirs.
func TestInjectionThroughManifestErrors(t *testing.T) {
	t.Parallel()
	const evil = `version: 1
projects:
  - id: catalogue
    "imagez\n+++ pwned <script>alert(1)</script> [x](javascript:alert(1)) ![i](https://evil.example/i.png)": []
    services:
      - id: api
        name: "api\n--- pwned <b>bold</b> | cell | \u001b]1339;url=https://evil.example\u0007"
`
	path := filepath.Join(t.TempDir(), "buoy.yaml")
	if err := os.WriteFile(path, []byte(evil), 0o644); err != nil {
		t.Fatal(err)
	}
	log, calls, err := runPluginWith(t, `{"environment":"stage","manifest":"`+path+`"}`, nil, entry.Opener, false)
	if code := exitCode(err); code != exitcode.BadInput {
		t.Errorf("exit code = %d (%v), want %d", code, err, exitcode.BadInput)
	}
	checkLogSections(t, log)
	notes := annotations(calls)
	if len(notes) != 1 {
		t.Fatalf("annotations = %v, want one", notes)
	}
	body := notes[0].Stdin
	checkAnnotationMarkup(t, body)
	for _, want := range []string{`&lt;script&gt;alert\(1\)&lt;/script&gt;`, `\[x\]\(javascript:al"…\(100 bytes\)`, `&lt;b&gt;bold&lt;/b&gt; \| cell \|`} {
		if !strings.Contains(body, want) {
			t.Errorf("annotation lacks %q (the text, escaped):\n%s", want, body)
		}
	}
}
