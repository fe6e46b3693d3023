package registry

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// Query asks for one image of a repository, by tag or by digest.
type Query struct {
	// RegistryID is the registry's account id; empty means the caller's.
	RegistryID string
	Repository string // repository name, e.g. uk.ac.wellcome/api
	// Tag is the tag to look up, e.g. "latest" or "env.prod".
	Tag string
	// Digest, when set, looks the image up by digest instead (Tag then
	// only names it in the answer).
	Digest string
}

// resolveConcurrency bounds how many repositories Resolve reads at once.
const resolveConcurrency = 8

// Resolve looks up each query and returns one answer per query, in
// order: the image (its Tag the query's), or nil when no image has that
// tag or digest or the repository does not exist. Only a failed call is
// an error. It makes one BatchGetImage call per repository (per 100 tags
// and digests), reading up to 8 repositories at once, and keeps the
// manifests it reads for PointTag.
func (r *Registry) Resolve(ctx context.Context, queries []Query) ([]*Image, error) {
	type want struct{ tags, digests []string }
	groups := map[repoKey]*want{}
	var order []repoKey
	for _, q := range queries {
		if q.Repository == "" || (q.Tag == "" && q.Digest == "") {
			return nil, fmt.Errorf("resolve %q:%q@%q: a repository and a tag or digest are required", q.Repository, q.Tag, q.Digest)
		}
		k := repoKey{q.RegistryID, q.Repository}
		if groups[k] == nil {
			groups[k] = &want{}
			order = append(order, k)
		}
		if q.Digest != "" {
			groups[k].digests = append(groups[k].digests, q.Digest)
		} else {
			groups[k].tags = append(groups[k].tags, q.Tag)
		}
	}

	answers := make([]*found, len(order))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(resolveConcurrency)
	for i, k := range order {
		g.Go(func() error {
			f, err := r.fetch(gctx, k, groups[k].tags, groups[k].digests)
			switch {
			case isNotFound(err, ErrRepositoryNotFound):
				answers[i] = &found{} // it holds nothing
			case err != nil:
				return fmt.Errorf("resolve images in %s: %w", k, err)
			default:
				answers[i] = f
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byRepo := make(map[repoKey]*found, len(order))
	for i, k := range order {
		byRepo[k] = answers[i]
	}

	out := make([]*Image, len(queries))
	for i, q := range queries {
		f := byRepo[repoKey{q.RegistryID, q.Repository}]
		img, ok := f.byTag[q.Tag]
		if q.Digest != "" {
			img, ok = f.byDigest[q.Digest]
		}
		if ok {
			img.Tag = q.Tag
			out[i] = &img
		}
	}
	return out, nil
}
