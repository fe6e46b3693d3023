package registry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// PushedAt returns when each image of the repository whose digest is in
// digests was pushed, by digest. An image that does not exist, or whose
// push time ECR does not tell, is left out, as is every image of a
// repository that does not exist. It makes one DescribeImages call per
// 100 digests; ECR refuses a call that names an image it does not hold,
// so such a call is made again one digest at a time.
func (r *Registry) PushedAt(ctx context.Context, registryID, repository string, digests []string) (map[string]time.Time, error) {
	k := repoKey{registryID, repository}
	out := map[string]time.Time{}
	digests = dedupe(digests)
	for start := 0; start < len(digests); start += maxImageIDs {
		batch := digests[start:min(start+maxImageIDs, len(digests))]
		err := r.describe(ctx, k, batch, out)
		if errors.Is(err, ErrImageNotFound) && len(batch) > 1 {
			for _, d := range batch {
				if err := r.describe(ctx, k, []string{d}, out); err != nil && !errors.Is(err, ErrImageNotFound) {
					return nil, err
				}
			}
			continue
		}
		switch {
		case errors.Is(err, ErrRepositoryNotFound):
			return out, nil
		case errors.Is(err, ErrImageNotFound):
			continue
		case err != nil:
			return nil, err
		}
	}
	return out, nil
}

// describe makes one DescribeImages call of digests and adds their push
// times to out.
func (r *Registry) describe(ctx context.Context, k repoKey, digests []string, out map[string]time.Time) error {
	ids := make([]ecrtypes.ImageIdentifier, len(digests))
	for i, d := range digests {
		ids[i] = ecrtypes.ImageIdentifier{ImageDigest: &d}
	}
	res, err := r.client.DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: optString(k.registryID), RepositoryName: &k.repository, ImageIds: ids})
	if err != nil {
		return classify(err, fmt.Sprintf("describe %d image(s) of %s", len(ids), k), k)
	}
	for _, img := range res.ImageDetails {
		if img.ImageDigest != nil && img.ImagePushedAt != nil {
			out[*img.ImageDigest] = img.ImagePushedAt.UTC()
		}
	}
	return nil
}
