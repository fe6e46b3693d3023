package manifest

import (
	"fmt"
	"slices"
	"strings"
)

// floatingTag is one tag a deployment moves: a repository of a registry
// (account and region as written; empty means the credentials') and an
// environment's floating tag.
type floatingTag struct {
	account, region, repository, tag string
}

// tagOwner is the first image of a project found to move a floatingTag.
type tagOwner struct {
	project *Project
	image   *Image
}

// sharedTags reports two projects that would move the same floating tag
// of the same repository: each holds the lock of its own environments
// only, so they would move each other's tags, and neither's record would
// say what its environment runs. One error per image of the later
// project, naming the earlier one and every tag they share.
func (d *decoder) sharedTags(projects []*Project) {
	owners := map[floatingTag]tagOwner{}
	for _, p := range projects {
		for _, img := range p.Images {
			reg := img.registryIn(p)
			shared := map[*Project][]string{}
			var others []*Project
			for _, env := range p.Environments {
				key := floatingTag{reg.AccountID, reg.Region, img.Repository, env.Tag}
				if img.Repository == "" || env.Tag == "" {
					continue
				}
				prev, ok := owners[key]
				switch {
				case !ok:
					owners[key] = tagOwner{project: p, image: img}
				case prev.project != p:
					if _, seen := shared[prev.project]; !seen {
						others = append(others, prev.project)
					}
					if !slices.Contains(shared[prev.project], env.Tag) {
						shared[prev.project] = append(shared[prev.project], env.Tag)
					}
				}
			}
			for _, other := range others {
				d.reportSharedTags(p, img, other, shared[other])
			}
		}
	}
}

// reportSharedTags reports that img of project p moves tags of other's.
func (d *decoder) reportSharedTags(p *Project, img *Image, other *Project, tags []string) {
	var otherImages []string
	for _, o := range other.Images {
		if o.Repository == img.Repository && o.registryIn(other) == img.registryIn(p) {
			otherImages = append(otherImages, fmt.Sprintf("%q", o.ID))
		}
	}
	what := "the floating tag " + tags[0]
	if len(tags) > 1 {
		what = "the floating tags " + strings.Join(tags, ", ")
	}
	d.errorAt(img.Pos, fmt.Sprintf("two projects must not move one tag: give project %s's environments their own tags (e.g. tag: %s.%s), or the image its own repository", p.ID, tags[0], p.ID),
		"image %q of project %q and image %s of project %q (line %d) both move %s of repository %s",
		img.ID, p.ID, strings.Join(otherImages, ", "), other.ID, other.Pos.Line, what, img.Repository)
}

// registryIn is the registry img is in, whatever role reaches it.
func (img *Image) registryIn(p *Project) Registry {
	r := p.RegistryOf(img)
	r.RoleARN = "" // the role does not change which repository it is
	return r
}
