// Package registry reads and moves tags in Amazon ECR by digest. It
// resolves labels (latest, ref.<sha>) to digests for many images at once
// and points floating tags (env.stage, env.prod) at a digest by putting the
// image's exact manifest under the tag: no layer moves and the digest
// never changes, whatever the manifest's type (Docker v2, OCI manifest,
// Docker manifest list or OCI index for multi-arch images).
//
// It works on plain names (registry id, repository, tag, digest); callers
// map their manifest onto those.
package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// The manifest media types this package reads and writes.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest        = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex           = "application/vnd.oci.image.index.v1+json"
)

// acceptedMediaTypes are asked for in BatchGetImage so that ECR returns
// every image as it was pushed instead of converting it.
var acceptedMediaTypes = []string{
	MediaTypeDockerManifest, MediaTypeDockerManifestList, MediaTypeOCIManifest, MediaTypeOCIIndex,
}

// maxImageIDs is how many image ids one BatchGetImage call takes.
const maxImageIDs = 100

// ECRAPI is the part of the ECR client this package uses.
type ECRAPI interface {
	BatchGetImage(ctx context.Context, in *ecr.BatchGetImageInput, optFns ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error)
	PutImage(ctx context.Context, in *ecr.PutImageInput, optFns ...func(*ecr.Options)) (*ecr.PutImageOutput, error)
	DescribeRepositories(ctx context.Context, in *ecr.DescribeRepositoriesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

var _ ECRAPI = (*ecr.Client)(nil)

// Errors a caller can branch on with errors.Is.
var (
	// ErrRepositoryNotFound: the repository does not exist in the registry.
	ErrRepositoryNotFound = errors.New("repository not found")
	// ErrImageNotFound: no image has the digest PointTag was to put under
	// the tag (Resolve answers nil for what is missing).
	ErrImageNotFound = errors.New("image not found")
	// ErrImmutableTag: the repository's tags are immutable, so a floating
	// tag cannot move. The error is an *ImmutableTagError.
	ErrImmutableTag = errors.New("tag is immutable")
)

// Registry reads and moves tags through one ECR client (one region and
// set of credentials; RegistryID picks the account). It keeps the
// manifests it reads, so that pointing a tag at an image it resolved
// takes one PutImage and no second read: make one per operation. It is
// safe for concurrent use.
type Registry struct {
	client ECRAPI

	mu        sync.Mutex
	manifests map[manifestKey]Image // by repository and digest
}

// manifestKey names an image's manifest: its repository and digest.
type manifestKey struct {
	repo   repoKey
	digest string
}

// New returns a Registry that calls ECR through client.
func New(client ECRAPI) *Registry {
	return &Registry{client: client, manifests: map[manifestKey]Image{}}
}

// NewFromConfig returns a Registry that calls ECR through a client made
// from cfg.
func NewFromConfig(cfg aws.Config) *Registry { return New(ecr.NewFromConfig(cfg)) }

// keep remembers img's manifest, read from ECR.
func (r *Registry) keep(k repoKey, img Image) {
	if img.Manifest == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.manifests[manifestKey{k, img.Digest}] = Image{MediaType: img.MediaType, Manifest: img.Manifest}
}

// kept returns the manifest and media type of the image of k with
// digest, if this Registry has read it.
func (r *Registry) kept(k repoKey, digest string) (manifest, mediaType string, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.manifests[manifestKey{k, digest}]
	return m.Manifest, m.MediaType, ok
}

// Image is one image found in ECR under a tag or digest.
type Image struct {
	// RegistryID is the account id of the registry; empty means the
	// caller's own.
	RegistryID string
	Repository string // repository name, e.g. uk.ac.wellcome/api
	Tag        string // the tag it was found under, if any
	Digest     string // sha256:...
	MediaType  string
	// Manifest is the manifest exactly as ECR returned it. Putting it
	// back unchanged keeps the digest.
	Manifest string
}

// Ref returns the image as repository@digest (without the registry host).
func (i Image) Ref() string { return i.Repository + "@" + i.Digest }

// ImmutableTagError says a floating tag cannot move because the
// repository's tags are immutable.
type ImmutableTagError struct {
	RegistryID string
	Repository string
	Tag        string
	Mutability string // e.g. IMMUTABLE
}

func (e *ImmutableTagError) Error() string {
	return fmt.Sprintf("repository %s has immutable tags (%s), so the tag %s cannot be moved: "+
		"deploy this environment with the task-definition strategy (which pins images by digest), "+
		"or make the repository's tags mutable", e.Repository, e.Mutability, e.Tag)
}

// Unwrap makes errors.Is(err, ErrImmutableTag) true.
func (e *ImmutableTagError) Unwrap() error { return ErrImmutableTag }

// repoKey groups images by the registry and repository they live in.
type repoKey struct {
	registryID string
	repository string
}

func (k repoKey) String() string {
	if k.registryID == "" {
		return k.repository
	}
	return k.registryID + "/" + k.repository
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// classify wraps an ECR error with what was being done and, for the
// errors a person can fix, what to do.
func classify(err error, doing string, k repoKey) error {
	var (
		noRepo  *ecrtypes.RepositoryNotFoundException
		noImage *ecrtypes.ImageNotFoundException
		limit   *ecrtypes.LimitExceededException
	)
	switch {
	case errors.As(err, &noRepo):
		return fmt.Errorf("%s: repository %s does not exist (create it, or fix the repository in the manifest): %w: %w",
			doing, k, ErrRepositoryNotFound, err)
	case errors.As(err, &noImage):
		return fmt.Errorf("%s: %w: %w", doing, ErrImageNotFound, err)
	case errors.As(err, &limit):
		return fmt.Errorf("%s: ECR limit reached (too many tags on one image? remove old tags or add a lifecycle policy): %w", doing, err)
	default:
		return fmt.Errorf("%s in %s: %w", doing, k, err)
	}
}

// isImmutable reports whether a repository's tag mutability setting makes
// tags immutable (ignoring exclusion filters, which ECR applies itself).
func isImmutable(mutability string) bool {
	return strings.HasPrefix(mutability, string(ecrtypes.ImageTagMutabilityImmutable))
}

// isNotFound reports whether err wraps the sentinel target.
func isNotFound(err, target error) bool {
	return err != nil && errors.Is(err, target)
}
