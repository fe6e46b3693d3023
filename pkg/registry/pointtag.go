package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// PointTagInput says which tag must point at which image.
type PointTagInput struct {
	// RegistryID is the registry's account id; empty means the caller's.
	RegistryID string
	Repository string
	Tag        string // e.g. env.prod
	Digest     string // the digest Tag must point at, sha256:...
	// MediaType and Manifest are the image's manifest exactly as ECR
	// returned it. When Manifest is empty, the one this Registry read
	// (Resolve) is used, else it is read by Digest, in the same call that
	// reads where Tag points now.
	MediaType string
	Manifest  string
	// FromKnown says the caller has just read where Tag points (From;
	// "" when the tag does not exist), e.g. in the Resolve that found the
	// image: PointTag then puts the manifest without reading the tag
	// again, and leaves it alone when From is Digest. When the manifest
	// is neither given nor read by this Registry, PointTag reads as
	// without FromKnown.
	FromKnown bool
	From      string
}

// Move says what PointTag did.
type Move struct {
	RegistryID string
	Repository string
	Tag        string
	From       string // where Tag pointed before; empty if it did not exist
	To         string // where Tag points now
	// Moved is true when this call moved the tag, false when it already
	// pointed at To.
	Moved bool
}

// PointTag makes in.Tag point at in.Digest by putting the image's manifest
// under the tag, byte for byte, so the digest does not change; no image
// layers move. A tag that already points there is left alone (Moved is
// false). A repository with immutable tags gives an *ImmutableTagError.
func (r *Registry) PointTag(ctx context.Context, in PointTagInput) (*Move, error) {
	k := repoKey{in.RegistryID, in.Repository}
	doing := fmt.Sprintf("point %s:%s at %s", k, in.Tag, in.Digest)
	if in.Repository == "" || in.Tag == "" || in.Digest == "" {
		return nil, fmt.Errorf("%s: repository, tag and digest are required", doing)
	}
	move := &Move{RegistryID: in.RegistryID, Repository: in.Repository, Tag: in.Tag, To: in.Digest}
	if in.Manifest == "" {
		in.Manifest, in.MediaType, _ = r.kept(k, in.Digest)
	}
	if in.FromKnown && in.Manifest != "" {
		move.From = in.From
		if move.From == in.Digest {
			return move, nil
		}
		return r.put(ctx, k, in, move, doing)
	}
	var digests []string
	if in.Manifest == "" {
		digests = []string{in.Digest}
	}
	f, err := r.fetch(ctx, k, []string{in.Tag}, digests)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	if cur, ok := f.byTag[in.Tag]; ok {
		move.From = cur.Digest
	}
	if move.From == in.Digest {
		return move, nil
	}
	if in.Manifest == "" {
		img, ok := f.byDigest[in.Digest]
		if !ok {
			return nil, fmt.Errorf("%s: no image has that digest in %s (deleted by a lifecycle policy?): %w", doing, k, ErrImageNotFound)
		}
		in.Manifest, in.MediaType = img.Manifest, img.MediaType
	}
	return r.put(ctx, k, in, move, doing)
}

// put puts in.Manifest under in.Tag and completes move.
func (r *Registry) put(ctx context.Context, k repoKey, in PointTagInput, move *Move, doing string) (*Move, error) {
	out, err := r.client.PutImage(ctx, &ecr.PutImageInput{
		RegistryId:             optString(in.RegistryID),
		RepositoryName:         &in.Repository,
		ImageTag:               &in.Tag,
		ImageDigest:            &in.Digest,
		ImageManifest:          &in.Manifest,
		ImageManifestMediaType: optString(in.MediaType),
	})
	if err != nil {
		return r.putFailed(ctx, k, in, move, err, doing)
	}
	if out.Image != nil && out.Image.ImageId != nil {
		if got := str(out.Image.ImageId.ImageDigest); got != "" && got != in.Digest {
			return nil, fmt.Errorf("%s: ECR stored the manifest under digest %s; the manifest given does not belong to %s", doing, got, in.Digest)
		}
	}
	move.Moved = true
	return move, nil
}

// putFailed explains a failed PutImage. ECR refuses to put a tag that is
// already on the same image (ImageAlreadyExistsException): then the tag
// points where we wanted, perhaps moved there by a concurrent run. An
// immutable repository refuses to move a tag (AWS:
// ImageTagAlreadyExistsException; some emulators answer
// ImageAlreadyExistsException), which only its settings can tell apart.
func (r *Registry) putFailed(ctx context.Context, k repoKey, in PointTagInput, move *Move, err error, doing string) (*Move, error) {
	var (
		tagExists   *ecrtypes.ImageTagAlreadyExistsException
		imageExists *ecrtypes.ImageAlreadyExistsException
	)
	switch {
	case errors.As(err, &tagExists):
		return nil, fmt.Errorf("%s: %w", doing, &ImmutableTagError{RegistryID: in.RegistryID, Repository: in.Repository, Tag: in.Tag, Mutability: string(ecrtypes.ImageTagMutabilityImmutable)})
	case errors.As(err, &imageExists):
		f, ferr := r.fetch(ctx, k, []string{in.Tag}, nil)
		if ferr != nil {
			return nil, fmt.Errorf("%s: after ECR said the image exists: %w", doing, ferr)
		}
		if cur, ok := f.byTag[in.Tag]; ok && cur.Digest == in.Digest {
			return move, nil
		}
		mutability, derr := r.mutability(ctx, k)
		if derr != nil {
			return nil, fmt.Errorf("%s: %w (and reading the repository's tag mutability failed: %w)", doing, err, derr)
		}
		if isImmutable(mutability) {
			return nil, fmt.Errorf("%s: %w", doing, &ImmutableTagError{RegistryID: in.RegistryID, Repository: in.Repository, Tag: in.Tag, Mutability: mutability})
		}
		return nil, fmt.Errorf("%s: %w", doing, err)
	default:
		return nil, classify(err, doing, k)
	}
}

// mutability reads a repository's image tag mutability setting.
func (r *Registry) mutability(ctx context.Context, k repoKey) (string, error) {
	out, err := r.client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
		RegistryId:      optString(k.registryID),
		RepositoryNames: []string{k.repository},
	})
	if err != nil {
		return "", classify(err, "describe repository", k)
	}
	if len(out.Repositories) != 1 {
		return "", fmt.Errorf("describe repository %s: got %d repositories, want 1: %w", k, len(out.Repositories), ErrRepositoryNotFound)
	}
	return string(out.Repositories[0].ImageTagMutability), nil
}

// AuditTag returns the immutable tag that records a deployment at t in ECR
// itself, e.g. env.prod.20261122T103000Z for floating tag env.prod. Point
// it at the deployed digest with PointTag; ECR keeps a history of
// deployments even where nothing else does.
func AuditTag(floatingTag string, t time.Time) string {
	return floatingTag + "." + t.UTC().Format("20060102T150405Z")
}
