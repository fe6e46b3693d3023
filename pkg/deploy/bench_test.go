package deploy

import (
	"context"
	"fmt"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// bigProject returns a project of n images, each feeding its own service,
// with one stage environment on one cluster.
func bigProject(n int) *manifest.Project {
	p := &manifest.Project{ID: "big", Environments: []*manifest.Environment{
		{ID: "stage", Tag: "env.stage", Strategy: manifest.StrategyTag, Targets: []manifest.Target{{Cluster: "big-stage"}}},
	}}
	for i := range n {
		id := fmt.Sprintf("img%03d", i)
		p.Images = append(p.Images, &manifest.Image{ID: id, Repository: "big/" + id, Services: []string{"svc-" + id}})
		p.Services = append(p.Services, &manifest.Service{ID: "svc-" + id})
	}
	return p
}

// BenchmarkPreflight200 plans a release of 200 images feeding 200
// services against in-memory fakes: the CPU cost of checking and
// planning, without AWS.
func BenchmarkPreflight200(b *testing.B) {
	p := bigProject(200)
	w := newWorld()
	rel := &history.Release{ID: "01REL", Project: p.ID, Images: map[string]history.ImageRef{}}
	for _, img := range p.Images {
		w.push(img.Repository, oldDigest(img.ID), "env.stage")
		w.push(img.Repository, newDigest(img.ID), "latest")
		w.addService("big-stage", "svc-"+img.ID, map[string]string{img.ID: ecrHost + img.Repository + ":env.stage"})
		rel.Images[img.ID] = history.ImageRef{Repository: ecrHost + img.Repository, Tag: "latest", Digest: newDigest(img.ID)}
	}
	clock := newFakeClock()
	d, err := New(p, newStore(clock.Now), WithClock(clock),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{w}, nil }),
		WithCluster(func(cp ClusterParams) (Cluster, error) { return fakeCluster{w, cp.Target.Cluster}, nil }))
	if err != nil {
		b.Fatal(err)
	}
	env := p.Environments[0]
	b.ReportAllocs()
	for b.Loop() {
		s, ctx := d.newSession(context.Background())
		pl, err := d.preflight(ctx, s, env, rel, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(pl.services) != 200 || !pl.services[199].redeploy {
			b.Fatalf("plan: got %d services, want 200 to redeploy", len(pl.services))
		}
	}
}
