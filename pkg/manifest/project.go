package manifest

import (
	"fmt"
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
		return nil, fmt.Errorf("%s has %d projects (%s): pass --project with one of them", m.File, len(m.Projects), strings.Join(ids, ", "))
	}
	return nil, fmt.Errorf("%s has no project %q: pass --project with one of %s", m.File, id, strings.Join(ids, ", "))
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
	return nil, fmt.Errorf("project %s has no environment %q: use one of %s", p.ID, id, strings.Join(ids, ", "))
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

// ServicesFedBy returns the services the image imageID feeds, in the order
// the image lists them; nil for an unknown image.
func (p *Project) ServicesFedBy(imageID string) []*Service {
	img, err := p.Image(imageID)
	if err != nil {
		return nil
	}
	var out []*Service
	for _, id := range img.Services {
		if s, err := p.Service(id); err == nil {
			out = append(out, s)
		}
	}
	return out
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

// ServiceName returns the ECS service name of svc in this environment: the
// environment's override if it has one, else the service's name, else its
// id.
func (e *Environment) ServiceName(svc *Service) string {
	if n := e.ServiceNames[svc.ID]; n != "" {
		return n
	}
	if svc.Name != "" {
		return svc.Name
	}
	return svc.ID
}
