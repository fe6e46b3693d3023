package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/registry"
)

// ecrAPI is the part of ECR the default Registry calls.
type ecrAPI interface {
	registry.ECRAPI
}

var _ ecrAPI = (*ecr.Client)(nil)

// ecrRegistry is the default Registry: one BatchGetImage per repository
// for all the tags and digests asked about, and registry.PointTag to move
// a tag with the image's exact manifest.
type ecrRegistry struct {
	client    ecrAPI
	reg       *registry.Registry
	accountID string
	region    string

	// manifests holds the manifests read, by repository and digest, so
	// that a tag moves with one PutImage and no second read.
	mu        sync.Mutex
	manifests map[string]storedManifest
}

// storedManifest is an image's manifest exactly as ECR returned it.
type storedManifest struct {
	body, mediaType string
}

func defaultRegistry(p RegistryParams) (Registry, error) {
	client := ecr.NewFromConfig(p.Config)
	return &ecrRegistry{client: client, reg: registry.New(client), accountID: p.Registry.AccountID, region: p.Config.Region,
		manifests: map[string]storedManifest{}}, nil
}

func (r *ecrRegistry) Resolve(ctx context.Context, queries []ImageQuery) ([]*history.ImageRef, error) {
	byRepo := map[string][]int{}
	var order []string
	for i, q := range queries {
		if _, ok := byRepo[q.Image.Repository]; !ok {
			order = append(order, q.Image.Repository)
		}
		byRepo[q.Image.Repository] = append(byRepo[q.Image.Repository], i)
	}
	out := make([]*history.ImageRef, len(queries))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(resolveConcurrency)
	for _, repo := range order {
		g.Go(func() error { return r.resolveRepo(gctx, repo, queries, byRepo[repo], out) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// resolveConcurrency bounds how many repositories Resolve reads at once.
const resolveConcurrency = 8

// resolveRepo answers the queries idx, all about repo, into out.
func (r *ecrRegistry) resolveRepo(ctx context.Context, repo string, queries []ImageQuery, idx []int, out []*history.ImageRef) error {
	var ids []ecrtypes.ImageIdentifier
	seen := map[string]bool{}
	for _, i := range idx {
		q := queries[i]
		key, id := "t:"+q.Tag, ecrtypes.ImageIdentifier{ImageTag: aws.String(q.Tag)}
		if q.Digest != "" {
			key, id = "d:"+q.Digest, ecrtypes.ImageIdentifier{ImageDigest: aws.String(q.Digest)}
		}
		if !seen[key] {
			seen[key] = true
			ids = append(ids, id)
		}
	}
	found, err := r.batchGet(ctx, repo, ids)
	if err != nil {
		return err
	}
	for _, i := range idx {
		q := queries[i]
		key := "t:" + q.Tag
		if q.Digest != "" {
			key = "d:" + q.Digest
		}
		if _, ok := found.refs[key]; !ok && q.Digest == "" && !found.failed[q.Tag] {
			if len(found.images) == 1 {
				// ECR answered one image for everything asked and
				// reported no failure for this tag: it is that image.
				found.refs[key] = found.images[0]
			} else {
				// ECR answers an image once, under one of its tags:
				// ask for a tag it left unanswered on its own.
				alone, err := r.batchGet(ctx, repo, []ecrtypes.ImageIdentifier{{ImageTag: aws.String(q.Tag)}})
				if err != nil {
					return err
				}
				if len(alone.images) == 1 {
					found.refs[key] = alone.images[0]
				}
			}
		}
		if ref, ok := found.refs[key]; ok {
			c := ref
			c.Tag = q.Tag
			out[i] = &c
		}
	}
	return nil
}

// batchAnswer is what BatchGetImage said about one repository.
type batchAnswer struct {
	refs   map[string]history.ImageRef // by "t:<tag>" and "d:<digest>"
	images []history.ImageRef          // every image returned, once
	failed map[string]bool             // tags ECR reported as failures
}

// batchGet reads images of a repository. A repository that does not
// exist holds nothing.
func (r *ecrRegistry) batchGet(ctx context.Context, repo string, ids []ecrtypes.ImageIdentifier) (*batchAnswer, error) {
	found := &batchAnswer{refs: map[string]history.ImageRef{}, failed: map[string]bool{}}
	for start := 0; start < len(ids); start += 100 {
		out, err := r.client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
			RegistryId:     optional(r.accountID),
			RepositoryName: aws.String(repo),
			ImageIds:       ids[start:min(start+100, len(ids))],
			AcceptedMediaTypes: []string{registry.MediaTypeDockerManifest, registry.MediaTypeDockerManifestList,
				registry.MediaTypeOCIManifest, registry.MediaTypeOCIIndex},
		})
		var noRepo *ecrtypes.RepositoryNotFoundException
		if errors.As(err, &noRepo) {
			return found, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read images of %s from ECR: %w", repo, err)
		}
		for _, img := range out.Images {
			if img.ImageId == nil {
				continue
			}
			ref := history.ImageRef{
				Repository: r.uri(aws.ToString(img.RegistryId), repo),
				Digest:     aws.ToString(img.ImageId.ImageDigest),
				MediaType:  aws.ToString(img.ImageManifestMediaType),
			}
			if _, seen := found.refs["d:"+ref.Digest]; !seen {
				found.images = append(found.images, ref)
			}
			found.refs["d:"+ref.Digest] = ref
			if img.ImageManifest != nil {
				r.mu.Lock()
				r.manifests[repo+"@"+ref.Digest] = storedManifest{body: *img.ImageManifest, mediaType: ref.MediaType}
				r.mu.Unlock()
			}
			if t := aws.ToString(img.ImageId.ImageTag); t != "" {
				found.refs["t:"+t] = ref
			}
		}
		for _, f := range out.Failures {
			if f.ImageId != nil && f.ImageId.ImageTag != nil {
				found.failed[aws.ToString(f.ImageId.ImageTag)] = true
			}
		}
	}
	return found, nil
}

func (r *ecrRegistry) uri(account, repo string) string {
	if account == "" {
		account = r.accountID
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", account, r.region, repo)
}

func (r *ecrRegistry) Tag(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag string) (bool, error) {
	mv, err := r.reg.PointTag(ctx, registry.PointTagInput{RegistryID: r.accountID, Repository: img.Repository, Tag: tag, Digest: ref.Digest})
	if err != nil {
		return false, err
	}
	return mv.Moved, nil
}

// TagFrom points tag at ref's digest knowing that it points at from now:
// one PutImage of the manifest read when the image was resolved, or
// Tag's read-then-put when that manifest was not read.
func (r *ecrRegistry) TagFrom(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag, from string) (bool, error) {
	r.mu.Lock()
	m, ok := r.manifests[img.Repository+"@"+ref.Digest]
	r.mu.Unlock()
	if !ok {
		return r.Tag(ctx, img, ref, tag)
	}
	mv, err := r.reg.PointTag(ctx, registry.PointTagInput{RegistryID: r.accountID, Repository: img.Repository, Tag: tag,
		Digest: ref.Digest, Manifest: m.body, MediaType: m.mediaType, FromKnown: true, From: from})
	if err != nil {
		return false, err
	}
	return mv.Moved, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
