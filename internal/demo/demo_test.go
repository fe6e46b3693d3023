package demo

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

var update = flag.Bool("update", false, "rewrite examples/demo/buoy.yaml")

// The demo's manifest is kept in examples/demo for people to read; it
// must be what the demo writes, and valid.
func TestDemoManifestIsValidAndCheckedIn(t *testing.T) {
	t.Parallel()
	got := New("shop").Manifest()
	path := filepath.Join("..", "..", "examples", "demo", "buoy.yaml")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the demo's manifest (run go test ./internal/demo -update):\n%s", path, got)
	}
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
