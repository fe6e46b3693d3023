package deploy

import (
	"context"
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// DefaultLabel is the label a release is taken from when none is given.
const DefaultLabel = "latest"

// Prepare creates a release from a label: the digest the label points at
// for every image of the project. Every missing image is reported in one
// *MissingError.
func (d *Deployer) Prepare(ctx context.Context, in PrepareInput) (*history.Release, error) {
	s, ctx := d.newSession(ctx)
	rel, err := d.newRelease(ctx, s, in, "")
	if err != nil {
		return nil, err
	}
	if err := d.store.PutRelease(ctx, rel); err != nil {
		return nil, fmt.Errorf("store the new release of %s: %w", d.project.ID, err)
	}
	return rel, nil
}

// imagesAt asks for every image of the project under tag.
func (d *Deployer) imagesAt(tag string) []ImageQuery {
	queries := make([]ImageQuery, len(d.project.Images))
	for i, img := range d.project.Images {
		queries[i] = ImageQuery{Image: img, Tag: tag}
	}
	return queries
}

// newRelease resolves a label to a release without storing it. With a
// floating tag, it reads where that tag points in the same calls, for the
// deployment that follows.
func (d *Deployer) newRelease(ctx context.Context, s *session, in PrepareInput, floating string) (*history.Release, error) {
	label := in.Label
	if label == "" {
		label = DefaultLabel
	}
	if d.project.SSMImages != nil {
		return d.releaseFromSSM(ctx, s, in, label)
	}
	if len(d.project.Images) == 0 {
		return nil, invalid("project %s has no images: add them to the manifest", d.project.ID)
	}
	queries := d.imagesAt(label)
	if floating != "" && floating != label {
		queries = append(queries, d.imagesAt(floating)...)
	}
	refs, err := s.resolve(ctx, queries)
	if err != nil {
		return nil, fmt.Errorf("resolve label %s: %w", label, err)
	}
	refs = refs[:len(d.project.Images)]
	rel := &history.Release{
		Project:     d.project.ID,
		CreatedAt:   d.now(),
		RequestedBy: in.RequestedBy,
		Description: in.Description,
		Label:       label,
		CI:          in.CI,
		Images:      map[string]history.ImageRef{},
	}
	var missing []string
	for i, ref := range refs {
		img := d.project.Images[i]
		if ref == nil {
			missing = append(missing, fmt.Sprintf("%s (%s:%s)", img.ID, img.Repository, label))
			continue
		}
		r := *ref
		r.Tag = label
		rel.Images[img.ID] = r
	}
	if len(missing) > 0 {
		return nil, &MissingError{What: "image", Names: missing,
			Hint: "push them with the tag " + label + ", or pass another label"}
	}
	return rel, nil
}
