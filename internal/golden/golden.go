// Package golden compares test output with files kept in the repository
// (golden files) and rewrites them when tests run with -update:
//
//	go test ./cmd/buoy -update
//
// Import it only from tests.
package golden

import (
	"flag"
	"os"
	"testing"
)

// update is the -update flag. A flag lives in the test binary's global
// flag set by nature; registering it here, once, is what lets every
// package's tests share it instead of each declaring its own.
var update = flag.Bool("update", false, "rewrite golden files with what the tests produce")

// Check compares got with the file at path and fails the test, showing
// both, when they differ. With -update it writes got to path first.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run the test with -update if the change is right):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
