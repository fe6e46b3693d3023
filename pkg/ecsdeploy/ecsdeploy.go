// Package ecsdeploy is buoy's classic single-service mode: the command
// lines of the ecs-deploy script and of its Python port (cluster, service
// or task definition, image or a tag for every container, desired count,
// minimum and maximum percent, timeout, revisions kept, rollback, a
// forced new deployment, a one-off task) as one call, Deploy, with no
// manifest and no history. It registers a new revision of the service's
// task definition whose containers of the image's repository run the
// image, updates the service and follows the rollout with pkg/rollout's
// fail-fast waiter; or, for a task definition alone, registers the
// revision and may run it as a one-off task and wait for it.
//
// Its errors are classed as pkg/deploy's (errors.Is with
// deploy.ErrInvalidInput, deploy.ErrDeploymentFailed, deploy.ErrTimeout),
// so that every entrypoint maps them to the same exit codes.
package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// Input is one classic ecs-deploy run: point the containers of one
// service's (or one task definition's) that use an image's repository at
// the image, in a new task definition revision, and roll it out.
type Input struct {
	Cluster string
	// Service is the ECS service; when empty, only a new revision of
	// TaskDefinition is registered (for scheduled tasks), and RunTask
	// may run it.
	Service string
	// TaskDefinition is the revision to base the new one on; with a
	// Service, it replaces the one the service runs.
	TaskDefinition string
	// UseLatestTaskDefinition bases the new revision on the newest
	// ACTIVE revision of the family instead of the one the service runs
	// (or TaskDefinition names); a rollback still goes back to what the
	// service ran.
	UseLatestTaskDefinition bool
	// Image is repository[:tag] or repository@digest; a missing tag
	// means "latest".
	Image string
	// Tag, when set, replaces Image's tag or digest: Image
	// repo@sha256:… with Tag v2 deploys repo:v2 (the classic -e VAR,
	// whose value is the tag).
	Tag string
	// TagOnly, when set, gives the image of every container (or of
	// TagOnlyContainers only) this tag in place of its tag or digest,
	// instead of deploying Image, which must then be empty.
	TagOnly           string
	TagOnlyContainers []string
	// ForceNewDeployment redeploys the service's current task definition
	// without registering a revision; Image, TagOnly, TaskDefinition and
	// UseLatestTaskDefinition must then be empty.
	ForceNewDeployment bool
	// DesiredCount (0 or more), MinimumHealthyPercent (0 to 100) and
	// MaximumPercent (100 or more) change the service when set.
	DesiredCount          *int32
	MinimumHealthyPercent *int32
	MaximumPercent        *int32
	// Timeout bounds the wait for ECS (the rollout, or the one-off
	// task); 0 means rollout.DefaultTimeout (30 minutes). A negative one
	// is refused.
	Timeout time.Duration
	NoWait  bool
	// SkipDeploymentsCheck ends the wait once the new deployment runs
	// all its tasks, without waiting for the old ones to drain.
	SkipDeploymentsCheck bool
	// Rollback redeploys the previous task definition if the rollout
	// fails.
	Rollback bool
	// MaxDefinitions, when above 0, deregisters all but that many of the
	// newest revisions of the family after a success, never one in use
	// (by a service or a running task of any cluster, or an EventBridge
	// rule); 0 keeps them all. A negative one is refused.
	MaxDefinitions int
	// RunTask, when set, runs the new revision as a one-off task in
	// Cluster; it needs a task definition and no Service.
	RunTask *RunTaskInput
}

// RunTaskInput says how to run the new revision as a one-off task.
type RunTaskInput struct {
	// LaunchType is EC2, FARGATE or EXTERNAL; "" uses the cluster's
	// default capacity provider strategy.
	LaunchType string
	// PlatformVersion is the Fargate platform version; "" means LATEST.
	PlatformVersion string
	// Network is the awsvpc network configuration, which task
	// definitions of the awsvpc network mode need.
	Network *NetworkConfiguration
	// Wait waits until the task stops (at most Input.Timeout): it
	// succeeds when every essential container exited 0. Without it,
	// Deploy returns once ECS started the task.
	Wait bool
	// LogLines is how many of the last log lines of each container that
	// logs with awslogs the result holds once the task stopped; 0 means
	// DefaultLogLines, a negative number none.
	LogLines int
}

// DefaultLogLines is how many log lines of each container of a one-off
// task the result holds unless RunTaskInput.LogLines says otherwise.
const DefaultLogLines = 20

// NetworkConfiguration is a one-off task's awsvpc configuration.
type NetworkConfiguration struct {
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is ENABLED or DISABLED; "" leaves ECS's default.
	AssignPublicIP string
}

