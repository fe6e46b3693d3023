package ghdeploy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

// TestCreateIsIdempotent: a step looks for the deployment an earlier try
// of it created (same commit, environment, task and payload.buoy) and
// reuses it; a POST is retried only after looking again, so a POST whose
// answer was lost never makes a second deployment.
func TestCreateIsIdempotent(t *testing.T) {
	t.Parallel()
	run := ghdeploy.Run{ID: "1234", Attempt: "1", Job: "deploy", Step: "buoy", Project: "shop"}
	stored := func(id int64, r ghdeploy.Run) storedDeployment {
		p, _ := json.Marshal(map[string]any{"buoy": r})
		return storedDeployment{ID: id, SHA: "3f2a9c", Ref: "3f2a9c", Environment: "prod", Task: "deploy", Payload: p}
	}
	attempt2, otherProject := run, run
	attempt2.Attempt, otherProject.Project = "2", "catalogue"
	const (
		look   = "GET /repos/acme/shop/deployments?environment=prod&per_page=100&sha=3f2a9c&task=deploy"
		create = "POST /repos/acme/shop/deployments"
	)
	tests := []struct {
		name     string
		before   []storedDeployment
		script   []answer
		run      ghdeploy.Run
		wantID   int64
		requests []string
		total    int // deployments GitHub holds afterwards
	}{
		{name: "first try: looks, then creates", run: run, wantID: 100, requests: []string{look, create}, total: 1},
		{name: "a re-run step reuses its deployment", before: []storedDeployment{stored(100, run)}, run: run,
			wantID: 100, requests: []string{look}, total: 1},
		{name: "another attempt of the run creates its own", before: []storedDeployment{stored(100, run)}, run: attempt2,
			wantID: 101, requests: []string{look, create}, total: 2},
		{name: "another project of the same step creates its own", before: []storedDeployment{stored(100, run)}, run: otherProject,
			wantID: 101, requests: []string{look, create}, total: 2},
		{name: "the POST's answer is lost: the retry finds it", run: run,
			script: []answer{{}, {lost: true}}, wantID: 100, requests: []string{look, create, look}, total: 1},
		{name: "the POST fails before creating: the retry looks, then creates", run: run,
			script: []answer{{}, {status: http.StatusBadGateway, body: `{"message":"Server Error"}`}},
			wantID: 100, requests: []string{look, create, look, create}, total: 1},
		{name: "no run named: no look-up", wantID: 100, requests: []string{create}, total: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := &deploymentsAPI{deployments: tt.before, script: tt.script}
			c := serve(t, g, clocktest.NewAuto(start))
			id, err := c.Create(context.Background(), ghdeploy.Deployment{Ref: "3f2a9c", Environment: "prod", Run: tt.run})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if id != tt.wantID {
				t.Errorf("id: got %d, want %d", id, tt.wantID)
			}
			requests, deployments := g.got()
			if !reflect.DeepEqual(requests, tt.requests) {
				t.Errorf("requests:\ngot  %q\nwant %q", requests, tt.requests)
			}
			if len(deployments) != tt.total {
				t.Errorf("deployments on GitHub: got %d, want %d: %+v", len(deployments), tt.total, deployments)
			}
		})
	}
}

// TestCreateMarksProtectedEnvironmentsAsProduction: production_environment
// says what the manifest's protected says; no deployment is transient.
func TestCreateMarksProtectedEnvironmentsAsProduction(t *testing.T) {
	t.Parallel()
	for _, production := range []bool{true, false} {
		g := &deploymentsAPI{}
		c := serve(t, g, clocktest.NewAuto(start))
		if _, err := c.Create(context.Background(), ghdeploy.Deployment{Ref: "3f2a9c", Environment: "prod", ProductionEnvironment: production,
			Run: ghdeploy.Run{ID: "1"}}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		_, deployments := g.got()
		if len(deployments) != 1 || deployments[0].Production != production || deployments[0].Transient {
			t.Errorf("production %v: got %+v, want one deployment with production_environment %v, transient_environment false",
				production, deployments, production)
		}
	}
}
