// Package deploy is buoy's orchestration: it creates releases (Prepare),
// applies them to environments (Deploy, ReleaseDeploy, Promote, Rollback)
// and reports what runs where (Status, History). Every entrypoint (the CLI,
// the GitHub Action, the Buildkite plugin) and any Go program calls this
// package; it reports progress as events to a sink and returns a Result
// that carries everything needed for outputs.
//
// A deployment locks its environment, writes its record before any side
// effect, checks images and services, plans, moves tags and redeploys
// services concurrently, waits for ECS, optionally rolls back, closes its
// record with the outcome and releases the lock.
package deploy

import (
	"errors"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// Errors a caller branches on with errors.Is, e.g. to pick an exit code.
// Lock contention is history.ErrLocked (a *history.LockedError).
var (
	// ErrInvalidInput: a bad manifest, flag, unknown project, environment
	// or release, a missing image or service. Nothing was changed.
	ErrInvalidInput = errors.New("invalid input")
	// ErrDeploymentFailed: ECS did not roll the release out (failed,
	// rolled back by the circuit breaker, tasks stopped, ...).
	ErrDeploymentFailed = errors.New("deployment failed")
	// ErrTimeout: the rollout did not finish within the timeout.
	ErrTimeout = errors.New("timed out waiting for ECS")
	// ErrConfirmationRequired: the environment is protected; pass
	// Request.Confirm or promote from its source environment.
	ErrConfirmationRequired = errors.New("protected environment needs confirmation")
	// ErrLockLost: the run lost the environment's lock (another run took
	// it over, someone freed it with buoy unlock, or no renewal succeeded
	// within the lease) and stopped at once: it moved no tag, updated no
	// service and wrote nothing more but its own record, closed as failed
	// with the reason.
	ErrLockLost = errors.New("lost the environment lock")
)

// Request holds what every deploying operation takes.
type Request struct {
	// Environment is the id of the environment to deploy to.
	Environment string
	// RequestedBy names who asked (a person, or "actor via CI").
	RequestedBy string
	// Description is free text kept in the history.
	Description string
	// CI is where the request came from.
	CI history.CI
	// Timeout bounds the wait for ECS; 0 means DefaultTimeout (30
	// minutes). A negative one is refused with ErrInvalidInput.
	Timeout time.Duration
	// RollbackTimeout is the least time a rollback (with Rollback) has:
	// it gets what is left of Timeout, and at least this much; 0 means
	// DefaultRollbackTimeout. So a run with Rollback waits for ECS (its
	// rollout and its rollback, with the tag moves and updates between)
	// at most Timeout + RollbackTimeout in all.
	RollbackTimeout time.Duration
	// NoWait returns once the services are updated, without waiting.
	NoWait bool
	// Rollback rolls the environment back to what it ran before when the
	// rollout fails or times out, within RollbackTimeout.
	Rollback bool
	// DryRun plans and checks everything but changes nothing.
	DryRun bool
	// Confirm allows deploying to a protected environment.
	Confirm bool
}

// check refuses what would otherwise silently mean a default.
func (r Request) check() error {
	if r.Timeout < 0 {
		return invalid("timeout %s is negative: give how long to wait for ECS, or 0 for the default of %s", r.Timeout, DefaultTimeout)
	}
	return nil
}

// PrepareInput asks for a new release from a label.
type PrepareInput struct {
	// Label is the tag to take digests from; "" means "latest".
	Label       string
	RequestedBy string
	Description string
	CI          history.CI
}

// DeployInput applies an existing release.
type DeployInput struct {
	Request
	// Release is a release id or unique id prefix; "" means the latest.
	Release string
}

// ReleaseDeployInput prepares a release from a label and deploys it.
type ReleaseDeployInput struct {
	Request
	// Label is the tag to take digests from; "" means "latest".
	Label string
}

// PromoteInput deploys to Request.Environment exactly the release that
// From runs now.
type PromoteInput struct {
	Request
	// From is the source environment; "" means the target environment's
	// configured promotes_from.
	From string
}

// RollbackInput redeploys the release that ran in an environment before
// its current one, as recorded: never one that failed or was rolled back
// from (Deployer.Rollback states the rule).
type RollbackInput struct {
	Request
}

// StatusInput asks what environments run.
type StatusInput struct {
	// Environments limits the report; empty means every environment.
	Environments []string
}

// HistoryInput asks for past releases and deployments.
type HistoryInput struct {
	// Environment limits deployments to one environment; "" means all.
	Environment string
	// Limit caps each list; 0 means DefaultHistoryLimit (20). A negative
	// one is refused with ErrInvalidInput.
	Limit int
}

// Result is the outcome of a deploying operation (also of a dry run).
type Result struct {
	Project     string           `json:"project"`
	Environment string           `json:"environment"`
	Release     *history.Release `json:"release,omitempty"`
	// Deployment is the record as closed; nil for a dry run.
	Deployment *history.Deployment `json:"deployment,omitempty"`
	// Status is the deployment's outcome; "planned" for a dry run.
	Status   history.Status  `json:"status"`
	Images   []ImageResult   `json:"images"`
	Services []ServiceResult `json:"services"`
	// PreDeploy are the environment's pre_deploy tasks, run before any
	// tag moved; empty when it has none.
	PreDeploy []TaskResult `json:"preDeploy,omitempty"`
	// Started and Finished bound the operation.
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Stats counts AWS calls by "service.Operation", e.g. "ECS.UpdateService".
	Stats map[string]int `json:"stats,omitempty"`
}

// StatusPlanned is Result.Status for a dry run.
const StatusPlanned history.Status = "planned"

// ImageResult is what happened to one image's floating tag.
type ImageResult struct {
	Image      string `json:"image"`          // image id from the manifest
	Repository string `json:"repository"`     // repository URI
	Tag        string `json:"tag"`            // the floating tag
	From       string `json:"from,omitempty"` // digest before (empty if the tag did not exist)
	To         string `json:"to"`             // digest of the release
	Moved      bool   `json:"moved"`          // false: the tag already pointed at To
	// Parameter, for a project whose images are kept in SSM, is the SSM
	// parameter written instead of a tag; Moved then says it changed.
	Parameter string `json:"parameter,omitempty"`
}

// ServiceResult is what happened to one ECS service.
type ServiceResult struct {
	Service        string   `json:"service"` // ECS service name
	Cluster        string   `json:"cluster"`
	Region         string   `json:"region,omitempty"`
	Images         []string `json:"images"` // ids of the images that feed it
	TaskDefinition string   `json:"taskDefinition,omitempty"`
	ECSDeployment  string   `json:"ecsDeployment,omitempty"`
	// AdoptedFrom, when set, is the deployment (a run that died while ECS
	// rolled out) whose ECS deployment this one followed instead of
	// updating the service again.
	AdoptedFrom string         `json:"adoptedFrom,omitempty"`
	Outcome     history.Status `json:"outcome,omitempty"`
	// Reason explains a failure in plain words, e.g. "rolled back by the
	// circuit breaker: 3 tasks failed to start (CannotPullContainerError)".
	Reason string `json:"reason,omitempty"`
	// Duration is how long the service took (in JSON: nanoseconds).
	Duration time.Duration `json:"duration"`
}

// TaskResult is what happened to one pre_deploy task.
type TaskResult struct {
	// Task is the task's id in the manifest's pre_deploy.
	Task    string `json:"task"`
	Cluster string `json:"cluster"`
	Region  string `json:"region,omitempty"`
	// TaskDefinition is the revision run (or, planned, to run or pin).
	TaskDefinition string `json:"taskDefinition"`
	// TaskARN is the ECS task, once started.
	TaskARN string         `json:"taskArn,omitempty"`
	Outcome history.Status `json:"outcome,omitempty"`
	// Reason says how it ended: the essential containers' exit codes and
	// ECS's stopped reason; planned, what would run.
	Reason string `json:"reason,omitempty"`
	// Duration is how long the task took (in JSON: nanoseconds).
	Duration time.Duration `json:"duration"`
}

// StatusReport says what each environment runs, as recorded and as ECS
// really runs it.
type StatusReport struct {
	Project      string              `json:"project"`
	Environments []EnvironmentStatus `json:"environments"`
	Stats        map[string]int      `json:"stats,omitempty"`
}

// Agreement says whether the record, the tags and ECS agree.
type Agreement string

// The agreements of an environment and of each of its services.
const (
	// Agrees: the record, the tags and ECS agree, as far as ECS said.
	Agrees Agreement = "agrees"
	// Drifted: something differs (Drift says what).
	Drifted Agreement = "drifted"
	// Unknown: nothing buoy could see differs, but it cannot tell that
	// all agree: ECS did not say what a service runs (no running task
	// reported a digest for an image, or no task runs), or no release is
	// recorded to compare with (Unknown says what).
	Unknown Agreement = "unknown"
)

// EnvironmentStatus is one environment in a StatusReport.
type EnvironmentStatus struct {
	Environment string `json:"environment"`
	// State is Drifted when Drift is not empty, else Unknown when
	// Unknown is not empty, else Agrees.
	State Agreement `json:"state"`
	// Current is the recorded current release; nil if never deployed.
	Current  *history.Current `json:"current,omitempty"`
	Release  *history.Release `json:"release,omitempty"`
	Images   []ImageStatus    `json:"images"`
	Services []ServiceStatus  `json:"services"`
	// Drift lists differences between the record, the tags and ECS, in
	// plain words; empty when none was seen.
	Drift []string `json:"drift"`
	// Unknown lists, in plain words, what buoy could not compare because
	// ECS did not say; empty when ECS said everything.
	Unknown []string `json:"unknown"`
	// Imported is what weco-deploy last deployed here, when buoy has no
	// current record (WithWecoTable, or records imported into buoy's).
	Imported *ImportedStatus `json:"imported,omitempty"`
}

// ImageStatus compares an image's recorded digest with its floating tag.
type ImageStatus struct {
	Image      string `json:"image"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	Recorded   string `json:"recorded,omitempty"` // digest the current release pins
	Tagged     string `json:"tagged,omitempty"`   // digest the floating tag points at now
	// Parameter and Published, for a project whose images are kept in
	// SSM, are the environment's parameter and the value it holds now.
	Parameter string `json:"parameter,omitempty"`
	Published string `json:"published,omitempty"`
}

// ServiceStatus says what an ECS service really runs.
type ServiceStatus struct {
	Service        string `json:"service"`
	Cluster        string `json:"cluster"`
	Region         string `json:"region,omitempty"`
	TaskDefinition string `json:"taskDefinition"`
	Running        int    `json:"running"`
	Desired        int    `json:"desired"`
	// State says whether what its tasks run agrees with the record:
	// Drifted when a task runs another digest or not all desired tasks
	// run, else Unknown when some image's digest was not reported by
	// every running task (or no task runs, or nothing is recorded),
	// else Agrees.
	State Agreement `json:"state"`
	// Digests are the image digests its running tasks report, by image
	// id; empty for an image no task reported a digest for.
	Digests map[string][]string `json:"digests,omitempty"`
	// Unreported lists the images (ids) for which some running task
	// reported no digest.
	Unreported []string `json:"unreported,omitempty"`
}

// HistoryReport lists releases, deployments and the locks freed by hand
// (buoy unlock), newest first.
type HistoryReport struct {
	Project     string                `json:"project"`
	Releases    []*history.Release    `json:"releases"`
	Deployments []*history.Deployment `json:"deployments"`
	Unlocks     []*history.Unlock     `json:"unlocks"`
}
