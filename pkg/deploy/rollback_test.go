package deploy

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// rec is a deployment record of release rel (whose one image has digest
// sha256:<rel> unless digest says otherwise) for the rollback table.
func rec(id, rel string, status history.Status, opts ...func(*history.Deployment)) *history.Deployment {
	d := &history.Deployment{ID: id, ReleaseID: rel, Status: status,
		Images: map[string]history.TagMove{"api": {To: "sha256:" + rel}}}
	for _, o := range opts {
		o(d)
	}
	return d
}

func rollsBack(id string) func(*history.Deployment) {
	return func(d *history.Deployment) { d.RollbackOf = id }
}

func resumes(id string) func(*history.Deployment) {
	return func(d *history.Deployment) { d.Resumes = id }
}

func digestOf(rel string) func(*history.Deployment) {
	return func(d *history.Deployment) { d.Images = map[string]history.TagMove{"api": {To: "sha256:" + rel}} }
}

func runs(rel, dep string) *history.Current {
	return &history.Current{ReleaseID: rel, DeploymentID: dep, Images: map[string]history.ImageRef{"api": {Digest: "sha256:" + rel}}}
}

const (
	ok         = history.StatusSucceeded
	failed     = history.StatusFailed
	rolledBack = history.StatusRolledBack
	cancelled  = history.StatusCancelled
	inProgress = history.StatusInProgress
)

