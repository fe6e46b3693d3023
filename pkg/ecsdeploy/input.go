package ecsdeploy

import (
	"errors"
	"slices"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

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

// check refuses, before any AWS call, what cannot be done, what would
// be ignored, and numbers that ECS would take to mean something else or
// refuse only after a revision was registered.
func (in Input) check() error {
	if err := in.checkWhat(); err != nil {
		return err
	}
	switch {
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

// checkWhat checks that the input says one thing to deploy, where.
func (in Input) checkWhat() error {
	switch {
	case in.Service == "" && in.TaskDefinition == "":
		return invalid("a service (or a task definition) is required")
	case in.Service != "" && in.Cluster == "":
		return invalid("a service needs its cluster")
	case in.ForceNewDeployment:
		return in.checkForced()
	case in.TagOnly != "":
		return in.checkTagOnly()
	case len(in.TagOnlyContainers) > 0:
		return invalid("containers to retag (%v) need the tag to give them", in.TagOnlyContainers)
	case in.Image == "":
		return invalid("an image is required (or a tag to give every container's image, or a forced new deployment of a service)")
	}
	return in.checkRunTask()
}

// checkForced checks a forced new deployment: of a service, as it runs.
func (in Input) checkForced() error {
	switch {
	case in.Service == "":
		return invalid("a forced new deployment redeploys a service: name it")
	case in.Image != "" || in.Tag != "" || in.TagOnly != "" || in.TaskDefinition != "" || in.UseLatestTaskDefinition || in.MaxDefinitions > 0:
		return invalid("a forced new deployment redeploys the task definition the service runs, as it is: it takes no image, tag, task definition, latest revision or revisions to keep (ecs-deploy ignores them); drop them, or drop the forced new deployment to deploy the image")
	case in.RunTask != nil:
		return invalid("a forced new deployment runs no one-off task")
	}
	return nil
}

// checkTagOnly checks a tag given to every (named) container's image.
func (in Input) checkTagOnly() error {
	switch {
	case in.Image != "":
		return invalid("give either an image or a tag for every container's image, not both")
	case in.Tag != "":
		return invalid("the tag for every container's image (%s) and the image's tag (%s) are both given: give one", in.TagOnly, in.Tag)
	case slices.Contains(in.TagOnlyContainers, ""):
		return invalid("a container to retag has an empty name")
	}
	if _, err := imageref.MustParse("image").WithTag(in.TagOnly); err != nil {
		var ie *imageref.Error
		if errors.As(err, &ie) {
			return invalid("the tag for every container's image: %s", ie.Reason)
		}
		return classed(deploy.ErrInvalidInput, err)
	}
	return in.checkRunTask()
}

// checkRunTask checks a one-off task: of a task definition, in a cluster.
func (in Input) checkRunTask() error {
	switch {
	case in.RunTask == nil:
		return nil
	case in.Service != "":
		return invalid("a one-off task runs the new revision of a task definition given without a service (ecs-deploy ignores it with a service): drop the service, or the one-off task")
	case in.Cluster == "":
		return invalid("a one-off task needs the cluster to run in")
	}
	return nil
}
