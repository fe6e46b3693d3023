package registry

import (
	"context"
	"fmt"
	"strings"

	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Lookup asks for the image under a label in one repository.
type Lookup struct {
	// RegistryID is the registry's account id; empty means the caller's.
	RegistryID string
	Repository string // repository name, e.g. uk.ac.wellcome/api
	// Tag is the label to resolve, e.g. "latest" or "ref.3f2a...".
	Tag string
	// FloatingTag, when set, is read in the same call so a deployment
	// knows where it points before moving it (e.g. "env.prod").
	FloatingTag string
}

// Resolved is the answer to one Lookup.
type Resolved struct {
	Lookup Lookup
	// Image is the image under Lookup.Tag.
	Image Image
	// Floating is the image under Lookup.FloatingTag, nil when that tag
	// was not asked for or does not exist yet.
	Floating *Image
}

// Missing names one image a Resolve could not find.
type Missing struct {
	RegistryID string
	Repository string
	Tag        string
	// Reason is why, e.g. "ImageNotFound" or "repository not found".
	Reason string
}

// MissingError lists every image a Resolve could not find.
type MissingError struct {
	Missing []Missing
}

func (e *MissingError) Error() string {
	parts := make([]string, 0, len(e.Missing))
	for _, m := range e.Missing {
		parts = append(parts, fmt.Sprintf("%s:%s (%s)", repoKey{m.RegistryID, m.Repository}, m.Tag, m.Reason))
	}
	return fmt.Sprintf("%d image(s) not found in ECR: %s; push them first, or pick another --from-label",
		len(e.Missing), strings.Join(parts, ", "))
}

// Unwrap makes errors.Is(err, ErrImageNotFound) true.
func (e *MissingError) Unwrap() error { return ErrImageNotFound }

// Resolve finds the image under each lookup's Tag (and FloatingTag) with
// one BatchGetImage call per repository (per 100 tags). The results are in
// the order of lookups. If some images are missing, the error is a
// *MissingError that lists all of them.
func (r *Registry) Resolve(ctx context.Context, lookups []Lookup) ([]Resolved, error) {
	type want struct{ tags []string }
	groups := map[repoKey]*want{}
	var order []repoKey
	for _, l := range lookups {
		if l.Repository == "" || l.Tag == "" {
			return nil, fmt.Errorf("resolve %q:%q: repository and tag are required", l.Repository, l.Tag)
		}
		k := repoKey{l.RegistryID, l.Repository}
		if groups[k] == nil {
			groups[k] = &want{}
			order = append(order, k)
		}
		groups[k].tags = append(groups[k].tags, l.Tag, l.FloatingTag)
	}

	answers := make(map[repoKey]*found, len(groups))
	noRepo := map[repoKey]bool{}
	for _, k := range order {
		f, err := r.fetch(ctx, k, groups[k].tags, nil)
		switch {
		case isNotFound(err, ErrRepositoryNotFound):
			noRepo[k] = true
		case err != nil:
			return nil, fmt.Errorf("resolve tags in %s: %w", k, err)
		default:
			answers[k] = f
		}
	}

	out := make([]Resolved, 0, len(lookups))
	var missing []Missing
	for _, l := range lookups {
		k := repoKey{l.RegistryID, l.Repository}
		if noRepo[k] {
			missing = append(missing, Missing{l.RegistryID, l.Repository, l.Tag, "repository not found"})
			continue
		}
		f := answers[k]
		img, ok := f.byTag[l.Tag]
		if !ok {
			missing = append(missing, Missing{l.RegistryID, l.Repository, l.Tag, failureReason(f.tagFailures[l.Tag])})
			continue
		}
		img.Tag = l.Tag
		res := Resolved{Lookup: l, Image: img}
		if l.FloatingTag != "" {
			if fl, ok := f.byTag[l.FloatingTag]; ok {
				fl.Tag = l.FloatingTag
				res.Floating = &fl
			} else if code := f.tagFailures[l.FloatingTag]; code != "" && code != ecrtypes.ImageFailureCodeImageNotFound {
				missing = append(missing, Missing{l.RegistryID, l.Repository, l.FloatingTag, failureReason(code)})
			}
		}
		out = append(out, res)
	}
	if len(missing) > 0 {
		return nil, &MissingError{Missing: missing}
	}
	return out, nil
}

func failureReason(code ecrtypes.ImageFailureCode) string {
	if code == "" {
		return string(ecrtypes.ImageFailureCodeImageNotFound)
	}
	return string(code)
}
