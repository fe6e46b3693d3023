package manifest

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// refs keeps, beside a decoded project, the nodes its cross-checks point
// at. Slices are parallel to the project's Images and Environments.
type refs struct {
	images        []*yaml.Node   // id node of each image
	imageServices [][]*yaml.Node // node of each service reference of each image
	services      []*yaml.Node   // id node of each service
	envs          []envRefs
}

type envRefs struct {
	id, tag, promotes *yaml.Node
	names             map[string]*yaml.Node // service_names key nodes
}

// crossCheck reports what no single value shows: duplicate ids and tags,
// references to unknown services and environments, services no image
// feeds (when requireFed), and promotion cycles.
func (d *decoder) crossCheck(p *Project, r *refs, requireFed bool) {
	imageFirst := map[string]*yaml.Node{}
	for i, img := range p.Images {
		d.dupID(imageFirst, r.images[i], "image", img.ID)
	}
	serviceFirst := map[string]*yaml.Node{}
	var serviceIDs []string
	for i, svc := range p.Services {
		if d.dupID(serviceFirst, r.services[i], "service", svc.ID) {
			serviceIDs = append(serviceIDs, svc.ID)
		}
	}
	fed := map[string]bool{}
	for i, img := range p.Images {
		seen := map[string]bool{}
		for j, id := range img.Services {
			n := r.imageServices[i][j]
			switch {
			case seen[id]:
				d.errorf(n, "remove one of them", "image %q lists service %q twice", img.ID, id)
			case serviceFirst[id] == nil:
				d.errorf(n, unknownHint(id, serviceIDs, "declare it under services:"), "image %q feeds service %q, which is not declared", img.ID, id)
			}
			seen[id] = true
			fed[id] = true
		}
	}
	if requireFed {
		for i, svc := range p.Services {
			if !fed[svc.ID] {
				d.errorf(r.services[i], "add "+svc.ID+" to the services: of the image(s) it runs, or remove it", "service %q is fed by no image", svc.ID)
			}
		}
	}
	d.checkEnvironments(p, r, serviceFirst, serviceIDs)
}

// dupID reports id when it was seen before; it returns whether id is new.
func (d *decoder) dupID(first map[string]*yaml.Node, n *yaml.Node, what, id string) bool {
	if id == "" {
		return false
	}
	if prev := first[id]; prev != nil {
		d.errorf(n, "give each "+what+" its own id", "duplicate %s id %q (first at line %d)", what, id, prev.Line)
		return false
	}
	first[id] = n
	return true
}

func (d *decoder) checkEnvironments(p *Project, r *refs, serviceFirst map[string]*yaml.Node, serviceIDs []string) {
	envFirst := map[string]*yaml.Node{}
	tagFirst := map[string]*yaml.Node{}
	var envIDs []string
	for i, env := range p.Environments {
		if !d.dupID(envFirst, r.envs[i].id, "environment", env.ID) {
			continue // a duplicate id is reported once, not again for its tag
		}
		envIDs = append(envIDs, env.ID)
		if prev := tagFirst[env.Tag]; prev != nil && env.Tag != "" {
			d.errorf(r.envs[i].tag, "give each environment its own tag", "environment %q uses the tag %q, as does the environment at line %d", env.ID, env.Tag, prev.Line)
		} else {
			tagFirst[env.Tag] = r.envs[i].tag
		}
		for id, k := range r.envs[i].names {
			if serviceFirst[id] == nil {
				d.errorf(k, unknownHint(id, serviceIDs, "declare it under services:"), "service_names of environment %q names service %q, which is not declared", env.ID, id)
			}
		}
	}
	for i, env := range p.Environments {
		n := r.envs[i].promotes
		switch {
		case env.PromotesFrom == "":
		case env.PromotesFrom == env.ID:
			d.errorf(n, "name the environment releases come from, e.g. stage", "environment %q promotes from itself", env.ID)
		case envFirst[env.PromotesFrom] == nil:
			d.errorf(n, unknownHint(env.PromotesFrom, envIDs, "name one of the project's environments"), "environment %q promotes from %q, which is not an environment of project %q", env.ID, env.PromotesFrom, p.ID)
		default:
			if cycle := promotionCycle(p, env); cycle != "" {
				d.errorf(n, "remove promotes_from from one of them", "promotion loop: %s", cycle)
			}
		}
	}
}

// promotionCycle returns "a <- b <- a" when following PromotesFrom from env
// comes back to env, or "".
func promotionCycle(p *Project, env *Environment) string {
	byID := map[string]*Environment{}
	for _, e := range p.Environments {
		if _, ok := byID[e.ID]; !ok {
			byID[e.ID] = e
		}
	}
	path := []string{env.ID}
	seen := map[string]bool{env.ID: true}
	for cur := byID[env.PromotesFrom]; cur != nil; cur = byID[cur.PromotesFrom] {
		path = append(path, cur.ID)
		if cur.ID == env.ID {
			return strings.Join(path, " <- ")
		}
		if seen[cur.ID] {
			return "" // a loop that does not involve env; reported on its own members
		}
		seen[cur.ID] = true
	}
	return ""
}

func unknownHint(got string, known []string, otherwise string) string {
	if h := didYouMean(got, known, "known ids"); strings.HasPrefix(h, "did you mean") {
		return h
	}
	if len(known) == 0 {
		return otherwise
	}
	return fmt.Sprintf("%s; known: %s", otherwise, strings.Join(known, ", "))
}
