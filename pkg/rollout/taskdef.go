package rollout

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/imageref"
)

// readOnlyFields are the fields of types.TaskDefinition that ECS sets and
// RegisterTaskDefinition does not take. Every other field is copied; a
// field that is neither is an error, so that a newer SDK can never make
// buoy drop part of a task definition silently.
var readOnlyFields = []string{
	"Compatibilities", "DeleteRequestedAt", "DeregisteredAt", "RegisteredAt", "RegisteredBy",
	"RequiresAttributes", "Revision", "Status", "TaskDefinitionArn",
}

// registerInput builds the RegisterTaskDefinition request that recreates
// td with its tags: every field is copied by name through reflection.
// It fails when td has a field the request cannot carry.
func registerInput(td *types.TaskDefinition, tags []types.Tag) (*ecs.RegisterTaskDefinitionInput, error) {
	in := &ecs.RegisterTaskDefinitionInput{Tags: tags}
	src := reflect.ValueOf(td).Elem()
	dst := reflect.ValueOf(in).Elem()
	var unknown []string
	for i := range src.NumField() {
		f := src.Type().Field(i)
		if !f.IsExported() || slices.Contains(readOnlyFields, f.Name) {
			continue
		}
		d := dst.FieldByName(f.Name)
		if !d.IsValid() || d.Type() != f.Type {
			unknown = append(unknown, f.Name)
			continue
		}
		d.Set(src.Field(i))
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("task definition %s has fields buoy cannot copy (%s): update buoy, or use the tag strategy",
			aws.ToString(td.TaskDefinitionArn), strings.Join(unknown, ", "))
	}
	// Containers are copied so that pinning never changes the cached original.
	in.ContainerDefinitions = slices.Clone(td.ContainerDefinitions)
	return in, nil
}

// RegisterImages registers a new revision of the task definition arn in
// which the containers that run an image of each image's repository run
// that image instead (repo@sha256:… pins them by digest), with every other
// field, tags included, as it was. It returns the new revision's ARN. It
// fails, registering nothing, with an *ImageMismatchError when no
// container runs an image of an image's repository.
func (r *Rollout) RegisterImages(ctx context.Context, arn string, images []imageref.Reference) (string, error) {
	cur, err := r.TaskDefinition(ctx, arn)
	if err != nil {
		return "", err
	}
	in, err := registerInput(cur.TaskDefinition, cur.Tags)
	if err != nil {
		return "", err
	}
	for _, img := range images {
		n := 0
		for i, c := range in.ContainerDefinitions {
			if runs, err := imageref.Parse(aws.ToString(c.Image)); err == nil && imageref.SameRepository(runs, img) {
				in.ContainerDefinitions[i].Image = aws.String(img.String())
				n++
			}
		}
		if n == 0 {
			return "", &ImageMismatchError{TaskDefinition: arn, Want: img.String(), Images: containerImages(cur.TaskDefinition)}
		}
	}
	return r.register(ctx, arn, in)
}

// RetagImages registers a new revision of the task definition arn in
// which the image of every container, or of the named containers only,
// carries tag in place of its tag or digest (repo:old and repo@sha256:…
// both become repo:tag), with every other field, tags included, as it
// was: the classic ecs-deploy's --tag-only. It returns the new
// revision's ARN. A named container the task definition does not have
// is an *UnknownContainerError, and an image that is not an image
// reference an error naming its container; either way nothing is
// registered.
func (r *Rollout) RetagImages(ctx context.Context, arn, tag string, containers []string) (string, error) {
	cur, err := r.TaskDefinition(ctx, arn)
	if err != nil {
		return "", err
	}
	in, err := registerInput(cur.TaskDefinition, cur.Tags)
	if err != nil {
		return "", err
	}
	images := containerImages(cur.TaskDefinition)
	var unknown []string
	for _, name := range containers {
		if _, ok := images[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return "", &UnknownContainerError{TaskDefinition: arn, Names: unknown, Images: images}
	}
	for i, c := range in.ContainerDefinitions {
		name := aws.ToString(c.Name)
		if len(containers) > 0 && !slices.Contains(containers, name) {
			continue
		}
		img, err := imageref.Parse(aws.ToString(c.Image))
		if err == nil {
			img, err = img.WithTag(tag)
		}
		if err != nil {
			return "", fmt.Errorf("give container %s of %s the tag %s: %w", name, shortARN(arn), tag, err)
		}
		in.ContainerDefinitions[i].Image = aws.String(img.String())
	}
	return r.register(ctx, arn, in)
}

// register registers in, a new revision of the task definition arn.
func (r *Rollout) register(ctx context.Context, arn string, in *ecs.RegisterTaskDefinitionInput) (string, error) {
	if err := r.budget.Wait(ctx, "RegisterTaskDefinition"); err != nil {
		return "", err
	}
	out, err := r.api.RegisterTaskDefinition(ctx, in)
	r.budget.Observe("RegisterTaskDefinition", err)
	if err != nil {
		return "", fmt.Errorf("register a new revision of %s: %w", shortARN(arn), err)
	}
	if out.TaskDefinition == nil {
		return "", fmt.Errorf("register a new revision of %s: ECS returned no task definition", shortARN(arn))
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// containerImages maps each container of td to the image it runs.
func containerImages(td *types.TaskDefinition) map[string]string {
	images := map[string]string{}
	if td != nil {
		for _, c := range td.ContainerDefinitions {
			images[aws.ToString(c.Name)] = aws.ToString(c.Image)
		}
	}
	return images
}
