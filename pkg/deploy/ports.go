package deploy

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// Registry is what a deployment needs from ECR: read what tags and digests
// point at, and point a floating tag at a digest. The default is built on
// pkg/registry; tests and importers may plug in their own with
// WithRegistry. Implementations are safe for concurrent use.
type Registry interface {
	// Resolve looks up each query (by tag, or by digest when Digest is
	// set) and returns one entry per query, in order: nil when the image
	// does not exist. Only a failed call is an error.
	Resolve(ctx context.Context, queries []ImageQuery) ([]*history.ImageRef, error)
	// Tag points tag at ref's digest (same manifest bytes and media type)
	// and reports whether it moved; false means it already pointed there.
	Tag(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag string) (moved bool, err error)
}

// fromTagger is a Registry that can point a tag knowing where it points
// now (from, read under the environment's lock; "" when it does not
// exist), without reading it again.
type fromTagger interface {
	TagFrom(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag, from string) (moved bool, err error)
}

// pushTimer is a Registry that can tell when images were pushed, by
// digest (an image it does not hold is left out): what `buoy metrics`
// measures lead time from. With a Registry that is not one, lead times
// are unknown.
type pushTimer interface {
	PushedAt(ctx context.Context, img *manifest.Image, digests []string) (map[string]time.Time, error)
}

// ImageQuery asks a Registry about one image by tag or by digest.
type ImageQuery struct {
	Image  *manifest.Image
	Tag    string
	Digest string
}

// Cluster is what a deployment needs from one ECS target of an
// environment. The default is built on pkg/rollout; tests and importers
// may plug in their own with WithCluster. Implementations are safe for
// concurrent use.
type Cluster interface {
	// Find returns the services, found by name or by their
	// deployment:service and deployment:env tags. Services that do not
	// exist make a *MissingError naming all of them.
	Find(ctx context.Context, in FindInput) ([]ServiceRef, error)
	// PinImages registers a revision of svc's task definition with the
	// containers using each repository pinned to its digest, copying
	// every other field, and returns its ARN.
	PinImages(ctx context.Context, svc ServiceRef, pins []history.ImageRef) (string, error)
	// Redeploy starts a new ECS deployment of svc: of taskDefinition when
	// set, else of its current one (force new deployment).
	Redeploy(ctx context.Context, svc ServiceRef, taskDefinition string) (Started, error)
	// Wait follows the started deployments until each succeeds, fails or
	// the timeout passes, and returns one outcome per deployment, in
	// order. It emits Progress events as services change state.
	Wait(ctx context.Context, started []Started, timeout time.Duration) ([]Outcome, error)
	// Tasks returns the image digests the running tasks of svc report,
	// by container image (as written in the task definition), reading
	// every running task. A running task's container that reports no
	// digest adds "" for its image: what it runs is unknown.
	Tasks(ctx context.Context, svc ServiceRef) (map[string][]string, error)
}

// Adopter is a Cluster that can follow an ECS deployment a dead run
// started instead of starting a new one. The default Cluster is one; with
// a Cluster that is not, a re-run redeploys every service it resumes.
type Adopter interface {
	// Adopt returns a's ECS deployment of svc as Started, for Wait,
	// without updating the service, when ECS still rolls it out or has
	// completed it: it is the service's PRIMARY deployment, IN_PROGRESS
	// or COMPLETED, and runs a.TaskDefinition when that is set.
	// Otherwise it returns a *NotAdoptableError saying why.
	Adopt(ctx context.Context, svc ServiceRef, a Adoption) (Started, error)
}

// ECSRollbacker is a Cluster that can have ECS roll a failed deployment
// back itself, as a rollback (Request.Rollback) prefers where ECS can:
// ECS then returns the service to its previous revision the way it does
// after its circuit breaker or an alarm, shifting traffic back for the
// BLUE_GREEN, LINEAR and CANARY strategies. The default Cluster is one.
type ECSRollbacker interface {
	// RollBackWithECS asks ECS to roll back st's deployment
	// (StopServiceDeployment with stopType ROLLBACK), or finds ECS doing
	// it already, and returns a Started that Wait follows until ECS says
	// the rollback is done. Where ECS cannot (the service deployments API
	// is denied or missing, the deployment is no longer in progress), it
	// returns an error wrapping ErrNoECSRollback, saying why: the service
	// is then rolled back in place.
	RollBackWithECS(ctx context.Context, st Started) (Started, error)
}

// ErrNoECSRollback says that ECS cannot roll a deployment back itself
// (ECSRollbacker).
var ErrNoECSRollback = rollout.ErrNoECSRollback

// Adoption names the ECS deployment a dead run started for a service, as
// its record says.
type Adoption struct {
	ECSDeployment string
	// TaskDefinition is what the dead run deployed; the ECS deployment
	// must run it.
	TaskDefinition string
	// PreviousTaskDefinition is what the service ran before.
	PreviousTaskDefinition string
	// From is the id of the dead run's deployment record.
	From string
}

// FindInput names the services to find in a Cluster.
type FindInput struct {
	// Names are ECS service names, or with ByTags, the values of the
	// deployment:service tag.
	Names       []string
	ByTags      bool
	Environment string // the deployment:env tag value, with ByTags
}

// ServiceRef is one ECS service as found.
type ServiceRef struct {
	// Name is the ECS service name; Key is what it was looked up by (the
	// name, or the deployment:service tag value).
	Name           string
	Key            string
	Cluster        string
	Region         string
	ARN            string
	TaskDefinition string
	// Containers maps each container name of the current task
	// definition to its image.
	Containers map[string]string
	Running    int
	Desired    int
	// Launch is how the service's tasks are launched, where the Cluster
	// says (the default one does); a pre_deploy task may run the same way.
	Launch *TaskLaunch
}

