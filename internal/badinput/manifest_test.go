package badinput_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestManifestCorpus: every malformed manifest under
// testdata/badinput/manifest is refused with a *manifest.Error whose text
// contains the case's expected message, quickly and without a panic.
func TestManifestCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(corpusDir, "manifest")
	cases := loadCases(t, dir)
	if len(cases) < 50 {
		t.Errorf("manifest corpus: %d cases, want at least 50", len(cases))
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(c.File, filepath.Ext(c.File)), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(dir, c.File))
			if err != nil {
				t.Fatal(err)
			}
			parseBad(t, c.File, data, c.Want)
		})
	}
}

// parseBad parses data and checks it is refused as want says.
func parseBad(t *testing.T, file string, data []byte, want string) {
	t.Helper()
	var (
		m   *manifest.Manifest
		err error
	)
	noPanic(t, file, func() {
		within(t, file, 2*time.Second, func() { m, err = manifest.Parse(file, data) })
	})
	if m != nil {
		t.Errorf("%s: got a manifest, want none", file)
	}
	var merr *manifest.Error
	if err != nil && !errors.As(err, &merr) {
		t.Errorf("%s: error is %T, want *manifest.Error", file, err)
	}
	wantError(t, file, err, want)
	if err != nil && len(err.Error()) > 64<<10 {
		t.Errorf("%s: error is %d bytes; bad input must not make a flood of output", file, len(err.Error()))
	}
}

// TestManifestGeneratedBadInput covers inputs too big or too binary to
// keep as files: a file over the size limit, random bytes, a NUL, broken
// UTF-8, deep nesting and a very long key.
func TestManifestGeneratedBadInput(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	valid, err := os.ReadFile(filepath.Join(corpusDir, "..", "..", "pkg", "manifest", "testdata", "v1", "valid_minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"huge", append(bytes.Repeat([]byte("# padding padding padding padding\n"), manifest.MaxSize/34+1), valid...), "more than the 1048576 bytes buoy reads"},
		{"binary garbage", garbage, "the manifest is not UTF-8 text"},
		{"NUL byte", append(bytes.Clone(valid), 0), "the manifest is not UTF-8 text"},
		{"broken UTF-8", []byte("version: 1\nprojects:\n  - id: caf\xe9\n"), "the manifest is not UTF-8 text"},
		{"deep nesting", []byte("version: 1\nprojects: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"), "not valid YAML"},
		{"deep mapping nesting", []byte("version: 1\nprojects: " + strings.Repeat("{a: ", 20000) + "1" + strings.Repeat("}", 20000) + "\n"), "not valid YAML"},
		{"very long key", []byte("version: 1\n" + strings.Repeat("k", 200000) + ": 1\nprojects: []\n"), "could not find expected ':'"},
		{"UTF-16 with BOM", []byte("\xff\xfev\x00e\x00r\x00"), "the manifest is not UTF-8 text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parseBad(t, "generated.yaml", tc.data, tc.want)
		})
	}
}

// TestManifestErrorsStaySmall: a manifest with many errors, each quoting
// a huge value, is refused with a bounded number of errors (the first 50,
// then "and N more") that quote each value by its start and its length,
// a few KB in all.
func TestManifestErrorsStaySmall(t *testing.T) {
	t.Parallel()
	data := []byte(badinput.HugeAliasedManifest())
	if n := len(data); n < 460_000 || n > 470_000 {
		t.Fatalf("the manifest is %d bytes, want about 465 KB", n)
	}
	_, err := manifest.Parse("huge.yaml", data)
	var merr *manifest.Error
	if !errors.As(err, &merr) {
		t.Fatalf("Parse: %v, want a *manifest.Error", err)
	}
	const maxOutput = 16 << 10
	if n := len(err.Error()); n > maxOutput {
		t.Errorf("the errors are %d bytes, want at most %d", n, maxOutput)
	}
	if n := len(merr.Diagnostics); n > 51 {
		t.Errorf("%d diagnostics, want at most 50 and one that counts the rest", n)
	}
	last := merr.Diagnostics[len(merr.Diagnostics)-1].Message
	if !strings.HasPrefix(last, "and ") || !strings.HasSuffix(last, " more problems") {
		t.Errorf("last diagnostic = %q, want \"and N more problems\"", last)
	}
	want := `"` + strings.Repeat("A", 60) + `"…(400000 bytes)`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the errors do not quote the value as its start and its length (%s):\n%.2000s", want, err)
	}
}

// TestManifestLookups: a valid manifest asked for a project, environment,
// image or service it does not have says which ones it has.
func TestManifestLookups(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load(filepath.Join("..", "..", "pkg", "manifest", "testdata", "v1", "valid_full.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := m.Project("")
	if err != nil {
		t.Fatalf("Project: %v", err)
	}
	_, projectErr := m.Project("catalog")
	_, envErr := p.Environment("production")
	_, imageErr := p.Image("web")
	_, serviceErr := p.Service("search")
	_, findErr := manifest.Find(t.TempDir())
	_, loadErr := manifest.Load(filepath.Join(t.TempDir(), "missing.yaml"))
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unknown project", projectErr, `has no project "catalog": choose one of catalogue`},
		{"unknown environment", envErr, `project catalogue has no environment "production": use one of stage, prod`},
		{"unknown image", imageErr, `no image "web"`},
		{"unknown service", serviceErr, `no service "search"`},
		{"no manifest in a directory", findErr, "no manifest found in"},
		{"missing file", loadErr, "read manifest: stat"},
	}
	for _, tc := range tests {
		wantError(t, tc.name, tc.err, tc.want)
	}
	if !errors.Is(findErr, manifest.ErrNotFound) {
		t.Errorf("Find in an empty directory: got %v, want ErrNotFound", findErr)
	}
}
