package entry_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestDoCallsTheOperation: each request calls the one operation it
// names, with the library's input built from it (a plan: the operation
// it plans, as a dry run), and the outcome carries what came back.
func TestDoCallsTheOperation(t *testing.T) {
	t.Parallel()
	origin := entry.Origin{RequestedBy: "octocat via GitHub Actions", CI: history.CI{Provider: "github-actions", Actor: "octocat"}}
	base := func(op entry.Operation) entry.Request {
		return entry.Request{Operation: op, Environment: "prod", Description: "fix login", Origin: origin,
			Timeout: 10 * time.Minute, RollbackTimeout: 3 * time.Minute, NoWait: true, Rollback: true, Confirm: true}
	}
	with := func(r entry.Request, mod func(*entry.Request)) entry.Request { mod(&r); return r }
	req := deploy.Request{Environment: "prod", RequestedBy: origin.RequestedBy, Description: "fix login", CI: origin.CI,
		Timeout: 10 * time.Minute, RollbackTimeout: 3 * time.Minute, NoWait: true, Rollback: true, Confirm: true}
	dry := req
	dry.DryRun = true
	tests := []struct {
		name    string
		req     entry.Request
		ran     entry.Operation
		want    any
		outcome string // the Outcome field that carries the answer
	}{
		{"release-deploy", with(base(entry.ReleaseDeploy), func(r *entry.Request) { r.Label = "ref.3f2a9c1" }), entry.ReleaseDeploy,
			deploy.ReleaseDeployInput{Request: req, Label: "ref.3f2a9c1"}, "Result"},
		{"release-deploy, dry run", with(base(entry.ReleaseDeploy), func(r *entry.Request) { r.DryRun = true }), entry.ReleaseDeploy,
			deploy.ReleaseDeployInput{Request: dry}, "Result"},
		{"deploy", with(base(entry.Deploy), func(r *entry.Request) { r.Release = "01JD7Y" }), entry.Deploy,
			deploy.DeployInput{Request: req, Release: "01JD7Y"}, "Result"},
		{"deploy latest", with(base(entry.Deploy), func(r *entry.Request) { r.Release = "latest" }), entry.Deploy,
			deploy.DeployInput{Request: req}, "Result"},
		{"promote", with(base(entry.Promote), func(r *entry.Request) { r.FromEnvironment = "stage" }), entry.Promote,
			deploy.PromoteInput{Request: req, From: "stage"}, "Result"},
		{"rollback", base(entry.Rollback), entry.Rollback, deploy.RollbackInput{Request: req}, "Result"},
		{"plan of a release-deploy", with(base(entry.Plan), func(r *entry.Request) { r.Label = "latest" }), entry.ReleaseDeploy,
			deploy.ReleaseDeployInput{Request: dry, Label: "latest"}, "Result"},
		{"plan of a deploy", with(base(entry.Plan), func(r *entry.Request) { r.Release = "latest" }), entry.Deploy,
			deploy.DeployInput{Request: dry}, "Result"},
		{"plan of a promotion", with(base(entry.Plan), func(r *entry.Request) { r.FromEnvironment = "stage" }), entry.Promote,
			deploy.PromoteInput{Request: dry, From: "stage"}, "Result"},
		{"prepare", with(base(entry.Prepare), func(r *entry.Request) { r.Label = "ref.3f2a9c1" }), entry.Prepare,
			deploy.PrepareInput{Label: "ref.3f2a9c1", RequestedBy: origin.RequestedBy, Description: "fix login", CI: origin.CI}, "Release"},
		{"status of one environment", base(entry.Status), entry.Status, deploy.StatusInput{Environments: []string{"prod"}}, "Status"},
		{"status of several", entry.Request{Operation: entry.Status, Environments: []string{"stage", "prod"}}, entry.Status,
			deploy.StatusInput{Environments: []string{"stage", "prod"}}, "Status"},
		{"status of all", entry.Request{Operation: entry.Status}, entry.Status, deploy.StatusInput{}, "Status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := &deploy.Result{Project: "shop", Status: history.StatusSucceeded}
			rel := &history.Release{ID: "01JD7Y3R8XK2V6M4N9P0Q1R2S3"}
			rep := &deploy.StatusReport{Project: "shop"}
			fake := &entrytest.Deployer{Result: res, Release: rel, Report: rep, Err: deploy.ErrTimeout}
			out, err := entry.Do(context.Background(), fake, tt.req)
			if !errors.Is(err, deploy.ErrTimeout) {
				t.Errorf("error: got %v, want the operation's", err)
			}
			if calls := fake.Calls(); len(calls) != 1 || !reflect.DeepEqual(calls[0], tt.want) {
				t.Errorf("calls:\ngot  %#v\nwant %#v", calls, tt.want)
			}
			if out.Ran != tt.ran {
				t.Errorf("ran: got %s, want %s", out.Ran, tt.ran)
			}
			got := map[string]bool{"Result": out.Result == res, "Release": out.Release == rel, "Status": out.Status == rep}
			for field, set := range got {
				if set != (field == tt.outcome) {
					t.Errorf("outcome %s set: %v, want %v", field, set, field == tt.outcome)
				}
			}
		})
	}
}

func TestDoRefusesNonsense(t *testing.T) {
	t.Parallel()
	for name, req := range map[string]entry.Request{
		"unknown operation":            {Operation: "destroy", Environment: "prod"},
		"plan of deploy and promotion": {Operation: entry.Plan, Environment: "prod", Release: "01J", FromEnvironment: "stage"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fake := &entrytest.Deployer{}
			_, err := entry.Do(context.Background(), fake, req)
			if !errors.Is(err, deploy.ErrInvalidInput) {
				t.Errorf("error: got %v, want ErrInvalidInput", err)
			}
			if calls := fake.Calls(); len(calls) != 0 {
				t.Errorf("called %v, want nothing", calls)
			}
		})
	}
}

func TestOperationChanges(t *testing.T) {
	t.Parallel()
	want := map[entry.Operation]bool{entry.ReleaseDeploy: true, entry.Deploy: true, entry.Promote: true, entry.Rollback: true}
	for _, o := range entry.Operations() {
		if got := o.Changes(); got != want[o] {
			t.Errorf("%s.Changes() = %v, want %v", o, got, want[o])
		}
	}
}