// TestChooseRollback plays the rollback rule over many histories (newest
// deployment first) and says, for each, what a rollback deploys, which
// deployment it rolls back, or why there is nothing to roll back to.
func TestChooseRollback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		cur     *history.Current
		deps    []*history.Deployment
		release string // "" when there is nothing to roll back to
		of      string
		errHas  []string
	}{
		{name: "plain sequence: back to the one before",
			cur:     runs("C", "d3"),
			deps:    []*history.Deployment{rec("d3", "C", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "failed deploy without --rollback: the last good, which the environment may be part-way from",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d3", "C", failed), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "failed deploy with the automatic rollback: the last good again",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d3", "C", rolledBack), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "cancelled deploy: the last good",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d3", "C", cancelled), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "in-progress newest (a dead or live run): the last good",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d3", "C", inProgress), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "rollback then rollback again: further back, not to the release rolled back from",
			cur:     runs("B", "d4"),
			deps:    []*history.Deployment{rec("d4", "B", ok, rollsBack("d3")), rec("d3", "C", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "A", of: "d4"},
		{name: "rollback then rollback again, with nothing further back",
			cur:    runs("A", "d3"),
			deps:   []*history.Deployment{rec("d3", "A", ok, rollsBack("d2")), rec("d2", "B", ok), rec("d1", "A", ok)},
			errHas: []string{"no earlier release", "release B (deployment d2) was rolled back from by deployment d3", "buoy deploy --release"}},
		{name: "a third rollback: not to a release rolled back from, even by an earlier deployment of it",
			cur: runs("A", "d5"),
			deps: []*history.Deployment{rec("d5", "A", ok, rollsBack("d4")), rec("d4", "B", ok, rollsBack("d3")),
				rec("d3", "C", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			errHas: []string{"release B (deployment d2) was rolled back from by deployment d5", "release C (deployment d3) was rolled back from by deployment d4"}},
		{name: "a rollback killed half-way: on to where it was going",
			cur:     runs("C", "d3"),
			deps:    []*history.Deployment{rec("d4", "B", failed, rollsBack("d3")), rec("d3", "C", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d3"},
		{name: "a second rollback killed half-way: on to where it was going",
			cur: runs("B", "d4"),
			deps: []*history.Deployment{rec("d5", "A", inProgress, rollsBack("d4")), rec("d4", "B", ok, rollsBack("d3")),
				rec("d3", "C", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "A", of: "d4"},
		{name: "a failed deploy after a rollback: the last good, which was itself rolled back to",
			cur:     runs("B", "d4"),
			deps:    []*history.Deployment{rec("d5", "D", failed), rec("d4", "B", ok, rollsBack("d3")), rec("d3", "C", ok), rec("d2", "B", ok)},
			release: "B", of: "d5"},
		{name: "the last good was rolled back from by a rollback that failed: the one before it",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d4", "C", failed), rec("d3", "A", failed, rollsBack("d2")), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "A", of: "d2"},
		{name: "a release deployed again on purpose after it was rolled back from: it counts again",
			cur:     runs("C", "d5"),
			deps:    []*history.Deployment{rec("d5", "C", ok), rec("d4", "B", ok), rec("d3", "A", ok, rollsBack("d2")), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d5"},
		{name: "the same release deployed twice: the release before it",
			cur:     runs("B", "d3"),
			deps:    []*history.Deployment{rec("d3", "B", ok), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "A", of: "d3"},
		{name: "the same digests released twice (release-deploy of one label): the release before them",
			cur:     runs("B2", "d3"),
			deps:    []*history.Deployment{rec("d3", "B2", ok, digestOf("B")), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "A", of: "d3"},
		{name: "failed releases in between are skipped",
			cur:     runs("C", "d3"),
			deps:    []*history.Deployment{rec("d3", "C", ok), rec("d2", "B", failed), rec("d1", "A", ok)},
			release: "A", of: "d3"},
		{name: "a resumed deployment (a re-run that succeeded): the release before it",
			cur:     runs("B", "d3"),
			deps:    []*history.Deployment{rec("d3", "B", ok, resumes("d2")), rec("d2", "B", failed), rec("d1", "A", ok)},
			release: "A", of: "d3"},
		{name: "a resumed deployment that failed again: the last good",
			cur:     runs("B", "d2"),
			deps:    []*history.Deployment{rec("d4", "C", failed, resumes("d3")), rec("d3", "C", failed), rec("d2", "B", ok), rec("d1", "A", ok)},
			release: "B", of: "d4"},
		{name: "only one release ever",
			cur:    runs("A", "d1"),
			deps:   []*history.Deployment{rec("d1", "A", ok)},
			errHas: []string{"no earlier release", "before deployment d1 (release A) no other release ran there successfully"}},
		{name: "only one release ever, deployed twice",
			cur:    runs("A", "d2"),
			deps:   []*history.Deployment{rec("d2", "A", ok), rec("d1", "A", ok)},
			errHas: []string{"no earlier release"}},
		{name: "nothing ever succeeded",
			deps:   []*history.Deployment{rec("d2", "B", failed), rec("d1", "A", failed)},
			errHas: []string{"no deployment to it has succeeded", "the newest, d2, is failed"}},
		{name: "nothing ever deployed",
			errHas: []string{"nothing to roll back", "no deployment to it is recorded"}},
		{name: "an imported history whose current deployment is not among the records",
			cur:     runs("B", "imported"),
			deps:    []*history.Deployment{rec("d2", "C", failed, rollsBack("imported")), rec("d1", "A", ok)},
			release: "A", of: "imported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := chooseRollback("stage", tc.cur, tc.deps)
			if tc.release == "" {
				if !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("got release %q rolling back %q, error %v; want ErrInvalidInput", got.release, got.rollbackOf, err)
				}
				for _, want := range tc.errHas {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want release %s", err, tc.release)
			}
			if got.release != tc.release || got.rollbackOf != tc.of {
				t.Errorf("got release %s rolling back %s, want release %s rolling back %s (%s)", got.release, got.rollbackOf, tc.release, tc.of, got.why)
			}
			if !strings.Contains(got.why, "release "+tc.release) {
				t.Errorf("why %q does not name release %s", got.why, tc.release)
			}
		})
	}
}

// deployRelease deploys a new release (new digests for every image,
// numbered n) to stage, failing its rollout of api when fail is set.
func (f *fixture) deployRelease(n string, fail bool) *Result {
	f.t.Helper()
	for _, img := range f.project.Images {
		f.w.push(img.Repository, sha(n+n+n+n+img.ID), "latest")
	}
	if fail {
		f.w.failRollout["api"] = "tasks stopped: CannotPullContainerError"
	}
	res, err := f.releaseDeploy("stage")
	if fail != (err != nil) {
		f.t.Fatalf("release-deploy %s: got %v, want failed: %v", n, err, fail)
	}
	return res
}

func (f *fixture) rollback() (*Result, error) {
	return f.d.Rollback(context.Background(), RollbackInput{Request: Request{Environment: "stage", RequestedBy: "bob@laptop"}})
}

// TestRollbackAfterAFailedDeployRedeploysTheLastGood: after a deploy that
// failed without --rollback (its tags left at the bad release), a
// rollback goes back to the release that ran before it, the last good
// one, not the one before that.
func TestRollbackAfterAFailedDeployRedeploysTheLastGood(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployRelease("2", false)
	good := f.deployRelease("3", false)
	bad := f.deployRelease("4", true)
	res, err := f.rollback()
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if res.Release.ID != good.Release.ID || res.Deployment.RollbackOf != bad.Deployment.ID {
		t.Errorf("rollback: got release %s rolling back %s, want the last good %s rolling back the failed %s",
			res.Release.ID, res.Deployment.RollbackOf, good.Release.ID, bad.Deployment.ID)
	}
	if got, want := f.w.tagged("demo/api", "env.stage"), sha("3333api"); got != want {
		t.Errorf("demo/api:env.stage after the rollback: got %s, want %s", got, want)
	}
	said := false
	for _, e := range f.events.OfKind(event.Plan) {
		said = said || strings.Contains(e.Message, "rollback: the newest deployment to stage, "+bad.Deployment.ID+", is failed: back to release "+good.Release.ID)
	}
	if !said {
		t.Errorf("the progress does not say what the rollback chose and why: %v", f.events.OfKind(event.Plan))
	}
}

// TestSecondRollbackGoesFurtherBack: a rollback after a rollback deploys
// the release before the one rolled back to, not the release just rolled
// back from; with nothing further back it says why.
func TestSecondRollbackGoesFurtherBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.deployRelease("2", false)
	second := f.deployRelease("3", false)
	f.deployRelease("4", false)
	if res, err := f.rollback(); err != nil || res.Release.ID != second.Release.ID {
		t.Fatalf("first rollback: got %v; want release %s", err, second.Release.ID)
	}
	res, err := f.rollback()
	if err != nil {
		t.Fatalf("second rollback: %v", err)
	}
	if res.Release.ID != first.Release.ID {
		t.Errorf("second rollback: got release %s, want %s (the one before the release rolled back to)", res.Release.ID, first.Release.ID)
	}
	before := len(f.w.sideEffects())
	_, err = f.rollback()
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "was rolled back from") {
		t.Errorf("third rollback: got %v, want ErrInvalidInput saying what was rolled back from", err)
	}
	if got := f.w.sideEffects()[before:]; len(got) != 0 {
		t.Errorf("a refused rollback changed AWS: %q", got)
	}
}
