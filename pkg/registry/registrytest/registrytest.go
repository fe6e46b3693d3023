// Package registrytest is an in-memory Amazon ECR for tests and examples
// of code that uses pkg/registry: repositories of manifests by digest and
// tags pointing at them, behind the four calls registry.ECRAPI names.
package registrytest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// MediaType is the media type of every manifest the fake holds.
const MediaType = "application/vnd.oci.image.index.v1+json"

// ECR is a registry of manifests by digest and tags by repository. Like
// ECR at its least helpful, BatchGetImage answers each image once, under
// the first id asked for. Its repositories' tags are immutable with
// exclusions (which let floating tags move). It is safe for concurrent
// use.
type ECR struct {
	mu        sync.Mutex
	tags      map[string]map[string]string    // repository → tag → digest
	manifests map[string]string               // digest → manifest
	pushedAt  map[string]map[string]time.Time // repository → digest → push time
	putErr    error
	gets      []*ecr.BatchGetImageInput
	puts      []*ecr.PutImageInput
}

// New returns an ECR with no repositories.
func New() *ECR {
	return &ECR{tags: map[string]map[string]string{}, manifests: map[string]string{}, pushedAt: map[string]map[string]time.Time{}}
}

// Push stores an image with digest in repo (creating the repository) and
// points tags at it.
func (f *ECR) Push(repo, digest string, tags ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tags[repo] == nil {
		f.tags[repo], f.pushedAt[repo] = map[string]string{}, map[string]time.Time{}
	}
	if _, ok := f.pushedAt[repo][digest]; !ok {
		f.pushedAt[repo][digest] = time.Time{} // unknown until SetPushedAt
	}
	f.manifests[digest] = `{"manifest":"` + digest + `"}`
	for _, t := range tags {
		f.tags[repo][t] = digest
	}
}

// Manifest returns the manifest of the image with digest.
func (f *ECR) Manifest(digest string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.manifests[digest]
}

// Tagged returns the digest tag points at in repo, "" if none.
func (f *ECR) Tagged(repo, tag string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tags[repo][tag]
}

// FailPuts makes every later PutImage fail with err, changing nothing.
func (f *ECR) FailPuts(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.putErr = err
}

// Gets returns the BatchGetImage calls made, in order.
func (f *ECR) Gets() []*ecr.BatchGetImageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.gets)
}

// Puts returns the PutImage calls made, in order.
func (f *ECR) Puts() []*ecr.PutImageInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.puts)
}

// BatchGetImage answers each image asked for once, under the first id
// that names it, and a failure for each id that names none.
func (f *ECR) BatchGetImage(_ context.Context, in *ecr.BatchGetImageInput, _ ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in)
	repo, ok := f.tags[*in.RepositoryName]
	if !ok {
		return nil, &ecrtypes.RepositoryNotFoundException{Message: in.RepositoryName}
	}
	out := &ecr.BatchGetImageOutput{}
	seen := map[string]bool{}
	for _, id := range in.ImageIds {
		digest := str(id.ImageDigest)
		if id.ImageTag != nil {
			digest = repo[*id.ImageTag]
		}
		if _, ok := f.manifests[digest]; !ok || digest == "" {
			out.Failures = append(out.Failures, ecrtypes.ImageFailure{ImageId: &id, FailureCode: ecrtypes.ImageFailureCodeImageNotFound})
			continue
		}
		if seen[digest] {
			continue
		}
		seen[digest] = true
		d, m, mt := digest, f.manifests[digest], MediaType
		out.Images = append(out.Images, ecrtypes.Image{
			ImageId:                &ecrtypes.ImageIdentifier{ImageTag: id.ImageTag, ImageDigest: &d},
			ImageManifest:          &m,
			ImageManifestMediaType: &mt,
		})
	}
	return out, nil
}

// PutImage points the tag at the digest, or fails as FailPuts said.
func (f *ECR) PutImage(_ context.Context, in *ecr.PutImageInput, _ ...func(*ecr.Options)) (*ecr.PutImageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, in)
	if f.putErr != nil {
		return nil, f.putErr
	}
	f.tags[*in.RepositoryName][*in.ImageTag] = *in.ImageDigest
	return &ecr.PutImageOutput{Image: &ecrtypes.Image{ImageId: &ecrtypes.ImageIdentifier{ImageDigest: in.ImageDigest}}}, nil
}

// DescribeRepositories says every repository's tags are immutable with
// exclusions.
func (f *ECR) DescribeRepositories(_ context.Context, in *ecr.DescribeRepositoriesInput, _ ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return &ecr.DescribeRepositoriesOutput{Repositories: []ecrtypes.Repository{{
		RepositoryName: &in.RepositoryNames[0], ImageTagMutability: ecrtypes.ImageTagMutabilityImmutableWithExclusion,
	}}}, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// SetPushedAt says when the image with digest was pushed to repo, as
// DescribeImages tells it (an image pushed with no time set has none).
func (f *ECR) SetPushedAt(repo, digest string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pushedAt[repo][digest] = at
}

// DescribeImages describes the images asked for by digest, refusing the
// call with ImageNotFoundException when one is not in the repository, as
// ECR does.
func (f *ECR) DescribeImages(_ context.Context, in *ecr.DescribeImagesInput, _ ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pushed, ok := f.pushedAt[*in.RepositoryName]
	if !ok {
		return nil, &ecrtypes.RepositoryNotFoundException{Message: in.RepositoryName}
	}
	out := &ecr.DescribeImagesOutput{}
	for _, id := range in.ImageIds {
		at, ok := pushed[str(id.ImageDigest)]
		if !ok {
			return nil, &ecrtypes.ImageNotFoundException{Message: id.ImageDigest}
		}
		detail := ecrtypes.ImageDetail{ImageDigest: id.ImageDigest, RepositoryName: in.RepositoryName}
		if !at.IsZero() {
			detail.ImagePushedAt = &at
		}
		out.ImageDetails = append(out.ImageDetails, detail)
	}
	return out, nil
}
