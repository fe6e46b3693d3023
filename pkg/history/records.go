package history

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalid says a record or argument is malformed (an empty project, a '#'
// in an id, a lock without owner...). The message says which.
var ErrInvalid = errors.New("invalid")

// AmbiguousError is returned (wrapping ErrAmbiguous) when a release id
// prefix matches several releases.
type AmbiguousError struct {
	Prefix string
	// Candidates are ids that match, newest first (perhaps not all).
	Candidates []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("release id prefix %q is ambiguous: it matches %s; give more characters",
		e.Prefix, strings.Join(e.Candidates, ", "))
}

// Unwrap makes errors.Is(err, ErrAmbiguous) true.
func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// candidateLimit caps how many ids an AmbiguousError lists.
const candidateLimit = 10

// checkKey rejects the key parts that would break the key design: empty
// values and '#', the separator.
func checkKey(what, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty: %w", what, ErrInvalid)
	}
	if strings.Contains(v, "#") {
		return fmt.Errorf("%s %q contains '#': %w", what, v, ErrInvalid)
	}
	return nil
}

// prepareRelease validates r and fills its ID and CreatedAt when unset.
func prepareRelease(r *Release, ids *idSource) error {
	if err := checkKey("release project", r.Project); err != nil {
		return err
	}
	if r.ID == "" {
		id, t, err := ids.New()
		if err != nil {
			return fmt.Errorf("make release id: %w", err)
		}
		r.ID = id
		if r.CreatedAt.IsZero() {
			r.CreatedAt = t
		}
	}
	if err := checkKey("release id", r.ID); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = ids.now()
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return nil
}

// prepareDeployment validates d and fills its ID and StartedAt when unset.
func prepareDeployment(d *Deployment, ids *idSource) error {
	if err := checkKey("deployment project", d.Project); err != nil {
		return err
	}
	if err := checkKey("deployment environment", d.Environment); err != nil {
		return err
	}
	if d.ID == "" {
		id, t, err := ids.New()
		if err != nil {
			return fmt.Errorf("make deployment id: %w", err)
		}
		d.ID = id
		if d.StartedAt.IsZero() {
			d.StartedAt = t
		}
	}
	if err := checkKey("deployment id", d.ID); err != nil {
		return err
	}
	if d.StartedAt.IsZero() {
		d.StartedAt = ids.now()
	}
	if d.Status == "" {
		d.Status = StatusInProgress
	}
	normaliseDeploymentTimes(d)
	return nil
}

func normaliseDeploymentTimes(d *Deployment) {
	d.StartedAt = d.StartedAt.UTC()
	if !d.FinishedAt.IsZero() {
		d.FinishedAt = d.FinishedAt.UTC()
	}
	for i := range d.Notifications {
		d.Notifications[i].At = d.Notifications[i].At.UTC()
	}
}

func checkCurrent(c *Current) error {
	if err := checkKey("current project", c.Project); err != nil {
		return err
	}
	return checkKey("current environment", c.Environment)
}

func checkLock(l *Lock, ttl time.Duration) error {
	if err := checkKey("lock project", l.Project); err != nil {
		return err
	}
	if err := checkKey("lock environment", l.Environment); err != nil {
		return err
	}
	if l.Owner == "" {
		return fmt.Errorf("lock owner is empty (use a value unique to the run): %w", ErrInvalid)
	}
	if ttl <= 0 {
		return fmt.Errorf("lock lease %v is not positive: %w", ttl, ErrInvalid)
	}
	return nil
}

// checkTakeover checks a takeover of stale by l.
func checkTakeover(l *Lock, ttl time.Duration, stale *Lock) error {
	if err := checkLock(l, ttl); err != nil {
		return err
	}
	switch {
	case stale.Project != l.Project || stale.Environment != l.Environment:
		return fmt.Errorf("the lock to take over is of %s/%s, not %s/%s: %w", stale.Project, stale.Environment, l.Project, l.Environment, ErrInvalid)
	case stale.Owner == "" || stale.Token == "":
		return fmt.Errorf("the lock to take over has no owner or token (pass the lock a LockedError showed): %w", ErrInvalid)
	case stale.Owner == l.Owner:
		return fmt.Errorf("lock owner %s takes over its own lock (renew it instead): %w", l.Owner, ErrInvalid)
	}
	return nil
}

// lockedBy makes the error for a lock held by someone else.
func lockedBy(held Lock) error {
	return &LockedError{Held: held}
}

// prepareUnlock validates u and fills its ID and At when unset.
func prepareUnlock(u *Unlock, ids *idSource) error {
	if err := checkKey("unlock project", u.Project); err != nil {
		return err
	}
	if err := checkKey("unlock environment", u.Environment); err != nil {
		return err
	}
	if u.Freed.Project != u.Project || u.Freed.Environment != u.Environment {
		return fmt.Errorf("the lock to free is of %s/%s, not %s/%s: %w", u.Freed.Project, u.Freed.Environment, u.Project, u.Environment, ErrInvalid)
	}
	if u.Freed.Owner == "" {
		return fmt.Errorf("the lock to free has no owner (read it with GetLock): %w", ErrInvalid)
	}
	if u.ID == "" {
		id, t, err := ids.New()
		if err != nil {
			return fmt.Errorf("make unlock id: %w", err)
		}
		u.ID = id
		if u.At.IsZero() {
			u.At = t
		}
	}
	if err := checkKey("unlock id", u.ID); err != nil {
		return err
	}
	if u.At.IsZero() {
		u.At = ids.now()
	}
	u.At = u.At.UTC()
	return nil
}

// newToken returns a lock's next Token.
func newToken() string { return rand.Text() }
