//go:build integration

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// TestE2EMissingTableAndUnreachableStore runs the plugin binary with the
// default retry policy against each history store it cannot use
// (entrytest.StoreFaults): it ends as each says, sets buoy:status, and the
// job log and the step's one annotation say what is wrong and what to do.
func TestE2EMissingTableAndUnreachableStore(t *testing.T) {
	t.Parallel()
	bin := buildPlugin(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "buoy.yaml"), []byte(badinput.EntrypointManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range entrytest.StoreFaults(t, "the region is AWS_REGION's, or the manifest registry's") {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			options := map[string]string{"environment": "stage"}
			if f.Table != "" {
				options["table"] = f.Table
			}
			config, err := json.Marshal(options)
			if err != nil {
				t.Fatal(err)
			}
			// AWS_MAX_ATTEMPTS empty: the default policy of 10 attempts.
			env := map[string]string{"AWS_ENDPOINT_URL": "", "AWS_MAX_ATTEMPTS": ""}
			for k, v := range f.Env {
				env[k] = v
			}
			code, log, calls := runBinary(t, bin, dir, string(config), env)
			f.Check(t, code, metaData(calls)["buoy:status"], log)
			if !strings.Contains(log, f.Says) {
				t.Errorf("log does not say %q:\n%s", f.Says, log)
			}
			if notes := annotations(calls); len(notes) != 1 || !strings.Contains(notes[0].Stdin, report.Escape(f.Says)) {
				t.Errorf("annotations = %v, want one saying %q", notes, report.Escape(f.Says))
			}
		})
	}
}
