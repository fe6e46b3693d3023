package deploy

import (
	"cmp"
	"context"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/registry"
)

// ecrRegistry is the default Registry: pkg/registry, for the images of
// one registry (account, region, role), with the manifest's images mapped
// onto its plain names.
type ecrRegistry struct {
	reg       *registry.Registry
	accountID string
	region    string
}

var (
	_ fromTagger = (*ecrRegistry)(nil)
	_ pushTimer  = (*ecrRegistry)(nil)
)

func defaultRegistry(p RegistryParams) (Registry, error) {
	return &ecrRegistry{reg: registry.NewFromConfig(p.Config), accountID: p.Registry.AccountID, region: p.Config.Region}, nil
}

func (r *ecrRegistry) Resolve(ctx context.Context, queries []ImageQuery) ([]*history.ImageRef, error) {
	qs := make([]registry.Query, len(queries))
	for i, q := range queries {
		qs[i] = registry.Query{RegistryID: r.accountID, Repository: q.Image.Repository, Tag: q.Tag, Digest: q.Digest}
	}
	images, err := r.reg.Resolve(ctx, qs)
	if err != nil {
		return nil, err
	}
	out := make([]*history.ImageRef, len(images))
	for i, img := range images {
		if img != nil {
			out[i] = &history.ImageRef{
				Repository: imageref.ECRRepositoryURI(cmp.Or(img.RegistryID, r.accountID), r.region, img.Repository),
				Tag:        img.Tag, Digest: img.Digest, MediaType: img.MediaType,
			}
		}
	}
	return out, nil
}

func (r *ecrRegistry) Tag(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag string) (bool, error) {
	return r.point(ctx, registry.PointTagInput{RegistryID: r.accountID, Repository: img.Repository, Tag: tag, Digest: ref.Digest})
}

// TagFrom points tag at ref's digest knowing that it points at from now:
// one PutImage of the manifest read when the image was resolved.
func (r *ecrRegistry) TagFrom(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag, from string) (bool, error) {
	return r.point(ctx, registry.PointTagInput{RegistryID: r.accountID, Repository: img.Repository, Tag: tag, Digest: ref.Digest,
		FromKnown: true, From: from})
}

func (r *ecrRegistry) point(ctx context.Context, in registry.PointTagInput) (bool, error) {
	mv, err := r.reg.PointTag(ctx, in)
	if err != nil {
		return false, err
	}
	return mv.Moved, nil
}

// PushedAt returns when the images of img with digests were pushed: one
// DescribeImages per 100 of them.
func (r *ecrRegistry) PushedAt(ctx context.Context, img *manifest.Image, digests []string) (map[string]time.Time, error) {
	return r.reg.PushedAt(ctx, r.accountID, img.Repository, digests)
}