// Result says what a single-service deployment did.
type Result struct {
	Service string `json:"service"`
	Cluster string `json:"cluster"`
	Image   string `json:"image"`
	// TagOnly is the tag every container's image was given (Input.TagOnly).
	TagOnly        string `json:"tagOnly,omitempty"`
	TaskDefinition string `json:"taskDefinition"`
	// BaseTaskDefinition is the revision the new one copies, when it is
	// not PreviousTaskDefinition (UseLatestTaskDefinition).
	BaseTaskDefinition     string         `json:"baseTaskDefinition,omitempty"`
	PreviousTaskDefinition string         `json:"previousTaskDefinition,omitempty"`
	ECSDeployment          string         `json:"ecsDeployment,omitempty"`
	Outcome                history.Status `json:"outcome"`
	Reason                 string         `json:"reason,omitempty"`
	Task                   *TaskResult    `json:"task,omitempty"`
	Deregistered           []string       `json:"deregistered,omitempty"`
	Stats                  map[string]int `json:"stats,omitempty"`
}

// Option changes how Deploy runs.
type Option func(*options)

type options struct {
	clock clock.Clock
	log   *slog.Logger
}

// WithClock sets the clock the waits sleep on (default: the system
// clock).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the debug logger (default: silent). It logs decisions
// and AWS calls' outcomes, never credentials.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Deploy runs the classic ecs-deploy flow against one service (or one
// task definition) without a manifest or history. sink receives progress
// (nil: dropped). Calls are retried as awsconfig.DefaultRetries says
// unless cfg has a retry policy of its own.
func Deploy(ctx context.Context, cfg aws.Config, sink event.Sink, in Input, opts ...Option) (*Result, error) {
	o := options{clock: clock.System{}, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	if sink == nil {
		sink = event.Discard{}
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	var image imageref.Reference
	if in.TagOnly == "" && !in.ForceNewDeployment {
		var err error
		if image, err = in.image(); err != nil {
			return nil, err
		}
	}
	counter := &awsconfig.Counter{}
	cfg = cfg.Copy()
	awsconfig.DefaultRetries(&cfg) // as Open does
	awsconfig.Watch(&cfg, func(r awsconfig.Retry) {
		sink.Emit(event.Event{Kind: event.Retry, Time: o.clock.Now().UTC(), Message: r.String()})
	})
	counter.Install(&cfg)
	d := &run{in: in, cfg: cfg, sink: sink, opts: o, image: image,
		r:   rollout.NewFromConfig(cfg, rollout.WithSink(sink), rollout.WithClock(o.clock), rollout.WithLogger(o.log)),
		res: &Result{Service: in.Service, Cluster: in.Cluster, TagOnly: in.TagOnly}}
	if in.TagOnly == "" && !in.ForceNewDeployment {
		d.res.Image = image.String()
	}
	defer func() { d.res.Stats = counter.Stats() }()
	err := d.deploy(ctx)
	return d.res, err
}

// run is one Deploy.
type run struct {
	in    Input
	cfg   aws.Config
	sink  event.Sink
	opts  options
	image imageref.Reference
	r     *rollout.Rollout
	res   *Result
}

func (d *run) emit(e event.Event) {
	e.Time = d.opts.clock.Now().UTC()
	d.sink.Emit(e)
}

func (d *run) deploy(ctx context.Context) error {
	in := d.in
	var svc rollout.Service
	if in.Service != "" {
		found, err := d.r.Find(ctx, rollout.FindInput{Cluster: in.Cluster, Names: []string{in.Service}})
		var nf *rollout.NotFoundError
		if errors.As(err, &nf) {
			return classed(deploy.ErrInvalidInput, err)
		}
		if err != nil {
			return fmt.Errorf("find service %s: %w", in.Service, err)
		}
		svc = found[0]
		d.res.PreviousTaskDefinition = svc.TaskDefinition
		d.opts.log.DebugContext(ctx, "service found", "service", svc.Name, "cluster", svc.Cluster, "taskDefinition", svc.TaskDefinition)
	}
	if in.ForceNewDeployment {
		d.res.TaskDefinition = svc.TaskDefinition
		return d.rollOut(ctx, svc, "")
	}
	base, err := d.base(ctx, svc)
	if err != nil {
		return err
	}
	registered, err := d.register(ctx, base)
	if err != nil {
		return err
	}
	d.res.TaskDefinition = registered
	if in.Service == "" {
		d.res.PreviousTaskDefinition = base
		return d.taskOnly(ctx, base)
	}
	return d.rollOut(ctx, svc, base)
}

// base returns the revision the new one copies: TaskDefinition, else
// the service's, or with UseLatestTaskDefinition the newest ACTIVE
// revision of its family.
func (d *run) base(ctx context.Context, svc rollout.Service) (string, error) {
	base := d.in.TaskDefinition
	if base == "" {
		base = svc.TaskDefinition
	}
	if !d.in.UseLatestTaskDefinition {
		return base, nil
	}
	family, err := d.family(ctx, base)
	if err != nil {
		return "", err
	}
	latest, err := d.r.TaskDefinition(ctx, family)
	if err != nil {
		return "", fmt.Errorf("read the latest revision of %s: %w", family, err)
	}
	arn := aws.ToString(latest.TaskDefinition.TaskDefinitionArn)
	if arn != d.res.PreviousTaskDefinition {
		d.res.BaseTaskDefinition = arn
	}
	d.opts.log.DebugContext(ctx, "the newest revision of the family is the base", "family", family, "base", arn, "running", svc.TaskDefinition)
	return arn, nil
}

// family returns the family of the task definition arn (read once).
func (d *run) family(ctx context.Context, arn string) (string, error) {
	td, err := d.r.TaskDefinition(ctx, arn)
	if err != nil {
		return "", fmt.Errorf("read task definition %s: %w", arn, err)
	}
	return aws.ToString(td.TaskDefinition.Family), nil
}

// register registers the new revision of base: the image in its
// repository's containers, or TagOnly in every (named) container.
func (d *run) register(ctx context.Context, base string) (string, error) {
	var registered string
	var err error
	if d.in.TagOnly != "" {
		registered, err = d.r.RetagImages(ctx, base, d.in.TagOnly, d.in.TagOnlyContainers)
	} else {
		registered, err = d.r.RegisterImages(ctx, base, []imageref.Reference{d.image})
	}
	var mismatch *rollout.ImageMismatchError
	var unknown *rollout.UnknownContainerError
	if errors.As(err, &mismatch) || errors.As(err, &unknown) {
		return "", classed(deploy.ErrInvalidInput, err)
	}
	if err != nil {
		return "", fmt.Errorf("register a new revision of %s: %w", base, err)
	}
	d.emit(event.Event{Kind: event.ServiceUpdated, Service: d.in.Service, Cluster: d.in.Cluster,
		From: base, To: registered, Message: "registered " + registered})
	return registered, nil
}

// rollOut updates the service to the new revision (or, with base "",
// forces a new deployment of what it runs), waits, cleans up after a
// success and rolls back after a failure when asked.
func (d *run) rollOut(ctx context.Context, svc rollout.Service, base string) error {
	in := d.in
	td := d.res.TaskDefinition
	if in.ForceNewDeployment {
		td = ""
	}
	h, err := d.r.Redeploy(ctx, svc, rollout.RedeployInput{TaskDefinition: td, DesiredCount: in.DesiredCount,
		MinimumHealthyPercent: in.MinimumHealthyPercent, MaximumPercent: in.MaximumPercent})
	if err != nil {
		return classed(deploy.ErrDeploymentFailed, fmt.Errorf("update service %s: %w", in.Service, err))
	}
	d.res.ECSDeployment = h.DeploymentID
	if in.NoWait {
		d.res.Outcome, d.res.Reason = history.StatusSucceeded, "updated; not waited for"
		return nil
	}
	results, werr := d.r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: in.Timeout, SkipDrain: in.SkipDeploymentsCheck})
	if len(results) == 1 {
		d.res.Reason = results[0].Diagnosis
	}
	if werr == nil {
		d.res.Outcome = history.StatusSucceeded
		if base != "" {
			d.cleanup(ctx, base, d.res.TaskDefinition, d.res.PreviousTaskDefinition)
		}
		return nil
	}
	class := deploy.ErrDeploymentFailed
	if len(results) == 1 && results[0].Outcome == rollout.TimedOut {
		class = deploy.ErrTimeout
	}
	d.res.Outcome = history.StatusFailed
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if in.Rollback {
		_, _, rerr := d.r.Rollback(ctx, []rollout.Handle{h}, in.Timeout)
		if rerr != nil {
			return fmt.Errorf("%w: %w; the rollback failed too: %w", class, werr, rerr)
		}
		d.res.Outcome = history.StatusRolledBack
	}
	return fmt.Errorf("%w: %w", class, werr)
}

// invalid wraps a message as a deploy.ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{deploy.ErrInvalidInput}, args...)...)
}

// classed wraps err, an error of a package below (rollout, imageref),
// with class, so that errors.Is(err, class) holds.
func classed(class, err error) error { return fmt.Errorf("%w: %w", class, err) }
