package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Image is the image a service is expected to run: a repository URI (such
// as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app) and, for the tag
// strategy, the floating tag. An empty Tag matches any tag or digest.
type Image struct {
	Repository string
	Tag        string
}

func (i Image) String() string {
	if i.Tag == "" {
		return i.Repository
	}
	return i.Repository + ":" + i.Tag
}

// splitImage splits an image reference into repository, tag and digest.
// It copes with registry ports (host:5000/app) and digests.
func splitImage(ref string) (repo, tag, digest string) {
	ref, digest, _ = strings.Cut(ref, "@")
	slash := strings.LastIndex(ref, "/")
	if c := strings.LastIndex(ref, ":"); c > slash {
		return ref[:c], ref[c+1:], digest
	}
	return ref, "", digest
}

// matches reports whether the container image ref runs img. Without a
// tag in ref, Docker's default tag "latest" applies.
func (i Image) matches(ref string) bool {
	repo, tag, _ := splitImage(ref)
	if repo != i.Repository {
		return false
	}
	if i.Tag == "" {
		return true
	}
	if tag == "" {
		tag = "latest"
	}
	return tag == i.Tag
}

type taskDefinitionEntry struct {
	once sync.Once
	out  *ecs.DescribeTaskDefinitionOutput
	err  error
}

// TaskDefinition describes a task definition, with its tags, once per ARN
// for the life of the Rollout.
func (r *Rollout) TaskDefinition(ctx context.Context, arn string) (*ecs.DescribeTaskDefinitionOutput, error) {
	r.tdMu.Lock()
	e, ok := r.tds[arn]
	if !ok {
		e = &taskDefinitionEntry{}
		r.tds[arn] = e
	}
	r.tdMu.Unlock()
	e.once.Do(func() {
		if e.err = r.budget.Wait(ctx, "DescribeTaskDefinition"); e.err != nil {
			return
		}
		e.out, e.err = r.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(arn),
			Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		})
		r.budget.Observe("DescribeTaskDefinition", e.err)
		if e.err != nil {
			e.err = fmt.Errorf("describe task definition %s: %w", arn, e.err)
		}
	})
	if e.err != nil {
		// Do not cache failures (a cancelled context, throttling).
		r.tdMu.Lock()
		if r.tds[arn] == e {
			delete(r.tds, arn)
		}
		r.tdMu.Unlock()
	}
	return e.out, e.err
}

// CheckImage returns the names of the containers of svc's task definition
// that run img. When none does, the error is an *ImageMismatchError that
// lists what the containers run.
func (r *Rollout) CheckImage(ctx context.Context, svc Service, img Image) ([]string, error) {
	td, err := r.TaskDefinition(ctx, svc.TaskDefinition)
	if err != nil {
		return nil, fmt.Errorf("check the image of service %s: %w", svc.Name, err)
	}
	names, images := matchingContainers(td.TaskDefinition, img)
	if len(names) == 0 {
		return nil, &ImageMismatchError{Service: svc.Name, TaskDefinition: svc.TaskDefinition, Want: img.String(), Images: images}
	}
	return names, nil
}

func matchingContainers(td *types.TaskDefinition, img Image) (names []string, images map[string]string) {
	images = map[string]string{}
	if td == nil {
		return nil, images
	}
	for _, c := range td.ContainerDefinitions {
		images[aws.ToString(c.Name)] = aws.ToString(c.Image)
		if img.matches(aws.ToString(c.Image)) {
			names = append(names, aws.ToString(c.Name))
		}
	}
	return names, images
}

func sortStrings(s []string) { slices.Sort(s) }
