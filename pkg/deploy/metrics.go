package deploy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/buoy-deploy/buoy/pkg/dora"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// MetricsInput asks for the DORA figures of one environment.
type MetricsInput struct {
	Environment string
	// Since starts the window measured; it ends now.
	Since time.Time
}

// MetricsReport is the DORA figures of one environment of the project,
// measured from its deployment records (dora.Compute).
type MetricsReport struct {
	Project     string `json:"project"`
	Environment string `json:"environment"`
	dora.Figures
}

// Metrics measures the deployments to an environment started since
// in.Since: deployment frequency, lead time (from when ECR says each
// image a change moved a tag to was pushed, one DescribeImages per
// repository and 100 images), change failure rate and time to restore.
// An environment the manifest does not have, or a window that does not
// end after it starts, is ErrInvalidInput.
func (d *Deployer) Metrics(ctx context.Context, in MetricsInput) (*MetricsReport, error) {
	if in.Environment == "" {
		return nil, invalid("metrics are of one environment: name it")
	}
	if _, err := d.environment(in.Environment); err != nil {
		return nil, err
	}
	now := d.now()
	if !in.Since.Before(now) {
		return nil, invalid("metrics since %s: that is not in the past; give a time before now (%s)",
			in.Since.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
	}
	deps, err := d.store.ListDeployments(ctx, d.project.ID, in.Environment, 0)
	if err != nil {
		return nil, fmt.Errorf("read the deployments of %s: %w", in.Environment, err)
	}
	s, ctx := d.newSession(ctx)
	pushed, err := d.pushTimes(ctx, s, deps, in.Since)
	if err != nil {
		return nil, err
	}
	f := dora.Compute(dora.Input{Deployments: deps, PushedAt: pushed, Since: in.Since.UTC(), Until: now})
	return &MetricsReport{Project: d.project.ID, Environment: in.Environment, Figures: f}, nil
}

// pushTimes asks the registries when the images the deployments started
// since moved a tag to were pushed. An image the manifest no longer has,
// or whose registry cannot tell, is left out: its lead time is unknown.
func (d *Deployer) pushTimes(ctx context.Context, s *session, deps []*history.Deployment, since time.Time) (map[dora.Image]time.Time, error) {
	type moved struct{ repository, digest string }
	byImage := map[string][]moved{} // by image id
	var ids []string
	for _, dep := range deps {
		if dep.StartedAt.Before(since) || dep.Status != history.StatusSucceeded || dep.RollbackOf != "" {
			continue
		}
		for id, tm := range dep.Images {
			if !tm.Moved || tm.To == "" {
				continue
			}
			if _, ok := byImage[id]; !ok {
				ids = append(ids, id)
			}
			byImage[id] = append(byImage[id], moved{tm.Repository, tm.To})
		}
	}
	slices.Sort(ids)
	out := map[dora.Image]time.Time{}
	for _, id := range ids {
		img, err := d.project.Image(id)
		if err != nil {
			continue // no longer in the manifest
		}
		reg, err := s.registry(ctx, img)
		if err != nil {
			return nil, err
		}
		pt, ok := reg.(pushTimer)
		if !ok {
			continue
		}
		var digests []string
		for _, m := range byImage[id] {
			digests = append(digests, m.digest)
		}
		times, err := pt.PushedAt(ctx, img, digests)
		if err != nil {
			return nil, fmt.Errorf("read when the images of %s were pushed: %w", img.Repository, err)
		}
		for _, m := range byImage[id] {
			if at, ok := times[m.digest]; ok {
				out[dora.Image{Repository: m.repository, Digest: m.digest}] = at
			}
		}
	}
	return out, nil
}
