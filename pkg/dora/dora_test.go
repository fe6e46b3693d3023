package dora

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

var (
	since = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	until = since.AddDate(0, 0, 10) // ten days
)

const repo = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web"

// at is a time in the window: day d, hour h.
func at(d, h int) time.Time {
	return since.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
}

// dep is a deployment started at start, ended after a minute with
// status; moving, when set, is the digest it moved the tag to, else it
// updated a service only.
func dep(id string, start time.Time, status history.Status, moving string) *history.Deployment {
	d := &history.Deployment{ID: id, Environment: "prod", Status: status, StartedAt: start,
		Services: []history.ServiceOutcome{{Service: "web", ECSDeployment: "ecs-svc/" + id}}}
	if status != history.StatusInProgress {
		d.FinishedAt = start.Add(time.Minute)
	}
	if moving != "" {
		d.Images = map[string]history.TagMove{"web": {Repository: repo, Tag: "env.prod", To: moving, Moved: true, Done: true}}
	}
	return d
}

// nothing makes d a deployment that changed nothing.
func nothing(d *history.Deployment) *history.Deployment {
	d.Images, d.Services = nil, []history.ServiceOutcome{{Service: "web"}}
	return d
}

func rollbackOf(d *history.Deployment, of string) *history.Deployment { d.RollbackOf = of; return d }
func resumes(d *history.Deployment, of string) *history.Deployment    { d.Resumes = of; return d }

func rate(r float64) *float64 { return &r }

