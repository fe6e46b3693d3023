// Package history records releases, deployments, what each environment
// runs now, and the per-environment deployment lock. Nothing written is
// ever lost or overwritten by a concurrent run: every write is conditional.
// DynamoDB backs it in production; an in-memory Store serves tests and
// importers, and both pass the same contract tests.
package history

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors a caller can branch on with errors.Is.
var (
	// ErrNotFound: no record has that id, prefix or key.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with that id already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict: the record changed since it was read (stale Version).
	ErrConflict = errors.New("changed by another run")
	// ErrAmbiguous: a release id prefix matches several releases.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrLocked: another live run holds the environment's lock. The error
	// is a *LockedError that names the holder.
	ErrLocked = errors.New("locked")
)

// Status is where a deployment stands.
type Status string

// The statuses of a deployment.
const (
	StatusInProgress Status = "in-progress"
	StatusSucceeded  Status = "succeeded"
	StatusFailed     Status = "failed"
	StatusRolledBack Status = "rolled-back"
	StatusCancelled  Status = "cancelled"
)

// CI says where a request came from.
type CI struct {
	Provider string `json:"provider,omitempty"` // "github-actions", "buildkite", "" for a terminal
	BuildURL string `json:"buildUrl,omitempty"`
	Commit   string `json:"commit,omitempty"`
	Actor    string `json:"actor,omitempty"`
}

// ImageRef pins one image of a release.
type ImageRef struct {
	// Repository is the full repository URI without tag or digest, e.g.
	// 123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/api.
	Repository string `json:"repository"`
	// Tag is the label the digest was taken from, e.g. "ref.3f2a...".
	Tag       string `json:"tag"`
	Digest    string `json:"digest"` // sha256:...
	MediaType string `json:"mediaType,omitempty"`
}

// Release is an immutable set of image digests, one per image of a
// project. A release never changes after it is created.
type Release struct {
	ID          string    `json:"id"` // sorts by creation time (ULID)
	Project     string    `json:"project"`
	CreatedAt   time.Time `json:"createdAt"` // UTC
	RequestedBy string    `json:"requestedBy"`
	Description string    `json:"description,omitempty"`
	// Label is what the release was taken from, e.g. "latest", or
	// "environment:stage" when taken from what an environment runs.
	Label  string              `json:"label"`
	CI     CI                  `json:"ci,omitzero"`
	Images map[string]ImageRef `json:"images"` // by image id
	// Origin is set on a release imported from another tool; its images
	// may lack digests (Digest ""), and such a release cannot be deployed.
	Origin *Origin `json:"origin,omitempty"`
}

// TagMove records what happened to one image's floating tag, or, for a
// project whose images are kept in SSM, to its SSM parameter.
type TagMove struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	From       string `json:"from,omitempty"` // digest before; empty when the tag did not exist
	To         string `json:"to"`             // digest of the release
	Moved      bool   `json:"moved"`          // the tag was moved by this deployment
	Done       bool   `json:"done"`           // the tag points at To (moved now or already)
	// Parameter, when set, is the SSM parameter written instead of a tag
	// (/{project}/images/{environment}/{image}); From and To are then the
	// digests it held and holds, and Moved says it was written.
	Parameter string `json:"parameter,omitempty"`
	// Moving: the run was moving the tag when it wrote the record, and
	// did not know the outcome; a run that died leaves it so. Not moved
	// is Moved, Done and Moving all false.
	Moving bool `json:"moving,omitempty"`
}

// ServiceOutcome records one ECS service's part in a deployment.
type ServiceOutcome struct {
	Service string `json:"service"` // ECS service name
	Cluster string `json:"cluster"`
	Region  string `json:"region,omitempty"`
	// ECSDeployment is the id of the ECS deployment we started, or
	// adopted (see AdoptedFrom).
	ECSDeployment string `json:"ecsDeployment,omitempty"`
	// AdoptedFrom, when set, is the id of the deployment (a run that
	// died while ECS rolled out) whose ECS deployment this one followed
	// instead of updating the service again.
	AdoptedFrom            string `json:"adoptedFrom,omitempty"`
	TaskDefinition         string `json:"taskDefinition"`
	PreviousTaskDefinition string `json:"previousTaskDefinition,omitempty"`
	Outcome                Status `json:"outcome"`
	Reason                 string `json:"reason,omitempty"`
}

