package golden_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/buoy-deploy/buoy/internal/golden"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, path, got string
		fail            bool
	}{
		{"equal", path, "same\n", false},
		{"differs", path, "other\n", true},
		{"missing file", filepath.Join(t.TempDir(), "none"), "x", true},
	} {
		r := &recorder{TB: t}
		golden.Check(r, tt.path, tt.got)
		if r.failed != tt.fail {
			t.Errorf("%s: failed = %v, want %v", tt.name, r.failed, tt.fail)
		}
	}
}
