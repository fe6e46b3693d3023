//go:build integration

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entrytest"
)

// TestRunnerMissingTableAndUnreachableStore runs the action, as the runner
// does, against each history store it cannot use (entrytest.StoreFaults:
// a missing table, a closed port, an unknown region): it ends as each
// says, sets the status output, and an ::error annotation says what is
// wrong and what to do.
func TestRunnerMissingTableAndUnreachableStore(t *testing.T) {
	t.Parallel()
	bin := buildAction(t)
	for _, f := range entrytest.StoreFaults(t, "the region is the aws-region input's, or AWS_REGION") {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t, bin)
			if err := os.WriteFile(filepath.Join(r.Workspace, "buoy.yaml"), []byte(badinput.EntrypointManifest()), 0o644); err != nil {
				t.Fatal(err)
			}
			r.Env = map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
			for k, v := range f.Env {
				r.Env[k] = v
			}
			r.Inputs["environment"] = "stage"
			if f.Table != "" {
				r.Inputs["table"] = f.Table
			}
			res := r.run(t)
			f.Check(t, res.ExitCode, res.Outputs["status"], res.Stdout)
			if !errorAnnotationSays(res.Stdout, f.Says) {
				t.Errorf("no ::error says %q:\n%s", f.Says, res.Stdout)
			}
		})
	}
}
