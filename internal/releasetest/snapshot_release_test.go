//go:build release

package releasetest_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/releasetest"
)

// artifact is an entry of goreleaser's dist/artifacts.json.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
	Extra  struct {
		Binary string `json:"Binary"`
	} `json:"extra"`
}

// snapshot is a release goreleaser built from this checkout.
type snapshot struct {
	dist      string
	assets    string // a directory of the release's assets by name, as GitHub serves them
	version   string // 1.2.3-SNAPSHOT-abc, as goreleaser's .Version
	tag       string // the tag the release's URLs name
	artifacts []artifact
	checksums map[string]string // asset -> sha256
}

// TestSnapshotRelease is `make release-check`: the release short of
// publishing it. The pinned goreleaser (tools/goreleaser) checks
// .goreleaser.yaml and builds a snapshot release from it with the pinned
// syft (tools/syft) writing the SBOMs, as .github/workflows/release.yml
// does but without publishing or signing (which need GitHub and its OIDC
// identity). Then it checks what users get: the assets the Action, the
// plugin and people download, under those names, matching checksums.txt;
// binaries that say the release's version; an SBOM of each asset; the
// Homebrew cask; and action.yml and hooks/command installing the
// release's real binaries from it.
func TestSnapshotRelease(t *testing.T) {
	root := cihost.Root()
	goreleaser, syft := tool(t, root, "goreleaser"), tool(t, root, "syft")
	env := append(os.Environ(), "PATH="+filepath.Dir(syft)+string(os.PathListSeparator)+os.Getenv("PATH"))
	run(t, root, env, goreleaser, "check")

	// The same configuration, building into a directory of this test's.
	dist := filepath.Join(t.TempDir(), "dist")
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "goreleaser.yaml")
	if err := os.WriteFile(config, append(b, "\ndist: "+dist+"\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root, env, goreleaser, "release", "--snapshot", "--clean", "--skip=publish,sign", "-f", config)
	s := readSnapshot(t, dist)
	t.Logf("snapshot release %s (tag %s) in %s", s.version, s.tag, dist)
	cfg := releasetest.Read(t, root)

	t.Run("checksums list what is downloaded", func(t *testing.T) {
		var want []string
		for _, pkg := range []string{"./action", "./buildkite-plugin"} {
			want = append(want, slices.Collect(maps.Values(releasetest.BareAssets(t, cfg, pkg)))...)
		}
		for _, platform := range []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"} {
			want = append(want, "buoy_"+s.version+"_"+platform+".tar.gz")
		}
		for _, asset := range slices.Clone(want) {
			want = append(want, asset+".sbom.json")
		}
		if got := slices.Sorted(maps.Keys(s.checksums)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("checksums.txt lists\n%v\nwant what action/install.sh, hooks/command and the docs name, and an SBOM of each:\n%v", got, slices.Sorted(slices.Values(want)))
		}
		for name, sum := range s.checksums {
			if got := fileSHA256(t, filepath.Join(s.assets, name)); got != sum {
				t.Errorf("%s: sha256 %s, checksums.txt says %s", name, got, sum)
			}
		}
	})

	t.Run("README's sha256sum check passes for a download and fails for a changed one", func(t *testing.T) {
		var check string
		for _, c := range verifyCommands(t) {
			if strings.HasPrefix(c, "sha256sum ") {
				check = c
			}
		}
		if check == "" {
			t.Fatal("README.md's verify commands have no sha256sum")
		}
		// A user's download directory: checksums.txt and one tarball.
		dir := t.TempDir()
		tarball := "buoy_" + s.version + "_linux_amd64.tar.gz"
		for _, name := range []string{"checksums.txt", tarball} {
			b, err := os.ReadFile(filepath.Join(s.assets, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("bash", "-c", check)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), tarball+": OK") {
			t.Errorf("%s: %v\n%s", check, err, out)
		}
		f, err := os.OpenFile(filepath.Join(dir, tarball), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = f.WriteString("changed")
		_ = f.Close()
		cmd = exec.Command("bash", "-c", check)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("%s passed for a changed %s:\n%s", check, tarball, out)
		}
	})

	t.Run("every binary says the release's version", func(t *testing.T) {
		for _, a := range s.artifacts {
			// Each built binary (the uploaded ones are the same files
			// under their asset names).
			if a.Type != "Binary" || a.Name != a.Extra.Binary || a.Goos != runtime.GOOS || a.Goarch != runtime.GOARCH {
				continue
			}
			want := a.Name + " v" + s.version
			if a.Name == "buoy" {
				want = "buoy version v" + s.version
			}
			if got := output(t, a.Path, "--version"); got != want {
				t.Errorf("%s --version = %q, want %q", a.Path, got, want)
			}
		}
		tarball := filepath.Join(s.assets, "buoy_"+s.version+"_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
		files := untar(t, tarball, t.TempDir())
		for _, f := range []string{"buoy", "LICENSE", "README.md", "docs/cli.md"} {
			if !slices.Contains(files, f) {
				t.Errorf("%s holds %v, want %s", filepath.Base(tarball), files, f)
			}
		}
	})

	t.Run("an SBOM of each asset", func(t *testing.T) {
		for name := range s.checksums {
			if !strings.HasSuffix(name, ".sbom.json") {
				continue
			}
			var doc struct {
				SPDXVersion string `json:"spdxVersion"`
				Packages    []struct {
					Name string `json:"name"`
				} `json:"packages"`
			}
			readJSON(t, filepath.Join(s.assets, name), &doc)
			var packages []string
			for _, p := range doc.Packages {
				packages = append(packages, p.Name)
			}
			if !strings.HasPrefix(doc.SPDXVersion, "SPDX-2.") || !slices.Contains(packages, "github.com/aws/aws-sdk-go-v2") {
				t.Errorf("%s: %s listing %d packages, want an SPDX document that lists buoy's modules (github.com/aws/aws-sdk-go-v2)", name, doc.SPDXVersion, len(packages))
			}
		}
	})

	t.Run("the Homebrew cask installs the CLI's tarballs", func(t *testing.T) {
		checkCask(t, s)
	})

	t.Run("action.yml runs the release's buoy-action", func(t *testing.T) {
		srv := serveRelease(t, s)
		c := cihost.NewCompositeAction(t)
		c.Ref, c.Repository = "v"+s.version, "buoy-deploy/buoy"
		c.Env["BUOY_RELEASE_SERVER"] = srv.URL
		c.Env["RUNNER_OS"] = map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
		c.Env["RUNNER_ARCH"] = map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
		c.Inputs["command"] = "promote" // refused: promote needs an environment
		res := c.Run(t)
		if res.FailedStep != "buoy" || res.Outputs["status"] != "invalid" {
			t.Errorf("exit %d in step %q, status %q; want the release's buoy-action to refuse promote without an environment", res.ExitCode, res.FailedStep, res.Outputs["status"])
		}
		bin := res.Steps["install"]["bin"]
		if got, want := output(t, bin, "--version"), "buoy-action v"+s.version; got != want {
			t.Errorf("the installed %s says %q, want %q", bin, got, want)
		}
	})

	t.Run("hooks/command runs the release's plugin binary", func(t *testing.T) {
		releases := t.TempDir()
		if err := os.Symlink(s.assets, filepath.Join(releases, "v"+s.version)); err != nil {
			t.Fatal(err)
		}
		cache := t.TempDir()
		cmd := exec.Command("bash", filepath.Join(root, "hooks", "command"))
		cmd.Env = append(os.Environ(), "BUOY_CACHE_DIR="+cache, "BUOY_RELEASE_BASE_URL=file://"+releases,
			`BUILDKITE_PLUGIN_CONFIGURATION={"version":"v`+s.version+`"}`)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), `option "environment" is missing`) {
			t.Errorf("hooks/command did not run the release's binary (which refuses a configuration without environment):\n%s", out)
		}
		bins, _ := filepath.Glob(filepath.Join(cache, "*", "buoy-buildkite-plugin_*"))
		if len(bins) != 1 {
			t.Fatalf("the plugin's cache holds %v, want the one binary", bins)
		}
		if got, want := output(t, bins[0], "--version"), "buoy-buildkite-plugin v"+s.version; got != want {
			t.Errorf("the cached %s says %q, want %q", bins[0], got, want)
		}
	})
}