// TaskRun records one pre_deploy task of a deployment (a migration): the
// task definition revision it ran (pinned to the release's images), the
// ECS task, and how it ended.
type TaskRun struct {
	// ID is the task's id in the manifest's pre_deploy list.
	ID      string `json:"id"`
	Cluster string `json:"cluster"`
	Region  string `json:"region,omitempty"`
	// TaskDefinition is the revision the task runs, or is to run.
	TaskDefinition string `json:"taskDefinition"`
	// Task is the ECS task's ARN once ECS started it.
	Task string `json:"task,omitempty"`
	// Outcome is in-progress until the task stopped and was judged.
	Outcome Status `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// StopCode and StoppedReason are ECS's, once the task stopped.
	StopCode      string          `json:"stopCode,omitempty"`
	StoppedReason string          `json:"stoppedReason,omitempty"`
	Containers    []TaskContainer `json:"containers,omitempty"`
}

// TaskContainer is how one container of a pre_deploy task ended.
type TaskContainer struct {
	Name      string `json:"name"`
	Essential bool   `json:"essential"`
	// ExitCode is nil when the container never exited (it never started).
	ExitCode *int32 `json:"exitCode,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Deployment is one application of a release to an environment. Each
// deployment is its own record, written before any side effect and
// updated as it proceeds.
type Deployment struct {
	ID          string `json:"id"` // sorts by start time (ULID)
	Project     string `json:"project"`
	Environment string `json:"environment"`
	ReleaseID   string `json:"releaseId"`
	// Resumes is the id of an earlier deployment this one completes (a
	// re-run after a crash), if any.
	Resumes string `json:"resumes,omitempty"`
	// RollbackOf is the id of the deployment this one rolls back, if any.
	RollbackOf  string             `json:"rollbackOf,omitempty"`
	Status      Status             `json:"status"`
	Reason      string             `json:"reason,omitempty"`
	StartedAt   time.Time          `json:"startedAt"`
	FinishedAt  time.Time          `json:"finishedAt,omitzero"` // zero while in progress
	RequestedBy string             `json:"requestedBy"`
	Description string             `json:"description,omitempty"`
	CI          CI                 `json:"ci,omitzero"`
	Images      map[string]TagMove `json:"images"` // by image id
	Services    []ServiceOutcome   `json:"services"`
	// Notifications are the notifications the deployment sent (the
	// manifest's notify targets), each with its outcome.
	Notifications []Notification `json:"notifications,omitempty"`
	// PreDeploy are the environment's pre_deploy tasks, run before any
	// tag moved or service was updated; empty when it has none.
	PreDeploy []TaskRun `json:"preDeploy,omitempty"`
	// Version is bumped by every write; an update with a stale Version
	// fails with ErrConflict.
	Version int64 `json:"version"`
	// Origin is set on a deployment imported from another tool.
	Origin *Origin `json:"origin,omitempty"`
}

// The outcomes of a Notification.
const (
	NotificationSent   = "sent"
	NotificationFailed = "failed"
)

// Notification records one notification of a deployment to one target.
// A notification that failed never failed the deployment.
type Notification struct {
	// Target names where it went, without its secret, e.g.
	// "slack (SLACK_WEBHOOK_URL)".
	Target string `json:"target"`
	// Event is start, success, failure or rollback.
	Event string `json:"event"`
	// Outcome is NotificationSent or NotificationFailed.
	Outcome string `json:"outcome"`
	// Error says why it failed.
	Error string `json:"error,omitempty"`
	// Attempts counts the requests made (retries included).
	Attempts int `json:"attempts"`
	// At is when the outcome was known (UTC).
	At time.Time `json:"at"`
}

// Current says what an environment runs now.
type Current struct {
	Project      string              `json:"project"`
	Environment  string              `json:"environment"`
	ReleaseID    string              `json:"releaseId"`
	DeploymentID string              `json:"deploymentId"`
	UpdatedAt    time.Time           `json:"updatedAt"`
	Images       map[string]ImageRef `json:"images"`
	Version      int64               `json:"version"`
}

// Lock is a lease on a project's environment held by one run.
//
// No store decides from a clock whether a lease has run out: clocks of
// different machines disagree. Instead every write of the lock gives it a
// new Token, and a run that wants a held lock watches it: once it has seen
// the same Token for a whole lease (TTL, plus a margin), on its own
// clock, the holder has stopped renewing and the run may take the lock
// over with TakeOverLock. The holder, for its part, counts its lease from
// the moment it sent its last successful renewal, so it stops acting
// before any watcher may take over, whatever the clocks say (see
// docs/history.md).
type Lock struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	// Owner identifies the run's hold of the lock (unique per
	// acquisition); only it can renew or release the lock.
	Owner       string `json:"owner"`
	RequestedBy string `json:"requestedBy"`
	BuildURL    string `json:"buildUrl,omitempty"`
	// AcquiredAt and ExpiresAt are the writer's clock's view, for people
	// (buoy status, a LockedError's message); no decision is taken on
	// them.
	AcquiredAt time.Time `json:"acquiredAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// Token changes at every write of the lock: acquire, renewal,
	// takeover. The store sets it.
	Token string `json:"token,omitempty"`
	// TTL is the lease the holder renews within; zero for a lock written
	// before buoy kept it (its watcher then assumes the longest lease).
	TTL time.Duration `json:"ttl,omitempty"`
	// Previous is set by TakeOverLock: the lock it replaced, saying whose
	// it was. It is not stored.
	Previous *Lock `json:"-"`
}

// Unlock records that someone freed an environment's lock by hand (buoy
// unlock): who, when, why, and whose lock it was.
type Unlock struct {
	ID          string    `json:"id"` // sorts by time (ULID)
	Project     string    `json:"project"`
	Environment string    `json:"environment"`
	At          time.Time `json:"at"` // UTC
	RequestedBy string    `json:"requestedBy"`
	CI          CI        `json:"ci,omitzero"`
	Reason      string    `json:"reason"`
	// Freed is the lock that was freed, as it was read before.
	Freed Lock `json:"freed"`
}

// LockedError is returned (wrapping ErrLocked) when a lock is held by
// another run. Held carries the lock's Token and TTL, for a caller that
// watches it (see Lock).
type LockedError struct {
	Held Lock
}

func (e *LockedError) Error() string {
	msg := "environment " + e.Held.Project + "/" + e.Held.Environment + " is locked by " + e.Held.RequestedBy
	// A requester in CI, "alice via Buildkite (<build URL>)", names its
	// build already.
	if e.Held.BuildURL != "" && !strings.Contains(e.Held.RequestedBy, "("+e.Held.BuildURL+")") {
		msg += " (" + e.Held.BuildURL + ")"
	}
	return msg + " until " + e.Held.ExpiresAt.UTC().Format(time.RFC3339)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Store keeps the history. Implementations are safe for concurrent use.
type Store interface {
	// PutRelease stores a new release; ErrExists if the id is taken.
	PutRelease(ctx context.Context, r *Release) error
	// GetRelease finds a release by id or unique id prefix.
	GetRelease(ctx context.Context, project, idOrPrefix string) (*Release, error)
	// LatestRelease returns the newest release of a project.
	LatestRelease(ctx context.Context, project string) (*Release, error)
	// ListReleases returns releases newest first, at most limit (0: all).
	ListReleases(ctx context.Context, project string, limit int) ([]*Release, error)

	// CreateDeployment stores a new deployment record (Version becomes 1).
	CreateDeployment(ctx context.Context, d *Deployment) error
	// UpdateDeployment replaces a deployment if its Version is unchanged
	// since it was read, and bumps d.Version; ErrConflict otherwise.
	UpdateDeployment(ctx context.Context, d *Deployment) error
	// GetDeployment finds a deployment by id.
	GetDeployment(ctx context.Context, project, id string) (*Deployment, error)
	// ListDeployments returns deployments newest first, at most limit (0:
	// all); environment "" means every environment.
	ListDeployments(ctx context.Context, project, environment string, limit int) ([]*Deployment, error)

	// GetCurrent says what an environment runs now; ErrNotFound if nothing
	// was ever deployed there.
	GetCurrent(ctx context.Context, project, environment string) (*Current, error)
	// ListCurrent returns the current record of every environment.
	ListCurrent(ctx context.Context, project string) ([]*Current, error)
	// SetCurrent writes an environment's current record, conditional on
	// its Version (0 for the first write); bumps c.Version.
	SetCurrent(ctx context.Context, c *Current) error

	// AcquireLock takes the environment's lock for ttl when it is free,
	// or renews it when l.Owner holds it already. A lock held by another
	// owner gives a *LockedError, however long ago it was renewed: time
	// alone never frees a lock (see TakeOverLock).
	AcquireLock(ctx context.Context, l Lock, ttl time.Duration) (*Lock, error)
	// TakeOverLock replaces stale, another run's lock as a *LockedError
	// showed it, by l for ttl, if the lock still carries stale's Owner
	// and Token; the returned Lock's Previous is stale. When the lock
	// changed since (renewed, or taken by a third run) it gives a
	// *LockedError naming it as it is now; when it was freed,
	// ErrNotFound.
	TakeOverLock(ctx context.Context, l Lock, ttl time.Duration, stale Lock) (*Lock, error)
	// RenewLock extends a held lock's lease to ttl and gives it a new
	// Token (the heartbeat); ErrConflict if the lock is no longer ours.
	RenewLock(ctx context.Context, l *Lock, ttl time.Duration) error
	// ReleaseLock frees a held lock; releasing a lock that is no longer
	// ours is not an error.
	ReleaseLock(ctx context.Context, l *Lock) error
	// GetLock returns the environment's lock; ErrNotFound when it is
	// free.
	GetLock(ctx context.Context, project, environment string) (*Lock, error)

	// BreakLock frees u.Freed, whoever holds it, if it is still that
	// lock (the same Owner: a renewal does not matter, a newer lock is
	// never freed), and stores u in the same atomic write, giving it an
	// id and time when they are unset. When the lock changed hands it
	// gives ErrConflict; when it is free already, ErrNotFound.
	BreakLock(ctx context.Context, u *Unlock) error
	// ListUnlocks returns the locks freed by hand, newest first, at most
	// limit (0: all); environment "" means every environment.
	ListUnlocks(ctx context.Context, project, environment string, limit int) ([]*Unlock, error)
}
