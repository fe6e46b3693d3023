// Package dora computes the four DORA figures of one environment from
// its deployment records: deployment frequency, lead time for changes,
// change failure rate and time to restore (docs/cli.md, buoy metrics,
// defines each as buoy measures it). Compute is a pure function of the
// records and of when their images were pushed: it calls nothing.
package dora

import (
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// Image names one image by the repository and digest a deployment
// record's tag moves give (history.TagMove.Repository and To).
type Image struct {
	Repository string
	Digest     string
}

// Input is what Compute measures.
type Input struct {
	// Deployments are the environment's deployment records, in any
	// order. Those started from Since to Until (both included) are measured; every one is
	// read to know what a deployment was rolled back or resumed by, and
	// what restored it.
	Deployments []*history.Deployment
	// PushedAt is when each image was pushed. A change whose moved
	// images are not all in it has no lead time (LeadTimeUnknown).
	PushedAt     map[Image]time.Time
	Since, Until time.Time
}

// Figures are the DORA figures of one environment from Since to Until.
type Figures struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Deployments counts the deployments started in the window.
	Deployments Counts `json:"deployments"`
	// DeploymentsPerDay is the changes that succeeded, a day
	// (Deployments.SucceededChanges over the window's days).
	DeploymentsPerDay float64 `json:"deploymentsPerDay"`
	// LeadTime is from the push of the newest image a change moved a
	// tag to, to the change's end, over the changes that succeeded and
	// moved a tag.
	LeadTime Spread `json:"leadTime"`
	// LeadTimeUnknown counts the changes that succeeded and moved a tag
	// to an image whose push time is unknown (deleted since, or the
	// registry was not asked).
	LeadTimeUnknown int `json:"leadTimeUnknown"`
	// ChangeFailureRate is ChangeFailures over Changes; nil when no
	// change finished.
	ChangeFailureRate *float64 `json:"changeFailureRate"`
	// TimeToRestore is from the start of each change that failed to the
	// end of the first deployment after it that succeeded, or to its own
	// end when it rolled itself back.
	TimeToRestore Spread `json:"timeToRestore"`
	// Unrestored counts the change failures no deployment has restored
	// since.
	Unrestored int `json:"unrestored"`
}

// Counts are the deployments started in the window, by how they ended,
// and the changes among them.
type Counts struct {
	Total      int `json:"total"`
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	RolledBack int `json:"rolledBack"`
	Cancelled  int `json:"cancelled"`
	InProgress int `json:"inProgress"`
	// Rollbacks are the `buoy rollback`s among them: they undo a change
	// and are not one.
	Rollbacks int `json:"rollbacks"`
	// Unchanged are those that failed before they moved a tag or updated
	// a service, and those a later run resumed (a run that died): not
	// changes either.
	Unchanged int `json:"unchanged"`
	// Changes are the others that finished: succeeded, failed or rolled
	// back.
	Changes int `json:"changes"`
	// SucceededChanges are the changes that succeeded (those rolled back
	// later included): what DeploymentsPerDay counts.
	SucceededChanges int `json:"succeededChanges"`
	// ChangeFailures are the changes that failed, were rolled back by
	// --rollback, or were rolled back later by a `buoy rollback`.
	ChangeFailures int `json:"changeFailures"`
}

// Spread sums up durations: how many, their median and 90th percentile
// (nearest rank).
type Spread struct {
	Count  int
	Median time.Duration
	P90    time.Duration
}

// MarshalJSON writes the durations in seconds; a Spread of none has
// only its count.
func (s Spread) MarshalJSON() ([]byte, error) {
	type seconds struct {
		Count  int      `json:"count"`
		Median *float64 `json:"medianSeconds,omitempty"`
		P90    *float64 `json:"p90Seconds,omitempty"`
	}
	out := seconds{Count: s.Count}
	if s.Count > 0 {
		m, p := s.Median.Seconds(), s.P90.Seconds()
		out.Median, out.P90 = &m, &p
	}
	return json.Marshal(out)
}

