//go:build integration

package buildinfo_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/cihost"
)

// TestGoInstallPrintsTheModuleVersion installs the CLI, the Action and
// the plugin the way a user does, `go install
// github.com/buoy-deploy/buoy/cmd/buoy@<version>`, from a module proxy on
// disk that serves this checkout as that version, and checks that each
// binary, stamped by no release, prints that version.
func TestGoInstallPrintsTheModuleVersion(t *testing.T) {
	t.Parallel()
	const module = "github.com/buoy-deploy/buoy"
	// A version of its own per run: the module cache is shared, and this
	// test removes what it put there.
	version := fmt.Sprintf("v1.98.7-test.%d", time.Now().UnixNano())
	proxy := t.TempDir()
	serveModule(t, proxy, module, version)

	modcache := goEnv(t, "GOMODCACHE")
	t.Cleanup(func() {
		_ = os.RemoveAll(filepath.Join(modcache, module+"@"+version))
		_ = os.Remove(filepath.Dir(filepath.Join(modcache, module))) // github.com/buoy-deploy, once empty
		matches, _ := filepath.Glob(filepath.Join(modcache, "cache", "download", module, "@v", version+".*"))
		for _, m := range matches {
			_ = os.Remove(m)
		}
		// The version list go cached, and the directories, once empty.
		at := filepath.Join(modcache, "cache", "download", module, "@v")
		_ = os.Remove(filepath.Join(at, "list"))
		for d := at; d != filepath.Join(modcache, "cache", "download"); d = filepath.Dir(d) {
			if os.Remove(d) != nil {
				break
			}
		}
	})

	bin := t.TempDir()
	install := exec.Command("go", "install", module+"/cmd/buoy@"+version, module+"/action@"+version, module+"/buildkite-plugin@"+version)
	install.Dir = t.TempDir() // outside this module, as a user runs it
	install.Env = append(os.Environ(),
		"GOBIN="+bin,
		// This proxy for buoy, the module cache's downloads for its
		// dependencies: nothing is fetched from the network.
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(modcache, "cache", "download")),
		"GOSUMDB=off", "GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GOWORK=off")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ...@%s: %v\n%s", version, err, out)
	}
	for _, b := range []struct{ file, name string }{
		{"buoy", "buoy version"},
		{"action", "buoy-action"},
		{"buildkite-plugin", "buoy-buildkite-plugin"},
	} {
		out, err := exec.Command(filepath.Join(bin, b.file), "--version").CombinedOutput()
		if got, want := strings.TrimSpace(string(out)), b.name+" "+version; err != nil || got != want {
			t.Errorf("%s --version = %q (%v), want %q", b.file, got, err, want)
		}
	}
}

// serveModule lays out, under dir, what a module proxy serves for module
// at version (list, .info, .mod, .zip), from this checkout's files: those
// git tracks or would track, without the nested modules (tools/...).
func serveModule(t *testing.T, dir, module, version string) {
	t.Helper()
	root := cihost.Root()
	ls := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	nested := map[string]bool{}
	for _, f := range files {
		if d := filepath.Dir(f); filepath.Base(f) == "go.mod" && d != "." {
			nested[d] = true
		}
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for _, f := range files {
		if inNested(f, nested) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(module + "@" + version + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(dir, filepath.FromSlash(module), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": fmt.Appendf(nil, `{"Version":%q,"Time":%q}`, version, time.Now().UTC().Format(time.RFC3339)),
		version + ".mod":  gomod,
		version + ".zip":  zipped.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(at, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inNested reports whether file lies in one of the nested modules' dirs.
func inNested(file string, nested map[string]bool) bool {
	for d := filepath.Dir(file); d != "."; d = filepath.Dir(d) {
		if nested[d] {
			return true
		}
	}
	return false
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
