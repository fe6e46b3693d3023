package main

import (
	"bytes"

	"testing"

	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestValidateGolden: validate's text and JSON, of a valid manifest (and
// of one project of it), of one with a warning, and of an invalid one,
// which is exit 2 in both forms.
func TestValidateGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"valid", []string{"--manifest", "testdata/complete/buoy.yaml"}, exitcode.OK},
		{"project", []string{"--manifest", "testdata/complete/buoy.yaml", "--project", "search"}, exitcode.OK},
		{"unknown-project", []string{"--manifest", "testdata/complete/buoy.yaml", "--project", "serch"}, exitcode.BadInput},
		{"warning", []string{"--manifest", "testdata/validate/legacy.wellcome_project"}, exitcode.OK},
		{"invalid", []string{"--manifest", "testdata/validate/invalid.yaml"}, exitcode.BadInput},
	}
	for _, tt := range tests {
		for _, output := range []string{"text", "json"} {
			t.Run(tt.name+"/"+output, func(t *testing.T) {
				t.Parallel()
				code, out, stderr := runBuoy(t, history.NewMemory(), append([]string{"validate", "--output", output}, tt.args...)...)
				if code != tt.code {
					t.Errorf("exit code: got %d, want %d\nstderr: %s", code, tt.code, stderr)
				}
				golden.Check(t, "testdata/validate/"+tt.name+"."+output, "stdout:\n"+out+"stderr:\n"+stderr)
			})
		}
	}
}

// TestInitJSONGolden: what init prints with --output json.
func TestInitJSONGolden(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := printInit(&b, "json", initJSON{Table: "buoy-history", Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/init.json", b.String())
}