// Compute measures the deployments of in.
func Compute(in Input) Figures {
	f := Figures{Since: in.Since, Until: in.Until}
	rolledBack, resumed := map[string]bool{}, map[string]bool{}
	for _, d := range in.Deployments {
		if d.RollbackOf != "" {
			rolledBack[d.RollbackOf] = true
		}
		if d.Resumes != "" {
			resumed[d.Resumes] = true
		}
	}
	var leads, restores []time.Duration
	for _, d := range in.Deployments {
		if d.StartedAt.Before(in.Since) || d.StartedAt.After(in.Until) {
			continue
		}
		count(&f.Deployments, d)
		switch {
		case d.RollbackOf != "":
			f.Deployments.Rollbacks++
			continue
		case d.Status == history.StatusInProgress || d.Status == history.StatusCancelled:
			continue
		case resumed[d.ID] || (d.Status != history.StatusSucceeded && !changed(d)):
			f.Deployments.Unchanged++
			continue
		}
		f.Deployments.Changes++
		if d.Status == history.StatusSucceeded {
			f.Deployments.SucceededChanges++
			if lead, moved, known := leadTime(d, in.PushedAt); moved && known {
				leads = append(leads, lead)
			} else if moved {
				f.LeadTimeUnknown++
			}
		}
		if d.Status == history.StatusSucceeded && !rolledBack[d.ID] {
			continue
		}
		f.Deployments.ChangeFailures++
		if end, ok := restoredAt(d, in.Deployments); ok {
			restores = append(restores, end.Sub(d.StartedAt))
		} else {
			f.Unrestored++
		}
	}
	if days := in.Until.Sub(in.Since).Hours() / 24; days > 0 {
		f.DeploymentsPerDay = float64(f.Deployments.SucceededChanges) / days
	}
	if f.Deployments.Changes > 0 {
		rate := float64(f.Deployments.ChangeFailures) / float64(f.Deployments.Changes)
		f.ChangeFailureRate = &rate
	}
	f.LeadTime, f.TimeToRestore = spread(leads), spread(restores)
	return f
}

// count adds d to the counts by its status.
func count(c *Counts, d *history.Deployment) {
	c.Total++
	switch d.Status {
	case history.StatusSucceeded:
		c.Succeeded++
	case history.StatusFailed:
		c.Failed++
	case history.StatusRolledBack:
		c.RolledBack++
	case history.StatusCancelled:
		c.Cancelled++
	case history.StatusInProgress:
		c.InProgress++
	}
}

// changed reports whether d moved a tag (or wrote a parameter) or
// started an ECS deployment.
func changed(d *history.Deployment) bool {
	for _, tm := range d.Images {
		if tm.Moved {
			return true
		}
	}
	for _, s := range d.Services {
		if s.ECSDeployment != "" {
			return true
		}
	}
	return false
}

// leadTime is from the push of the newest image d moved a tag to, to
// d's end. moved says d moved one; known, that every one's push time is.
func leadTime(d *history.Deployment, pushedAt map[Image]time.Time) (lead time.Duration, moved, known bool) {
	var newest time.Time
	known = true
	for _, tm := range d.Images {
		if !tm.Moved {
			continue
		}
		moved = true
		at, ok := pushedAt[Image{Repository: tm.Repository, Digest: tm.To}]
		if !ok {
			known = false
			continue
		}
		if at.After(newest) {
			newest = at
		}
	}
	if !moved || !known {
		return 0, moved, false
	}
	return max(d.FinishedAt.Sub(newest), 0), true, true
}

// restoredAt is when the environment was restored after the change
// failure f: its own end when it rolled itself back, else the end of the
// first deployment started after it that succeeded.
func restoredAt(f *history.Deployment, all []*history.Deployment) (time.Time, bool) {
	if f.Status == history.StatusRolledBack {
		return f.FinishedAt, true
	}
	var first time.Time
	for _, d := range all {
		if d.Status == history.StatusSucceeded && d.StartedAt.After(f.StartedAt) && (first.IsZero() || d.FinishedAt.Before(first)) {
			first = d.FinishedAt
		}
	}
	return first, !first.IsZero()
}

// spread sums ds up.
func spread(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	median := s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Count: n, Median: median, P90: s[int(math.Ceil(0.9*float64(n)))-1]}
}
