package deploy

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestKeepRevisions: under the task-definition strategy with
// keep_revisions, a deployment whose rollout succeeded asks each family
// it deployed to be cleaned up once, keeping what it deployed and what
// ran before, and says what was deregistered; one that failed, was not
// waited for, or uses the tag strategy or no keep_revisions asks for
// nothing. A cleanup that fails is a warning: the deployment succeeded.
func TestKeepRevisions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		strategy manifest.Strategy
		keep     int
		fail     bool
		noWait   bool
		errs     error
		want     []string // cleanups asked: family, keep, [deployed, replaced]
		events   []string // progress or warnings about them
	}{
		{name: "succeeded", strategy: manifest.StrategyTaskDefinition, keep: 3,
			want:   []string{"api 3 [api:N api:1]", "worker 3 [worker:N worker:1]"},
			events: []string{"deregistered old revision api:0 (keep_revisions: 3)"}},
		{name: "the cleanup fails", strategy: manifest.StrategyTaskDefinition, keep: 3, errs: errors.New("AccessDeniedException"),
			want:   []string{"api 3 [api:N api:1]", "worker 3 [worker:N worker:1]"},
			events: []string{"old revisions of api not all cleaned up (keep_revisions: 3): AccessDeniedException"}},
		{name: "the rollout failed", strategy: manifest.StrategyTaskDefinition, keep: 3, fail: true},
		{name: "not waited for", strategy: manifest.StrategyTaskDefinition, keep: 3, noWait: true},
		{name: "no keep_revisions", strategy: manifest.StrategyTaskDefinition},
		{name: "the tag strategy", strategy: manifest.StrategyTag, keep: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.project.Environments[0].Strategy, f.project.Environments[0].KeepRevisions = tc.strategy, tc.keep
			f.w.deregistered = map[string][]string{"api": {"arn:aws:ecs:eu-west-1:123456789012:task-definition/api:0"}}
			f.w.cleanupErr = tc.errs
			if tc.fail {
				f.w.failRollout["worker"] = "the circuit breaker stopped it"
			}
			res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.NoWait = tc.noWait })
			if wantStatus := map[bool]history.Status{false: history.StatusSucceeded, true: history.StatusFailed}[tc.fail]; res.Status != wantStatus {
				t.Fatalf("ReleaseDeploy: %s, %v; want %s", res.Status, err, wantStatus)
			}
			// The fake numbers revisions in the order services were
			// pinned, which is concurrent: N is the one deployed.
			var got []string
			for _, c := range f.w.cleanups {
				got = append(got, regexp.MustCompile(`:[0-9]+ `).ReplaceAllString(c, ":N "))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("cleanups: got %q, want %q", got, tc.want)
			}
			var said []string
			for _, e := range f.events.Events() {
				if (e.Kind == event.Progress || e.Kind == event.Warning) && strings.Contains(e.Message, "revision") {
					said = append(said, e.Message)
				}
			}
			for _, want := range tc.events {
				if !slices.ContainsFunc(said, func(s string) bool { return strings.Contains(s, want) }) {
					t.Errorf("events %q lack %q", said, want)
				}
			}
			if len(tc.events) == 0 && len(said) > 0 {
				t.Errorf("events about revisions: got %q, want none", said)
			}
		})
	}
}

// TestFamilyOf reads the family of an ARN or family:revision.
func TestFamilyOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-api:12": "shop-api",
		"shop-api:3": "shop-api",
		"shop-api":   "shop-api",
	} {
		if got := familyOf(in); got != want {
			t.Errorf("familyOf(%q): got %q, want %q", in, got, want)
		}
	}
}

// failingRules are EventBridge rules that cannot be read.
type failingRules struct{}

func (failingRules) TaskDefinitions(context.Context) ([]string, error) {
	return nil, errors.New("AccessDeniedException: not authorized to perform events:ListRules")
}

// TestCleanupRevisionsNeedsTheEventBridgeRules: the default Cluster
// deregisters nothing when it cannot read the EventBridge rules, which
// may run an old revision, and says why.
func TestCleanupRevisionsNeedsTheEventBridgeRules(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported)
	for rev := 1; rev <= 5; rev++ {
		srv.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: ecsfake.TaskDefinitionARN("api", rev)})
	}
	for _, rules := range []rulesReader{failingRules{}, nil} {
		c := &ecsCluster{r: rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0))), rules: rules}
		gone, err := c.CleanupRevisions(context.Background(), "api", 1, nil)
		if err == nil || !strings.Contains(err.Error(), "EventBridge rules") || len(gone) != 0 {
			t.Errorf("rules %T: got %v, %v; want nothing deregistered and an error naming the EventBridge rules", rules, gone, err)
		}
	}
	if n := srv.Calls("DeregisterTaskDefinition"); n != 0 {
		t.Errorf("DeregisterTaskDefinition calls: got %d, want 0", n)
	}
}
