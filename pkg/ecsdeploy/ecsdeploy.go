// Package ecsdeploy is buoy's classic single-service mode: the command
// line of the ecs-deploy script (cluster, service or task definition,
// image, desired count, minimum and maximum percent, timeout, a tag from
// an environment variable, revisions kept, rollback) as one call, Deploy,
// with no manifest and no history. It registers a new revision of the
// service's task definition whose containers of the image's repository run
// the image, updates the service and follows the rollout with pkg/rollout's
// fail-fast waiter.
//
// Its errors are classed as pkg/deploy's (errors.Is with
// deploy.ErrInvalidInput, deploy.ErrDeploymentFailed, deploy.ErrTimeout),
// so that every entrypoint maps them to the same exit codes.
package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
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
	// TaskDefinition is registered (for scheduled tasks).
	Service        string
	TaskDefinition string
	// Image is repository[:tag] or repository@digest; a missing tag
	// means "latest".
	Image string
	// Tag, when set, replaces Image's tag or digest: Image
	// repo@sha256:… with Tag v2 deploys repo:v2 (the classic -e VAR,
	// whose value is the tag).
	Tag string
	// DesiredCount (0 or more), MinimumHealthyPercent (0 to 100) and
	// MaximumPercent (100 or more) change the service when set.
	DesiredCount          *int32
	MinimumHealthyPercent *int32
	MaximumPercent        *int32
	// Timeout bounds the wait for ECS; 0 means rollout.DefaultTimeout (30
	// minutes). A negative one is refused.
	Timeout time.Duration
	NoWait  bool
	// Rollback redeploys the previous task definition if the rollout
	// fails.
	Rollback bool
	// MaxDefinitions, when above 0, deregisters all but that many of the
	// newest revisions of the family afterwards (never one in use); 0
	// keeps them all. A negative one is refused.
	MaxDefinitions int
}

// image returns the image to deploy: Image, with Tag in place of its tag
// or digest when set, and the tag latest when it names neither.
func (in Input) image() (imageref.Reference, error) {
	image, err := imageref.Parse(in.Image)
	if err != nil {
		return image, classed(deploy.ErrInvalidInput, err)
	}
	tag := in.Tag
	if tag == "" && image.Digest() == "" {
		tag = image.Tag() // latest when it names none: say so
	}
	if tag != "" {
		if image, err = image.WithTag(tag); err != nil {
			return image, classed(deploy.ErrInvalidInput, err)
		}
	}
	return image, nil
}

// check refuses numbers that ECS would take to mean something else, or
// refuse only after a revision was registered.
func (in Input) check() error {
	switch {
	case in.Image == "" || (in.Service == "" && in.TaskDefinition == ""):
		return invalid("an image and a service (or a task definition) are required")
	case in.Service != "" && in.Cluster == "":
		return invalid("a service needs its cluster")
	case in.DesiredCount != nil && *in.DesiredCount < 0:
		return invalid("desired count %d is negative: give the number of tasks the service should run, e.g. 2", *in.DesiredCount)
	case in.MinimumHealthyPercent != nil && (*in.MinimumHealthyPercent < 0 || *in.MinimumHealthyPercent > 100):
		return invalid("minimum healthy percent %d is not from 0 to 100: give a percentage of the desired count, e.g. 100 (ECS's default)", *in.MinimumHealthyPercent)
	case in.MaximumPercent != nil && *in.MaximumPercent < 100:
		return invalid("maximum percent %d is below 100: give a percentage of the desired count of 100 or more, e.g. 200 (ECS's default)", *in.MaximumPercent)
	case in.Timeout < 0:
		return invalid("timeout %s is negative: give how long to wait for ECS, or 0 for the default of %s", in.Timeout, rollout.DefaultTimeout)
	case in.MaxDefinitions < 0:
		return invalid("max definitions %d is negative: give how many revisions to keep, or 0 to keep them all", in.MaxDefinitions)
	}
	return nil
}

// Result says what a single-service deployment did.
type Result struct {
	Service                string         `json:"service"`
	Cluster                string         `json:"cluster"`
	Image                  string         `json:"image"`
	TaskDefinition         string         `json:"taskDefinition"`
	PreviousTaskDefinition string         `json:"previousTaskDefinition,omitempty"`
	ECSDeployment          string         `json:"ecsDeployment,omitempty"`
	Outcome                history.Status `json:"outcome"`
	Reason                 string         `json:"reason,omitempty"`
	Deregistered           []string       `json:"deregistered,omitempty"`
	Stats                  map[string]int `json:"stats,omitempty"`
}