// Started is a service redeploy that ECS accepted.
type Started struct {
	Service                ServiceRef
	ECSDeployment          string
	TaskDefinition         string
	PreviousTaskDefinition string
	At                     time.Time
	// AdoptedFrom, when set, is the id of the deployment whose ECS
	// deployment this one adopted (Adopter) instead of starting one.
	AdoptedFrom string
	// Handle is the Cluster implementation's own handle on the
	// deployment, for Wait.
	Handle any
}

// Outcome is how a started deployment ended.
type Outcome struct {
	Started  Started
	Status   history.Status // succeeded, failed, or in-progress when timed out
	Reason   string
	TimedOut bool
	Duration time.Duration
}

// TaskRunner is a Cluster that runs one-off tasks: an environment's
// pre_deploy tasks (migrations). The default Cluster is one; with a
// Cluster that is not, a deployment to an environment with pre_deploy
// tasks fails before it changes anything.
type TaskRunner interface {
	// TaskDefinition describes a task definition given by ARN,
	// family:revision or family (its latest ACTIVE revision).
	TaskDefinition(ctx context.Context, ref string) (TaskDefinition, error)
	// PinTaskDefinition registers a revision of the task definition arn
	// in which the containers running each pin's repository run its
	// digest, copying every other field, and returns its ARN.
	PinTaskDefinition(ctx context.Context, arn string, pins []history.ImageRef) (string, error)
	// RunTask asks ECS to start one task and returns it without waiting.
	// When ECS answers that it started none, the error is ECS's error
	// (a smithy.APIError) or a *rollout.TaskNotStartedError, so that the
	// record can say no task runs.
	RunTask(ctx context.Context, in TaskInput) (StartedTask, error)
	// WaitTask follows a started task until it stops or timeout passes,
	// emitting TaskProgress events, and says how it ended. It returns an
	// error only when ctx ended the wait (the outcome is then cancelled).
	WaitTask(ctx context.Context, t StartedTask, timeout time.Duration) (TaskOutcome, error)
}

// TaskDefinition is a task definition revision as a TaskRunner reads it.
type TaskDefinition struct {
	ARN string
	// NetworkMode is awsvpc, bridge, host or none.
	NetworkMode string
	// Containers maps each container's name to its image.
	Containers map[string]string
}

// TaskLaunch says where and how a task runs: a launch type or a
// capacity provider strategy, a Fargate platform version, and an awsvpc
// network configuration (no Subnets: none).
type TaskLaunch struct {
	LaunchType        string
	CapacityProviders []manifest.CapacityProvider
	PlatformVersion   string
	Subnets           []string
	SecurityGroups    []string
	// AssignPublicIP is ENABLED or DISABLED; "" leaves ECS's default.
	AssignPublicIP string
}

// TaskInput is one one-off task to run.
type TaskInput struct {
	// ID names the task (a pre_deploy id) in events.
	ID             string
	Cluster        string
	TaskDefinition string
	Launch         TaskLaunch
	// Container is the container Command and Environment change.
	Container   string
	Command     []string
	Environment map[string]string
}

// StartedTask is a one-off task ECS started.
type StartedTask struct {
	ID             string // the pre_deploy id
	ARN            string
	Cluster        string
	TaskDefinition string
	At             time.Time
	// Handle is the TaskRunner's own handle on the task, for WaitTask.
	Handle any
}

// TaskOutcome is how a one-off task ended, or where it was when the wait
// for it ended.
type TaskOutcome struct {
	Task StartedTask
	// Status is succeeded when every essential container exited 0;
	// failed otherwise (TimedOut when the wait ended first, the task
	// left running); cancelled when the run stopped waiting.
	Status   history.Status
	TimedOut bool
	// Reason says in plain words how it ended, naming the containers,
	// their exit codes and ECS's stopped reason.
	Reason        string
	StopCode      string
	StoppedReason string
	Containers    []TaskContainer
	Duration      time.Duration
}

// TaskContainer is one container of an ended one-off task.
type TaskContainer struct {
	Name      string
	Essential bool
	// ExitCode is nil while it runs, and when it never started.
	ExitCode *int32
	Reason   string
	// Logs is the CloudWatch Logs stream it writes to (the awslogs
	// driver); nil when it has none.
	Logs *tasklogs.Stream
}

// TaskLogs reads the last lines of a CloudWatch Logs stream; the default
// is pkg/tasklogs. Implementations are safe for concurrent use.
type TaskLogs interface {
	Tail(ctx context.Context, s tasklogs.Stream, n int) ([]tasklogs.Line, error)
}

var _ TaskLogs = (*tasklogs.Reader)(nil)

// ClusterParams is what WithCluster's factory gets to build a Cluster.
type ClusterParams struct {
	Config       aws.Config
	Target       manifest.Target
	Sink         event.Sink
	Logger       *slog.Logger
	Clock        clock.Clock
	PollInterval time.Duration
	// Budget is the ECS request budget of the target's account and
	// Region, shared with the operation's other targets there. When nil,
	// NewECSCluster makes one of its own, capped by RequestRate and
	// RequestBurst (WithECSRequestBudget; 0: no cap).
	Budget       *rollout.Budget
	RequestRate  float64
	RequestBurst int
}

// RegistryParams is what WithRegistry's factory gets to build a Registry
// for the images of one registry (account, region, role).
type RegistryParams struct {
	Config   aws.Config
	Registry manifest.Registry
	Logger   *slog.Logger
}
