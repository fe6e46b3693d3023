package badinput_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusDir is the root of the bad-input corpus.
const corpusDir = "../../testdata/badinput"

// fileCase is one corpus file and the text its error must contain.
type fileCase struct {
	File string `json:"file"`
	Want string `json:"want"`
}

// loadCases reads dir/cases.json and checks that it and the directory
// agree: every file has a case and every case a file.
func loadCases(t *testing.T, dir string) []fileCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatalf("read the corpus index: %v", err)
	}
	var cases []fileCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("decode %s/cases.json: %v", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range cases {
		if c.Want == "" {
			t.Errorf("case %s names no expected error text", c.File)
		}
		listed[c.File] = true
	}
	for _, e := range entries {
		if e.Name() != "cases.json" && !listed[e.Name()] {
			t.Errorf("%s/%s has no case in cases.json", dir, e.Name())
		}
	}
	return cases
}

// noPanic runs fn and turns a panic into a test failure naming the case.
func noPanic(t *testing.T, name string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v\n%s", name, r, debug.Stack())
		}
	}()
	fn()
}

// within fails the test if fn takes longer than limit: bad input must be
// refused quickly (a YAML bomb must not expand).
func within(t *testing.T, name string, limit time.Duration, fn func()) {
	t.Helper()
	began := time.Now()
	fn()
	if took := time.Since(began); took > limit {
		t.Errorf("%s took %v, want under %v", name, took, limit)
	}
}

func wantError(t *testing.T, name string, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: accepted, want an error containing %q", name, want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: got error\n  %s\nwant it to contain\n  %s", name, firstLines(err.Error(), 5), want)
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append(slices.Clone(lines[:n]), fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return strings.Join(lines, "\n  ")
}
