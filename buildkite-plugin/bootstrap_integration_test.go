//go:build integration

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// These tests run the plugin as Buildkite does: the real agent's
// bootstrap clones it from a git repository, validates the step's
// configuration against plugin.yml, checks the pipeline's repository out
// and runs hooks/command, which builds the plugin with Go (what happens
// for a branch ref such as #main) and runs it against moto; the
// annotation and meta-data go through the real `buildkite-agent` commands
// to a fake agent API.

// startOneService builds deployfixture.OneService on moto.
func startOneService(t *testing.T) *deployfixture.Fixture {
	t.Helper()
	return deployfixture.Start(context.Background(), t, awstest.Config(t),
		deployfixture.OneService(t, "catalogue", awstest.Name(t, "history"), "", ""))
}

func TestAgentBootstrapReleaseDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startOneService(t)
	img := f.Images[0]
	api, run := runPluginStep(t, f.Dir, map[string]any{
		"environment": "stage", "from-label": "ref." + deployfixture.NewCommit, "table": f.Table, "timeout": "2m",
	})
	if run.Code != 0 {
		t.Fatalf("buildkite-agent bootstrap exited %d, want 0; job log:\n%s", run.Code, run.Log)
	}

	// The agent checked the configuration against plugin.yml, and the
	// hook built the plugin and ran it, which logged its sections.
	for _, want := range []string{`Valid plugin configuration for "buoy-git"`, "Building buoy-buildkite-plugin from "} {
		if !strings.Contains(run.Log, want) {
			t.Errorf("the job log does not say %q", want)
		}
	}
	for _, section := range []string{"--- :package: Obtaining buoy-buildkite-plugin", "--- :ship: buoy release-deploy to stage",
		"--- :label: Moving tags", "--- :hourglass: Waiting for ECS", "+++ :white_check_mark: catalogue: release-deploy "} {
		if !hasSection(run.Log, section) {
			t.Errorf("the job log has no section %q", section)
		}
	}

	// What changed in AWS: the floating tag moved to the new build, and
	// the history holds a succeeded deployment of this commit.
	if got := f.TagDigest(ctx, t, img.Repository, "env.stage"); got != img.New {
		t.Errorf("env.stage points at %s, want the new build %s", got, img.New)
	}
	deps := f.Deployments(ctx, t)
	if len(deps) != 1 || deps[0].Status != history.StatusSucceeded {
		t.Fatalf("deployments = %+v, want one succeeded", deps)
	}
	d := deps[0]
	if d.CI.Commit != run.Commit || d.CI.Provider != "buildkite" || d.CI.Actor != "Ada Lovelace" {
		t.Errorf("deployment CI = %+v, want commit %s by Ada Lovelace from buildkite", d.CI, run.Commit)
	}

	// What reached the agent API through the real buildkite-agent.
	notes := api.Annotations()
	if len(notes) != 1 || notes[0].Context != "buoy-stage" || notes[0].Style != "success" {
		t.Fatalf("annotations = %+v, want one with context buoy-stage, style success\njob log:\n%s", notes, run.Log)
	}
	if !strings.Contains(notes[0].Body, img.Service) {
		t.Errorf("the annotation does not name the service %s:\n%s", img.Service, notes[0].Body)
	}
	meta := api.MetaData()
	want := map[string]string{"buoy:status": "succeeded", "buoy:stage:status": "succeeded",
		"buoy:release-id": d.ReleaseID, "buoy:deployment-id": d.ID,
		"buoy:stage:release-id": d.ReleaseID, "buoy:stage:deployment-id": d.ID}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("meta-data %s = %q, want %q", k, meta[k], v)
		}
	}
	for _, r := range api.Requests() {
		if r.Auth != "Token "+agentToken {
			t.Errorf("%s %s came with Authorization %q, want the agent's token", r.Method, r.Path, r.Auth)
		}
	}
}

// A configuration plugin.yml does not allow is refused by the agent
// itself, before any hook runs.
func TestAgentBootstrapRefusesConfigurationOutsidePluginYML(t *testing.T) {
	t.Parallel()
	checkout := t.TempDir()
	if err := os.WriteFile(filepath.Join(checkout, "README.md"), []byte("# catalogue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	api, run := runPluginStep(t, checkout, map[string]any{"environment": "stage", "cluster": "prod"})
	if run.Code == 0 {
		t.Fatalf("buildkite-agent bootstrap exited 0, want a failure; job log:\n%s", run.Log)
	}
	if !strings.Contains(run.Log, `Plugin validation failed for "buoy-git"`) || !strings.Contains(run.Log, "additional properties") {
		t.Errorf("the job log does not show the agent refusing the configuration against plugin.yml:\n%s", run.Log)
	}
	if strings.Contains(run.Log, "Obtaining buoy-buildkite-plugin") {
		t.Errorf("hooks/command ran although the configuration is invalid:\n%s", run.Log)
	}
	if notes, meta := api.Annotations(), api.MetaData(); len(notes) != 0 || meta["buoy:status"] != "" {
		t.Errorf("annotations %+v and meta-data %v, want none from buoy", notes, meta)
	}
}

// A configuration plugin.yml allows but buoy refuses (an environment the
// manifest lacks) fails the step with exit status 2 and an error
// annotation, and changes nothing.
func TestAgentBootstrapUnknownEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := startOneService(t)
	img := f.Images[0]
	api, run := runPluginStep(t, f.Dir, map[string]any{
		"environment": "qa", "from-label": "ref." + deployfixture.NewCommit, "table": f.Table,
	})
	if run.Code != 2 {
		t.Fatalf("buildkite-agent bootstrap exited %d, want 2 (bad input); job log:\n%s", run.Code, run.Log)
	}
	if !strings.Contains(run.Log, `Valid plugin configuration for "buoy-git"`) {
		t.Errorf("the agent did not accept the configuration:\n%s", run.Log)
	}
	notes := api.Annotations()
	if len(notes) != 1 || notes[0].Context != "buoy-qa" || notes[0].Style != "error" || !strings.Contains(notes[0].Body, `no environment "qa"`) {
		t.Errorf("annotations = %+v, want one with context buoy-qa, style error, saying there is no environment \"qa\"\njob log:\n%s", notes, run.Log)
	}
	if got := api.MetaData()["buoy:status"]; got != "invalid" {
		t.Errorf("buoy:status = %q, want invalid", got)
	}
	if got := f.TagDigest(ctx, t, img.Repository, "env.stage"); got != img.Old {
		t.Errorf("env.stage points at %s, want the old build %s still", got, img.Old)
	}
	if deps := f.Deployments(ctx, t); len(deps) != 0 {
		t.Errorf("deployments = %+v, want none", deps)
	}
}
