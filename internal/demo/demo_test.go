package demo

import (
	"path/filepath"
	"testing"

	"github.com/buoy-deploy/buoy/internal/golden"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// The demo's manifest is kept in examples/demo for people to read; it
// must be what the demo writes, and valid.
func TestDemoManifestIsValidAndCheckedIn(t *testing.T) {
	t.Parallel()
	got := World("shop").YAML()
	path := filepath.Join("..", "..", "examples", "demo", "buoy.yaml")
	golden.Check(t, path, got)
	m, err := manifest.Parse("buoy.yaml", []byte(got))
	if err != nil {
		t.Fatalf("the demo's manifest does not parse: %v", err)
	}
	p, err := m.Project("shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Images) != 3 || len(p.ImagesFeeding("web")) != 2 || len(p.Environments) != 2 {
		t.Errorf("project: got %d images, %d feeding web, %d environments; want 3, 2, 2",
			len(p.Images), len(p.ImagesFeeding("web")), len(p.Environments))
	}
}
