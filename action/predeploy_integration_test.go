//go:build integration

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// TestRunnerShowsTheMigration runs the action as the runner does on a
// project whose stage runs a migration first (on moto): the migration's
// start and end are in a log group of their own before the tags move,
// and the job summary lists it.
func TestRunnerShowsTheMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	ow := deployfixture.OneService(t, "shop", awstest.Name(t, "buoy"), "", "")
	family := awstest.Name(t, "migrate")
	ow.Environments[0].YAML = []string{deployfixture.PreDeployYAML("migrate", family, []string{"bin/migrate"}, "launch_type: FARGATE")}
	f := deployfixture.Start(ctx, t, cfg, ow)
	if _, err := deployfixture.RegisterMigration(ctx, cfg, family, f.Images[0], f.Environments[0], "/ecs/"+family); err != nil {
		t.Fatal(err)
	}
	r := runnerFor(t, &world{Table: f.Table, Manifest: f.YAML()})
	r.Inputs["environment"] = "stage"
	r.Inputs["from-label"] = "ref." + deployfixture.NewCommit
	r.Inputs["timeout"] = "2m"
	res := r.run(t)
	if res.ExitCode != 0 {
		t.Fatalf("exit code = %d, want 0\n%s\n%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	log := res.Stdout
	group := strings.Index(log, "::group::Run pre-deploy tasks\n")
	tags := strings.Index(log, "::group::Move floating tags\n")
	if group < 0 || tags < 0 || group > tags {
		t.Fatalf("the log has no pre-deploy group before the tags':\n%s", log)
	}
	for _, want := range []string{"migrate: started ECS task ", "migrate: succeeded after "} {
		if !strings.Contains(log[group:tags], want) {
			t.Errorf("the pre-deploy group lacks %q:\n%s", want, log[group:tags])
		}
	}
	if !strings.Contains(res.Summary, "| Pre-deploy task | Cluster | Outcome | Time |") || !strings.Contains(res.Summary, "| migrate | "+f.Cluster+" | succeeded: task ") {
		t.Errorf("the job summary does not list the migration:\n%s", res.Summary)
	}
}
