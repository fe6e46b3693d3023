//go:build integration

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// TestE2EShowsTheMigration runs the plugin's binary on a project whose
// stage runs a migration first (on moto): the migration's start and end
// are in a section of their own before the tags move, and the build's
// annotation lists it.
func TestE2EShowsTheMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	w := deployfixture.OneService(t, "catalogue", awstest.Name(t, "history"), "", "")
	family := awstest.Name(t, "migrate")
	w.Environments[0].YAML = []string{deployfixture.PreDeployYAML("migrate", family, []string{"bin/migrate"}, "launch_type: FARGATE")}
	f := deployfixture.Start(ctx, t, cfg, w)
	if _, err := deployfixture.RegisterMigration(ctx, cfg, family, f.Images[0], f.Environments[0], "/ecs/"+family); err != nil {
		t.Fatal(err)
	}
	code, log, calls := runBinary(t, buildPlugin(t), f.Dir,
		fmt.Sprintf(`{"environment":"stage","from-label":"ref.%s","table":%q,"timeout":"2m"}`, deployfixture.NewCommit, f.Table), nil)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, log)
	}
	section := strings.Index(log, "--- :card_file_box: Running pre-deploy tasks\n")
	tags := strings.Index(log, "--- :label: Moving tags\n")
	if section < 0 || tags < 0 || section > tags {
		t.Fatalf("the job log has no pre-deploy section before the tags':\n%s", log)
	}
	for _, want := range []string{"  pre-deploy task migrate: started ECS task ", "  pre-deploy task migrate: succeeded after "} {
		if !strings.Contains(log[section:tags], want) {
			t.Errorf("the pre-deploy section lacks %q:\n%s", want, log[section:tags])
		}
	}
	notes := annotations(calls)
	if len(notes) != 1 || !strings.Contains(notes[0].Stdin, "| migrate | "+f.Cluster+" | succeeded: task ") {
		t.Errorf("annotations = %v, want one listing the migration", notes)
	}
}