// TestCompute measures hand-built histories of one environment over ten
// days.
func TestCompute(t *testing.T) {
	t.Parallel()
	pushed := map[Image]time.Time{
		{repo, "sha256:a"}: at(0, 0), {repo, "sha256:b"}: at(1, 0), {repo, "sha256:c"}: at(2, 0), {repo, "sha256:d"}: at(3, 0),
	}
	for _, tc := range []struct {
		name string
		deps []*history.Deployment
		want Figures
	}{
		{name: "no deployment", want: Figures{}},
		{
			name: "three changes succeed",
			deps: []*history.Deployment{
				dep("1", at(0, 1), history.StatusSucceeded, "sha256:a"), // lead 1h1m
				dep("2", at(1, 3), history.StatusSucceeded, "sha256:b"), // lead 3h1m
				dep("3", at(2, 9), history.StatusSucceeded, "sha256:c"), // lead 9h1m
			},
			want: Figures{Deployments: Counts{Total: 3, Succeeded: 3, Changes: 3, SucceededChanges: 3}, DeploymentsPerDay: 0.3,
				LeadTime:          Spread{Count: 3, Median: 3*time.Hour + time.Minute, P90: 9*time.Hour + time.Minute},
				ChangeFailureRate: rate(0)},
		},
		{
			name: "a failure, then a fix",
			deps: []*history.Deployment{
				dep("1", at(0, 1), history.StatusFailed, "sha256:a"),
				dep("2", at(0, 3), history.StatusSucceeded, "sha256:b"), // lead: pushed after it started: 0
			},
			want: Figures{Deployments: Counts{Total: 2, Succeeded: 1, Failed: 1, Changes: 2, SucceededChanges: 1, ChangeFailures: 1}, DeploymentsPerDay: 0.1,
				LeadTime: Spread{Count: 1}, ChangeFailureRate: rate(0.5),
				TimeToRestore: Spread{Count: 1, Median: 2*time.Hour + time.Minute, P90: 2*time.Hour + time.Minute}},
		},
		{
			name: "--rollback rolls a failure back",
			deps: []*history.Deployment{
				dep("1", at(0, 1), history.StatusSucceeded, "sha256:a"),
				dep("2", at(1, 1), history.StatusRolledBack, "sha256:b"),
			},
			want: Figures{Deployments: Counts{Total: 2, Succeeded: 1, RolledBack: 1, Changes: 2, SucceededChanges: 1, ChangeFailures: 1}, DeploymentsPerDay: 0.1,
				LeadTime: Spread{Count: 1, Median: time.Hour + time.Minute, P90: time.Hour + time.Minute}, ChangeFailureRate: rate(0.5),
				TimeToRestore: Spread{Count: 1, Median: time.Minute, P90: time.Minute}},
		},
		{
			name: "buoy rollback undoes a change that succeeded",
			deps: []*history.Deployment{
				dep("1", at(0, 1), history.StatusSucceeded, "sha256:a"),
				dep("2", at(1, 1), history.StatusSucceeded, "sha256:b"),
				rollbackOf(dep("3", at(1, 5), history.StatusSucceeded, "sha256:a"), "2"),
			},
			want: Figures{Deployments: Counts{Total: 3, Succeeded: 3, Rollbacks: 1, Changes: 2, SucceededChanges: 2, ChangeFailures: 1}, DeploymentsPerDay: 0.2,
				LeadTime:          Spread{Count: 2, Median: time.Hour + time.Minute, P90: time.Hour + time.Minute},
				ChangeFailureRate: rate(0.5),
				TimeToRestore:     Spread{Count: 1, Median: 4*time.Hour + time.Minute, P90: 4*time.Hour + time.Minute}},
		},
		{
			name: "only the window counts, but a later rollback judges a change in it",
			deps: []*history.Deployment{
				dep("0", since.Add(-time.Hour), history.StatusFailed, "sha256:a"),
				dep("1", at(9, 20), history.StatusSucceeded, "sha256:d"),
				rollbackOf(dep("2", until.Add(time.Hour), history.StatusSucceeded, "sha256:c"), "1"),
			},
			want: Figures{Deployments: Counts{Total: 1, Succeeded: 1, Changes: 1, SucceededChanges: 1, ChangeFailures: 1}, DeploymentsPerDay: 0.1,
				LeadTime:          Spread{Count: 1, Median: 6*24*time.Hour + 20*time.Hour + time.Minute, P90: 6*24*time.Hour + 20*time.Hour + time.Minute},
				ChangeFailureRate: rate(1),
				TimeToRestore:     Spread{Count: 1, Median: 5*time.Hour + time.Minute, P90: 5*time.Hour + time.Minute}},
		},
		{
			name: "what changed nothing, or was resumed, is no change",
			deps: []*history.Deployment{
				nothing(dep("1", at(0, 1), history.StatusFailed, "")),
				dep("2", at(1, 1), history.StatusFailed, "sha256:a"),
				resumes(dep("3", at(1, 2), history.StatusSucceeded, "sha256:a"), "2"), // lead 26h1m
				dep("4", at(2, 0), history.StatusSucceeded, ""),                       // services only: a change, no lead time
			},
			want: Figures{Deployments: Counts{Total: 4, Succeeded: 2, Failed: 2, Unchanged: 2, Changes: 2, SucceededChanges: 2}, DeploymentsPerDay: 0.2,
				LeadTime: Spread{Count: 1, Median: 26*time.Hour + time.Minute, P90: 26*time.Hour + time.Minute}, ChangeFailureRate: rate(0)},
		},
		{
			name: "unfinished runs, unknown push times, unrestored failures",
			deps: []*history.Deployment{
				dep("1", at(0, 1), history.StatusSucceeded, "sha256:unknown"),
				dep("2", at(1, 1), history.StatusCancelled, "sha256:a"),
				dep("3", at(2, 1), history.StatusFailed, "sha256:b"),
				dep("4", at(9, 1), history.StatusInProgress, "sha256:c"),
			},
			want: Figures{Deployments: Counts{Total: 4, Succeeded: 1, Failed: 1, Cancelled: 1, InProgress: 1, Changes: 2, SucceededChanges: 1, ChangeFailures: 1},
				DeploymentsPerDay: 0.1, LeadTimeUnknown: 1, ChangeFailureRate: rate(0.5), Unrestored: 1},
		},
		{
			name: "medians of an even count",
			deps: []*history.Deployment{
				dep("1", at(0, 2), history.StatusSucceeded, "sha256:a"), // 2h1m
				dep("2", at(1, 4), history.StatusSucceeded, "sha256:b"), // 4h1m
			},
			want: Figures{Deployments: Counts{Total: 2, Succeeded: 2, Changes: 2, SucceededChanges: 2}, DeploymentsPerDay: 0.2,
				LeadTime: Spread{Count: 2, Median: 3*time.Hour + time.Minute, P90: 4*time.Hour + time.Minute}, ChangeFailureRate: rate(0)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Compute(Input{Deployments: tc.deps, PushedAt: pushed, Since: since, Until: until})
			tc.want.Since, tc.want.Until = since, until
			if !reflect.DeepEqual(got, tc.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tc.want)
				t.Errorf("Compute:\n got %s\nwant %s", g, w)
			}
		})
	}
}

// TestFiguresJSON: durations are seconds; a Spread of nothing has only
// its count; no change finished is a null rate.
func TestFiguresJSON(t *testing.T) {
	t.Parallel()
	f := Figures{Since: since, Until: until, LeadTime: Spread{Count: 2, Median: 90 * time.Second, P90: 2 * time.Hour}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"since":"2026-11-01T00:00:00Z","until":"2026-11-11T00:00:00Z","deployments":{"total":0,"succeeded":0,"failed":0,"rolledBack":0,"cancelled":0,"inProgress":0,"rollbacks":0,"unchanged":0,"changes":0,"succeededChanges":0,"changeFailures":0},"deploymentsPerDay":0,"leadTime":{"count":2,"medianSeconds":90,"p90Seconds":7200},"leadTimeUnknown":0,"changeFailureRate":null,"timeToRestore":{"count":0},"unrestored":0}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
}