// Deploy runs the classic ecs-deploy flow against one service without a
// manifest or history. sink receives progress (nil: dropped). Calls are
// retried as awsconfig.DefaultRetries says unless cfg has a retry policy
// of its own.
func Deploy(ctx context.Context, cfg aws.Config, sink event.Sink, in Input) (*Result, error) {
	if sink == nil {
		sink = event.Discard{}
	}
	if err := in.check(); err != nil {
		return nil, err
	}
	image, err := in.image()
	if err != nil {
		return nil, err
	}
	counter := &awsconfig.Counter{}
	cfg = cfg.Copy()
	awsconfig.DefaultRetries(&cfg) // as Open does
	awsconfig.Watch(&cfg, func(r awsconfig.Retry) {
		sink.Emit(event.Event{Kind: event.Retry, Time: time.Now().UTC(), Message: r.String()})
	})
	counter.Install(&cfg)
	r := rollout.NewFromConfig(cfg, rollout.WithSink(sink))
	res := &Result{Service: in.Service, Cluster: in.Cluster, Image: image.String()}
	defer func() { res.Stats = counter.Stats() }()

	var svc rollout.Service
	tdARN := in.TaskDefinition
	if in.Service != "" {
		found, err := r.Find(ctx, rollout.FindInput{Cluster: in.Cluster, Names: []string{in.Service}})
		var nf *rollout.NotFoundError
		if errors.As(err, &nf) {
			return res, classed(deploy.ErrInvalidInput, err)
		}
		if err != nil {
			return res, fmt.Errorf("find service %s: %w", in.Service, err)
		}
		svc = found[0]
		if tdARN == "" {
			tdARN = svc.TaskDefinition
		}
	}
	registered, err := r.RegisterImages(ctx, tdARN, []imageref.Reference{image})
	var mismatch *rollout.ImageMismatchError
	if errors.As(err, &mismatch) {
		return res, classed(deploy.ErrInvalidInput, err)
	}
	if err != nil {
		return res, fmt.Errorf("register a new revision of %s with %s: %w", tdARN, image, err)
	}
	res.PreviousTaskDefinition = tdARN
	res.TaskDefinition = registered
	sink.Emit(event.Event{Kind: event.ServiceUpdated, Time: time.Now().UTC(), Service: in.Service, Cluster: in.Cluster,
		From: tdARN, To: res.TaskDefinition, Message: "registered " + res.TaskDefinition})
	if in.Service == "" {
		res.Outcome = history.StatusSucceeded
		return res, nil
	}

	h, err := r.Redeploy(ctx, svc, rollout.RedeployInput{TaskDefinition: res.TaskDefinition, DesiredCount: in.DesiredCount,
		MinimumHealthyPercent: in.MinimumHealthyPercent, MaximumPercent: in.MaximumPercent})
	if err != nil {
		return res, classed(deploy.ErrDeploymentFailed, fmt.Errorf("update service %s: %w", in.Service, err))
	}
	res.ECSDeployment = h.DeploymentID
	if in.NoWait {
		res.Outcome, res.Reason = history.StatusSucceeded, "updated; not waited for"
		return res, nil
	}
	results, werr := r.Wait(ctx, rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: in.Timeout})
	if werr == nil {
		res.Outcome = history.StatusSucceeded
		if in.MaxDefinitions > 0 {
			// The new revision's family is its base's, read (once) to
			// register it.
			base, err := r.TaskDefinition(ctx, tdARN)
			if err != nil {
				return res, fmt.Errorf("read task definition %s: %w", tdARN, err)
			}
			family := aws.ToString(base.TaskDefinition.Family)
			res.Deregistered, err = r.Cleanup(ctx, rollout.CleanupInput{Family: family,
				Keep: in.MaxDefinitions, InUse: []string{res.TaskDefinition, res.PreviousTaskDefinition}})
			if err != nil {
				sink.Emit(event.Event{Kind: event.Warning, Time: time.Now().UTC(), Message: "clean up old revisions: " + err.Error()})
			}
		}
		return res, nil
	}
	class := deploy.ErrDeploymentFailed
	if len(results) == 1 {
		res.Reason = results[0].Diagnosis
		if results[0].Outcome == rollout.TimedOut {
			class = deploy.ErrTimeout
		}
	}
	res.Outcome = history.StatusFailed
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if in.Rollback {
		_, _, rerr := r.Rollback(ctx, []rollout.Handle{h}, in.Timeout)
		if rerr != nil {
			return res, fmt.Errorf("%w: %w; the rollback failed too: %w", class, werr, rerr)
		}
		res.Outcome = history.StatusRolledBack
	}
	return res, fmt.Errorf("%w: %w", class, werr)
}

// invalid wraps a message as a deploy.ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{deploy.ErrInvalidInput}, args...)...)
}

// classed wraps err, an error of a package below (rollout, imageref),
// with class, so that errors.Is(err, class) holds.
func classed(class, err error) error { return fmt.Errorf("%w: %w", class, err) }