// tool returns the path of a pinned release tool, which `make
// release-check` builds into .tools/.
func tool(t *testing.T, root, name string) string {
	t.Helper()
	path := filepath.Join(root, ".tools", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s is not built (%v): run `make .tools/%s` (it builds the version pinned in tools/%s/go.mod), or `make release-check`", name, err, name, name)
	}
	return path
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Errorf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readSnapshot(t *testing.T, dist string) snapshot {
	t.Helper()
	s := snapshot{dist: dist, checksums: map[string]string{}}
	var meta struct {
		Version string `json:"version"`
		Tag     string `json:"tag"`
	}
	readJSON(t, filepath.Join(dist, "metadata.json"), &meta)
	s.version, s.tag = meta.Version, meta.Tag
	if s.version == "" || s.tag == "" {
		t.Fatalf("dist/metadata.json names version %q, tag %q", s.version, s.tag)
	}
	readJSON(t, filepath.Join(dist, "artifacts.json"), &s.artifacts)
	f, err := os.Open(filepath.Join(dist, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("checksums.txt line %q, want \"<sha256>  <name>\"", sc.Text())
		}
		s.checksums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// The release's assets: what checksums.txt lists, and checksums.txt.
	s.assets = filepath.Join(filepath.Dir(dist), "assets")
	if err := os.MkdirAll(s.assets, 0o755); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{"checksums.txt": filepath.Join(dist, "checksums.txt")}
	for _, a := range s.artifacts {
		if _, ok := s.checksums[a.Name]; ok {
			paths[a.Name] = a.Path
		}
	}
	for name := range s.checksums {
		if paths[name] == "" {
			t.Fatalf("checksums.txt lists %s, which dist/artifacts.json does not", name)
		}
	}
	for name, path := range paths {
		if err := os.Symlink(path, filepath.Join(s.assets, name)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// untar extracts a tarball into dir and returns the names it holds.
func untar(t *testing.T, path, dir string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		names = append(names, h.Name)
	}
}

var caskStanza = regexp.MustCompile(`(?m)^\s*(version|sha256|url|binary) "([^"]*)"`)

// checkCask reads the generated cask: its version, each platform's url
// and sha256, and the binary it installs.
func checkCask(t *testing.T, s snapshot) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dist, "homebrew", "Casks", "buoy.rb"))
	if err != nil {
		t.Fatalf("goreleaser wrote no cask: %v", err)
	}
	var version, sha string
	var urls, binaries []string
	for _, m := range caskStanza.FindAllStringSubmatch(string(b), -1) {
		switch m[1] {
		case "version":
			version = m[2]
		case "sha256":
			sha = m[2]
		case "url":
			url := strings.ReplaceAll(m[2], "#{version}", version)
			urls = append(urls, url)
			name := url[strings.LastIndex(url, "/")+1:]
			if want := "https://github.com/buoy-deploy/buoy/releases/download/" + s.tag + "/" + name; url != want {
				t.Errorf("cask url %s, want %s", url, want)
			}
			if sha != s.checksums[name] || sha == "" {
				t.Errorf("cask sha256 of %s is %q, checksums.txt says %q", name, sha, s.checksums[name])
			}
			sha = ""
		case "binary":
			binaries = append(binaries, m[2])
		}
	}
	if version != s.version {
		t.Errorf("cask version %q, want %q", version, s.version)
	}
	if len(urls) != 4 {
		t.Errorf("cask urls %v, want the 4 CLI tarballs (linux and darwin, amd64 and arm64)", urls)
	}
	if !slices.Equal(binaries, []string{"buoy"}) {
		t.Errorf("cask binaries %v, want [buoy]", binaries)
	}
}

// serveRelease serves the snapshot as GitHub serves a release's assets.
func serveRelease(t *testing.T, s snapshot) *httptest.Server {
	t.Helper()
	prefix := "/buoy-deploy/buoy/releases/download/v" + s.version + "/"
	srv := httptest.NewServer(http.StripPrefix(prefix, http.FileServer(http.Dir(s.assets))))
	t.Cleanup(srv.Close)
	return srv
}
