package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestMetricsMeasuresTheRecords: Metrics reads the environment's
// records and asks the registry when the images a change moved a tag to
// were pushed: one deployment that moves every tag and succeeds, then
// one that moves worker's and fails, give two changes, one failure not
// yet restored, and a lead time from the newest image's push (the
// failed change's is not measured).
func TestMetricsMeasuresTheRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	start := f.clock.Now()
	for i, img := range f.project.Images {
		f.w.pushedAt[img.Repository+"@"+newDigest(img.ID)] = start.Add(-time.Duration(3-i) * time.Hour) // worker, the newest: -1h
	}
	f.clock.Advance(time.Minute)
	if _, err := f.releaseDeploy("stage"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	f.w.push("demo/worker", sha("2222worker"), "latest") // a new build of worker, whose rollout fails
	f.w.failRollout["worker"] = "tasks stopped: CannotPullContainerError"
	if _, err := f.releaseDeploy("stage"); !errors.Is(err, ErrDeploymentFailed) {
		t.Fatalf("the second deployment: got %v, want it failed", err)
	}
	f.clock.Advance(time.Minute)
	rep, err := f.d.Metrics(context.Background(), MetricsInput{Environment: "stage", Since: start.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatalf("Metrics: %v", err)
	}
	c := rep.Deployments
	if rep.Project != "demo" || rep.Environment != "stage" || c.Total != 2 || c.Succeeded != 1 || c.Failed != 1 || c.Changes != 2 || c.ChangeFailures != 1 {
		t.Errorf("report: got %s/%s %+v, want demo/stage: 2 changes, 1 succeeded, 1 failed", rep.Project, rep.Environment, c)
	}
	if rep.ChangeFailureRate == nil || *rep.ChangeFailureRate != 0.5 || rep.Unrestored != 1 || rep.TimeToRestore.Count != 0 {
		t.Errorf("failures: got rate %v, %d unrestored, %d restored; want 0.5 and the failure unrestored", rep.ChangeFailureRate, rep.Unrestored, rep.TimeToRestore.Count)
	}
	if want := time.Hour + time.Minute; rep.LeadTime.Count != 1 || rep.LeadTime.Median != want || rep.LeadTimeUnknown != 0 {
		t.Errorf("lead time: got %+v (%d unknown), want one of %s: from worker's push, the newest", rep.LeadTime, rep.LeadTimeUnknown, want)
	}
	if !rep.Since.Equal(start.Add(-24*time.Hour)) || !rep.Until.Equal(f.clock.Now()) {
		t.Errorf("window: got %s to %s, want a day before the start to now", rep.Since, rep.Until)
	}
	asked := 0
	for _, q := range f.w.asked {
		if strings.HasPrefix(q, "pushed ") {
			asked++
		}
	}
	if asked != 3 {
		t.Errorf("push times asked of %d repositories, want 3 (one per image moved)", asked)
	}
}

// TestMetricsRefusesBadInput: an environment the manifest does not
// have, none, or a window that does not start in the past is bad input
// saying what to give.
func TestMetricsRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := f.clock.Now()
	for _, tc := range []struct {
		name string
		in   MetricsInput
		want string
	}{
		{"unknown environment", MetricsInput{Environment: "staging", Since: now.Add(-time.Hour)}, `project demo has no environment "staging"`},
		{"no environment", MetricsInput{Since: now.Add(-time.Hour)}, "metrics are of one environment: name it"},
		{"since now", MetricsInput{Environment: "stage", Since: now}, "that is not in the past"},
		{"since tomorrow", MetricsInput{Environment: "stage", Since: now.Add(24 * time.Hour)}, "that is not in the past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.d.Metrics(context.Background(), tc.in)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Metrics: got %v, want bad input saying %q", err, tc.want)
			}
		})
	}
}
