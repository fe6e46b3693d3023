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
)

// Pin pins the containers that run Repository to Digest (sha256:...).
type Pin struct {
	Repository string
	Digest     string
}

// readOnlyFields are the fields of types.TaskDefinition that ECS sets and
// RegisterTaskDefinition does not take. Every other field is copied; a
// field that is neither is an error, so that a newer SDK can never make
// buoy drop part of a task definition silently.
var readOnlyFields = []string{
	"Compatibilities", "DeleteRequestedAt", "DeregisteredAt", "RegisteredAt", "RegisteredBy",
	"RequiresAttributes", "Revision", "Status", "TaskDefinitionArn",
}

// RegisterInput builds the RegisterTaskDefinition request that recreates
// td with its tags: every field is copied by name through reflection.
// It fails when td has a field the request cannot carry.
func RegisterInput(td *types.TaskDefinition, tags []types.Tag) (*ecs.RegisterTaskDefinitionInput, error) {
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

// RegisterPinned registers a new revision of the task definition arn with
// the images of matching containers pinned by digest (repo@sha256:...),
// and every other field, tags included, as they were. It returns the new
// revision's ARN. It fails, registering nothing, when a pin matches no
// container.
func (r *Rollout) RegisterPinned(ctx context.Context, arn string, pins []Pin) (string, error) {
	cur, err := r.TaskDefinition(ctx, arn)
	if err != nil {
		return "", err
	}
	in, err := RegisterInput(cur.TaskDefinition, cur.Tags)
	if err != nil {
		return "", err
	}
	for _, p := range pins {
		n := 0
		for i, c := range in.ContainerDefinitions {
			if (Image{Repository: p.Repository}).matches(aws.ToString(c.Image)) {
				in.ContainerDefinitions[i].Image = aws.String(p.Repository + "@" + p.Digest)
				n++
			}
		}
		if n == 0 {
			_, images := matchingContainers(cur.TaskDefinition, Image{})
			return "", &ImageMismatchError{Service: "(task definition)", TaskDefinition: arn, Want: p.Repository, Images: images}
		}
	}
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
