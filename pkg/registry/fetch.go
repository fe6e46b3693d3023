package registry

import (
	"cmp"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// found is what BatchGetImage said about the ids asked for in one
// repository.
type found struct {
	byTag    map[string]Image
	byDigest map[string]Image
	// tagFailures holds the failure code of tags ECR reported, e.g.
	// ImageNotFound.
	tagFailures map[string]ecrtypes.ImageFailureCode
}

// fetch asks ECR for tags and digests of one repository in as few
// BatchGetImage calls as it takes (100 ids each). ECR answers each image
// once, under one of the ids asked for, so a tag that shares an image with
// another tag or digest asked for in the same calls may go unanswered
// (with no failure either): when the calls returned a single image, the
// tag is on it; otherwise the tag is asked for on its own.
func (r *Registry) fetch(ctx context.Context, k repoKey, tags, digests []string) (*found, error) {
	f := &found{byTag: map[string]Image{}, byDigest: map[string]Image{}, tagFailures: map[string]ecrtypes.ImageFailureCode{}}
	ids := make([]ecrtypes.ImageIdentifier, 0, len(tags)+len(digests))
	for _, t := range dedupe(tags) {
		ids = append(ids, ecrtypes.ImageIdentifier{ImageTag: &t})
	}
	for _, d := range dedupe(digests) {
		ids = append(ids, ecrtypes.ImageIdentifier{ImageDigest: &d})
	}
	for start := 0; start < len(ids); start += maxImageIDs {
		end := min(start+maxImageIDs, len(ids))
		if err := r.batchGet(ctx, k, ids[start:end], f, ""); err != nil {
			return nil, err
		}
	}
	answered := len(f.byDigest)
	for _, t := range dedupe(tags) {
		_, ok := f.byTag[t]
		_, failed := f.tagFailures[t]
		if ok || failed {
			continue
		}
		if answered == 1 {
			for _, img := range f.byDigest {
				img.Tag = t
				f.byTag[t] = img
			}
			continue
		}
		if err := r.batchGet(ctx, k, []ecrtypes.ImageIdentifier{{ImageTag: &t}}, f, t); err != nil {
			return nil, err
		}
		if _, ok := f.byTag[t]; !ok {
			f.tagFailures[t] = ecrtypes.ImageFailureCodeImageNotFound
		}
	}
	return f, nil
}

// batchGet makes one BatchGetImage call and records its answers in f.
// When only is set, the call asked for that one tag, and any image
// returned is the image under it.
func (r *Registry) batchGet(ctx context.Context, k repoKey, ids []ecrtypes.ImageIdentifier, f *found, only string) error {
	out, err := r.client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId:         optString(k.registryID),
		RepositoryName:     &k.repository,
		ImageIds:           ids,
		AcceptedMediaTypes: acceptedMediaTypes,
	})
	if err != nil {
		return classify(err, fmt.Sprintf("read %d image(s) of %s", len(ids), k), k)
	}
	for _, img := range out.Images {
		im := Image{
			RegistryID: cmp.Or(str(img.RegistryId), k.registryID),
			Repository: k.repository,
			MediaType:  str(img.ImageManifestMediaType),
			Manifest:   str(img.ImageManifest),
		}
		if img.ImageId != nil {
			im.Tag, im.Digest = str(img.ImageId.ImageTag), str(img.ImageId.ImageDigest)
		}
		if only != "" {
			im.Tag = only
		}
		if im.Digest == "" {
			return fmt.Errorf("read images of %s: ECR returned an image without a digest", k)
		}
		r.keep(k, im)
		if im.Tag != "" {
			f.byTag[im.Tag] = im
		}
		untagged := im
		untagged.Tag = ""
		f.byDigest[im.Digest] = untagged
	}
	for _, fl := range out.Failures {
		if fl.ImageId != nil && fl.ImageId.ImageTag != nil && fl.ImageId.ImageDigest == nil {
			f.tagFailures[*fl.ImageId.ImageTag] = fl.FailureCode
		}
	}
	return nil
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
