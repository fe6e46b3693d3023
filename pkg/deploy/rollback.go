package deploy

import (
	"fmt"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// rollbackChoice is what a rollback deploys: a release, the deployment it
// rolls back, and why, in plain words.
type rollbackChoice struct {
	release    string // release id
	rollbackOf string // deployment id
	why        string
}

// chooseRollback picks what a rollback of env deploys: "the release that
// ran before the current one, as recorded", never one that failed or was
// rolled back from. It reads only the records: the environment's current
// record (nil when nothing was ever recorded as running there) and its
// deployments, newest first. docs/cli.md states the same rule:
//
// Two deployments are of the same release when they have the same
// release id, or record the same digest for every image (release-deploy
// makes a release per run). A deployment was rolled back from when a
// rollback deployment newer than it, of any outcome (an unfinished
// rollback still says the release is not wanted), rolls back a
// deployment of the same release.
//
//  1. When the newest deployment did not succeed (it failed, was rolled
//     back by --rollback, was cancelled, or is in progress: the
//     environment may be part-way to a bad release) and the current
//     record's deployment was not rolled back from, the target is the
//     current record's release: the last good one. The rollback rolls
//     back the newest deployment.
//  2. Otherwise the rollback rolls back the deployment the environment
//     runs: the newest one when it succeeded, else (a rollback that did
//     not finish) the current record's. The target is the release of the
//     newest succeeded deployment older than it that is of another
//     release and was not rolled back from.
//
// A resumed deployment (a re-run, Resumes) counts by its own outcome; the
// dead run it resumed was closed as failed. When no release qualifies,
// the error (ErrInvalidInput) says why.
func chooseRollback(env string, cur *history.Current, deps []*history.Deployment) (rollbackChoice, error) {
	if len(deps) == 0 {
		return rollbackChoice{}, invalid("environment %s has nothing to roll back: no deployment to it is recorded", env)
	}
	newest := deps[0]
	if newest.Status != history.StatusSucceeded && cur == nil {
		return rollbackChoice{}, invalid("environment %s has no release to roll back to: no deployment to it has succeeded (the newest, %s, is %s); deploy a release that works with `buoy deploy --release <id>`",
			env, newest.ID, newest.Status)
	}
	running, older := newest, deps[1:]
	if newest.Status != history.StatusSucceeded {
		var newer int
		running, newer, older = findDeployment(deps, cur)
		if rolledBackFrom(deps, running, newer) == "" {
			return rollbackChoice{release: cur.ReleaseID, rollbackOf: newest.ID,
				why: fmt.Sprintf("the newest deployment to %s, %s, is %s: back to release %s, the last that ran there successfully (deployment %s)",
					env, newest.ID, newest.Status, cur.ReleaseID, cur.DeploymentID)}, nil
		}
	}

	// Rule 2: roll back what the environment runs.
	var skipped []string
	for i, dep := range older {
		if dep.Status != history.StatusSucceeded || deployedSameRelease(dep, running) {
			continue
		}
		if by := rolledBackFrom(deps, dep, len(deps)-len(older)+i); by != "" {
			skipped = append(skipped, fmt.Sprintf("release %s (deployment %s) was rolled back from by deployment %s", dep.ReleaseID, dep.ID, by))
			continue
		}
		return rollbackChoice{release: dep.ReleaseID, rollbackOf: running.ID,
			why: fmt.Sprintf("%s runs release %s (deployment %s): back to release %s, which ran before it (deployment %s)",
				env, running.ReleaseID, running.ID, dep.ReleaseID, dep.ID)}, nil
	}
	msg := fmt.Sprintf("environment %s has no earlier release to roll back to: before deployment %s (release %s) no other release ran there successfully",
		env, running.ID, running.ReleaseID)
	if len(skipped) > 0 {
		msg += " that was not rolled back from (" + strings.Join(skipped, "; ") + ")"
	}
	return rollbackChoice{}, invalid("%s; to deploy a release anyway: `buoy deploy --release <id>` (`buoy history` lists them)", msg)
}

// rolledBackFrom returns the id of a rollback among deps[:newer] (the
// deployments newer than dep) that rolls back dep or another deployment
// of dep's release, or "".
func rolledBackFrom(deps []*history.Deployment, dep *history.Deployment, newer int) string {
	for _, r := range deps[:max(newer, 0)] {
		if r.RollbackOf == "" {
			continue
		}
		if r.RollbackOf == dep.ID {
			return r.ID
		}
		for _, from := range deps {
			if from.ID == r.RollbackOf && deployedSameRelease(from, dep) {
				return r.ID
			}
		}
	}
	return ""
}

// findDeployment returns the deployment of the current record, how many
// deployments are newer and those older than it. When deps do not hold
// it (an imported history), it stands for the current record and every
// deployment counts as newer and as older.
func findDeployment(deps []*history.Deployment, cur *history.Current) (*history.Deployment, int, []*history.Deployment) {
	for i, dep := range deps {
		if dep.ID == cur.DeploymentID {
			return dep, i, deps[i+1:]
		}
	}
	stand := &history.Deployment{ID: cur.DeploymentID, ReleaseID: cur.ReleaseID, Status: history.StatusSucceeded,
		Images: map[string]history.TagMove{}}
	for id, ref := range cur.Images {
		stand.Images[id] = history.TagMove{To: ref.Digest}
	}
	return stand, len(deps), deps
}

// deployedSameRelease reports whether two deployments deployed the same release:
// the same id, or the same digest recorded for every image.
func deployedSameRelease(a, b *history.Deployment) bool {
	if a.ReleaseID == b.ReleaseID {
		return true
	}
	if len(a.Images) == 0 || len(a.Images) != len(b.Images) {
		return false
	}
	for id, tm := range a.Images {
		if other, ok := b.Images[id]; !ok || tm.To == "" || other.To != tm.To {
			return false
		}
	}
	return true
}
