package manifest

import (
	"fmt"
	"slices"
	"strings"
)

// Project returns the project with the given id. An empty id chooses the
// only project of a manifest that has one.
func (m *Manifest) Project(id string) (*Project, error) {
	ids := make([]string, len(m.Projects))
	for i, p := range m.Projects {
		if p.ID == id || (id == "" && len(m.Projects) == 1) {
			return p, nil
		}
		ids[i] = p.ID
	}
	if id == "" {
		return nil, fmt.Errorf("%s has %d projects: choose one of %s", m.File, len(m.Projects), strings.Join(ids, ", "))
	}
	return nil, fmt.Errorf("%s has no project %q: choose one of %s", m.File, id, strings.Join(ids, ", "))
}

// Environment returns the environment with the given id.
func (p *Project) Environment(id string) (*Environment, error) {
	ids := make([]string, len(p.Environments))
	for i, e := range p.Environments {
		if e.ID == id {
			return e, nil
		}
		ids[i] = e.ID
	}
	known := strings.Join(ids, ", ")
	if len(ids) == 0 {
		known = "(none: add environments to the manifest)"
	}
	if id == "" {
		return nil, fmt.Errorf("no environment given: pass one of %s", known)
	}
	return nil, fmt.Errorf("project %s has no environment %q: use one of %s", p.ID, id, known)
}

// Image returns the image with the given id.
func (p *Project) Image(id string) (*Image, error) {
	ids := make([]string, len(p.Images))
	for i, img := range p.Images {
		if img.ID == id {
			return img, nil
		}
		ids[i] = img.ID
	}
	return nil, fmt.Errorf("project %s has no image %q: use one of %s", p.ID, id, strings.Join(ids, ", "))
}

// Service returns the service with the given id.
func (p *Project) Service(id string) (*Service, error) {
	ids := make([]string, len(p.Services))
	for i, s := range p.Services {
		if s.ID == id {
			return s, nil
		}
		ids[i] = s.ID
	}
	return nil, fmt.Errorf("project %s has no service %q: use one of %s", p.ID, id, strings.Join(ids, ", "))
}

// ImagesFeeding returns the images that feed the service serviceID, in
// manifest order.
func (p *Project) ImagesFeeding(serviceID string) []*Image {
	var out []*Image
	for _, img := range p.Images {
		for _, id := range img.Services {
			if id == serviceID {
				out = append(out, img)
				break
			}
		}
	}
	return out
}

// ServiceName returns what svc is found by in this environment: with
// FindByTags, the value of its deployment:service tag, its id; else its
// ECS service name: the environment's override if it has one, else the
// service's name, else its id.
func (e *Environment) ServiceName(svc *Service) string {
	if e.FindByTags {
		return svc.ID
	}
	if n := e.ServiceNames[svc.ID]; n != "" {
		return n
	}
	if svc.Name != "" {
		return svc.Name
	}
	return svc.ID
}

// ServiceNamed returns the service that env finds by name (ServiceName),
// or nil.
func (p *Project) ServiceNamed(env *Environment, name string) *Service {
	for _, svc := range p.Services {
		if env.ServiceName(svc) == name {
			return svc
		}
	}
	return nil
}

// ServicesOf returns the services of the project that target t runs:
// all, unless the target names some (legacy per-service roles and
// regions).
func (p *Project) ServicesOf(t Target) []*Service {
	if len(t.Services) == 0 {
		return p.Services
	}
	var out []*Service
	for _, svc := range p.Services {
		if slices.Contains(t.Services, svc.ID) {
			out = append(out, svc)
		}
	}
	return out
}

// RegistryOf returns the registry img lives in and how to reach it: the
// image's own account, region and role, field by field, over the
// project's.
func (p *Project) RegistryOf(img *Image) Registry {
	r := p.Registry
	if img.Registry.AccountID != "" {
		r.AccountID = img.Registry.AccountID
	}
	if img.Registry.Region != "" {
		r.Region = img.Registry.Region
	}
	if img.Registry.RoleARN != "" {
		r.RoleARN = img.Registry.RoleARN
	}
	return r
}
