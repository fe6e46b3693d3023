package releasetest_test

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/buoy-deploy/buoy/internal/cihost"
)

// step is a step of a workflow job.
type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// job is a workflow job.
type job struct {
	Needs       yaml.Node         `yaml:"needs"`
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Steps       []step            `yaml:"steps"`
}

// needs returns the jobs j needs (needs: is a name or a list).
func (j job) needs(t *testing.T) []string {
	t.Helper()
	var one string
	if j.Needs.Decode(&one) == nil && one != "" {
		return []string{one}
	}
	var many []string
	if err := j.Needs.Decode(&many); err != nil && !j.Needs.IsZero() {
		t.Fatalf("needs: %v", err)
	}
	return many
}

// step returns the index of the first step that uses action (owner/repo
// or owner/repo/path, without the ref), or -1.
func (j job) step(action string) int {
	return slices.IndexFunc(j.Steps, func(s step) bool {
		name, _, _ := strings.Cut(s.Uses, "@")
		return name == action
	})
}

type workflow struct {
	On struct {
		Push struct {
			Tags []string `yaml:"tags"`
		} `yaml:"push"`
	} `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]job    `yaml:"jobs"`
}

func readWorkflow(t *testing.T) (workflow, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cihost.Root(), ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var w workflow
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	return w, string(b)
}

var usesLine = regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)

// TestReleaseWorkflowPinsEveryActionBySHA: a tag can be moved to other
// code; a commit SHA cannot. Each action is pinned by its full SHA with
// the version it stands for in a comment, and one action is pinned to
// one SHA throughout.
func TestReleaseWorkflowPinsEveryActionBySHA(t *testing.T) {
	t.Parallel()
	_, text := readWorkflow(t)
	pinned := regexp.MustCompile(`^([\w.-]+/[\w.-]+(?:/[\w./-]+)?)@([0-9a-f]{40})$`)
	version := regexp.MustCompile(`^\s*#\s*v\d+(\.\d+)*\s*$`)
	shas := map[string]string{}
	matches := usesLine.FindAllStringSubmatch(text, -1)
	if len(matches) == 0 {
		t.Fatal("release.yml uses no action")
	}
	for _, m := range matches {
		p := pinned.FindStringSubmatch(m[1])
		if p == nil {
			t.Errorf("uses: %s: pin it by its full commit SHA (owner/repo@<40 hex digits> # vX.Y.Z)", m[1])
			continue
		}
		if !version.MatchString(m[2]) {
			t.Errorf("uses: %s%s: want the version the SHA stands for in a comment (# vX.Y.Z)", m[1], m[2])
		}
		if sha, ok := shas[p[1]]; ok && sha != p[2] {
			t.Errorf("%s is pinned to %s and to %s: pin it to one", p[1], sha, p[2])
		}
		shas[p[1]] = p[2]
	}
}

// TestReleaseWorkflowRunsThePinnedTools: the release is built by the
// goreleaser and syft that `make release-check` tests (tools/goreleaser,
// tools/syft), with the Go of go.mod.
func TestReleaseWorkflowRunsThePinnedTools(t *testing.T) {
	t.Parallel()
	w, _ := readWorkflow(t)
	bin := w.Jobs["binaries"]
	for _, tt := range []struct {
		action, input, module, toolsDir string
	}{
		{"goreleaser/goreleaser-action", "version", "github.com/goreleaser/goreleaser/v2", "goreleaser"},
		{"anchore/sbom-action/download-syft", "syft-version", "github.com/anchore/syft", "syft"},
	} {
		i := bin.step(tt.action)
		if i < 0 {
			t.Errorf("job binaries does not use %s", tt.action)
			continue
		}
		want := moduleVersion(t, filepath.Join(cihost.Root(), "tools", tt.toolsDir, "go.mod"), tt.module)
		if got := bin.Steps[i].With[tt.input]; got != want {
			t.Errorf("%s: %s %q, want %q, the version tools/%s/go.mod pins for make release-check", tt.action, tt.input, got, want, tt.toolsDir)
		}
	}
	if i := bin.step("goreleaser/goreleaser-action"); i >= 0 {
		if s := bin.Steps[i]; s.With["distribution"] != "goreleaser" || s.With["args"] != "release --clean" {
			t.Errorf("goreleaser-action with %v, want distribution goreleaser, args release --clean", s.With)
		}
	}
	for name, j := range w.Jobs {
		if i := j.step("actions/setup-go"); i >= 0 && j.Steps[i].With["go-version-file"] != "go.mod" {
			t.Errorf("job %s: setup-go with %v, want go-version-file: go.mod", name, j.Steps[i].With)
		}
	}
}

// moduleVersion returns the version of module a go.mod requires.
func moduleVersion(t *testing.T, gomod, module string) string {
	t.Helper()
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(module) + `\s+(v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s does not require %s", gomod, module)
	}
	return string(m[1])
}

// TestReleaseWorkflowSignsAttestsAndStamps: a version tag runs `make
// test` first; then the binaries are published with signed checksums,
// SBOMs and provenance; the image is built from the Dockerfile stamped
// with the tag, for amd64 and arm64, with its SBOM and provenance,
// signed and attested; and only then does the major tag move.
func TestReleaseWorkflowSignsAttestsAndStamps(t *testing.T) {
	t.Parallel()
	w, _ := readWorkflow(t)
	if !slices.Equal(w.On.Push.Tags, []string{"v*.*.*"}) {
		t.Errorf("on.push.tags = %v, want [v*.*.*] (releases and prereleases, not the major tags the workflow moves)", w.On.Push.Tags)
	}
	if len(w.Permissions) != 0 {
		t.Errorf("permissions = %v, want {}: each job asks for what it needs", w.Permissions)
	}
	for _, name := range []string{"test", "binaries", "image", "major-tag"} {
		if _, ok := w.Jobs[name]; !ok {
			t.Fatalf("release.yml has no job %s", name)
		}
	}
	if test := w.Jobs["test"]; !slices.ContainsFunc(test.Steps, func(s step) bool { return s.Run == "make test" }) {
		t.Error("job test does not run make test")
	}
	for _, name := range []string{"binaries", "image"} {
		if got := w.Jobs[name].needs(t); !slices.Equal(got, []string{"test"}) {
			t.Errorf("job %s needs %v, want [test]: nothing is published unless make test passes", name, got)
		}
		for perm, want := range map[string]string{"id-token": "write", "attestations": "write"} {
			if got := w.Jobs[name].Permissions[perm]; got != want {
				t.Errorf("job %s: permission %s %q, want %q (keyless signing and attestations)", name, perm, got, want)
			}
		}
	}

	bin := w.Jobs["binaries"]
	release := bin.step("goreleaser/goreleaser-action")
	for _, before := range []string{"sigstore/cosign-installer", "anchore/sbom-action/download-syft"} {
		if i := bin.step(before); i < 0 || i > release {
			t.Errorf("job binaries: %s must run before goreleaser, which signs with cosign and writes SBOMs with syft", before)
		}
	}
	if i := bin.step("actions/attest-build-provenance"); i < release || bin.Steps[i].With["subject-checksums"] != "dist/checksums.txt" {
		t.Error("job binaries: after goreleaser, attest-build-provenance with subject-checksums: dist/checksums.txt (every asset)")
	}
	if got := bin.Permissions["contents"]; got != "write" {
		t.Errorf("job binaries: permission contents %q, want write (the release)", got)
	}

	img := w.Jobs["image"]
	if img.Env["IMAGE"] != "ghcr.io/buoy-deploy/buoy" {
		t.Errorf("job image: IMAGE %q, want ghcr.io/buoy-deploy/buoy", img.Env["IMAGE"])
	}
	build := img.step("docker/build-push-action")
	if build < 0 {
		t.Fatal("job image does not use docker/build-push-action")
	}
	want := map[string]string{
		"context":    ".",
		"platforms":  "linux/amd64,linux/arm64",
		"build-args": "VERSION=${{ github.ref_name }}",
		"tags":       "${{ env.IMAGE }}:${{ github.ref_name }}",
		"push":       "true",
		"sbom":       "true",
		"provenance": "mode=max",
	}
	if got := img.Steps[build].With; !maps.Equal(got, want) {
		t.Errorf("build-push-action with %v,\nwant %v", got, want)
	}
	id := img.Steps[build].ID
	sign := slices.IndexFunc(img.Steps, func(s step) bool { return strings.Contains(s.Run, "cosign sign") })
	if sign < build || img.Steps[sign].Env["DIGEST"] != "${{ steps."+id+".outputs.digest }}" || !strings.Contains(img.Steps[sign].Run, `"$IMAGE@$DIGEST"`) {
		t.Error("job image: after the build, cosign sign \"$IMAGE@$DIGEST\" with the digest the build pushed")
	}
	if c := img.step("sigstore/cosign-installer"); c < 0 || c > sign {
		t.Error("job image: sigstore/cosign-installer must run before cosign sign")
	}
	attest := img.step("actions/attest-build-provenance")
	if attest < build || !maps.Equal(img.Steps[attest].With, map[string]string{"subject-name": "${{ env.IMAGE }}",
		"subject-digest": "${{ steps." + id + ".outputs.digest }}", "push-to-registry": "true"}) {
		t.Error("job image: after the build, attest-build-provenance of the pushed digest, pushed to the registry")
	}

	major := w.Jobs["major-tag"]
	if got := major.needs(t); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"binaries", "image"}) {
		t.Errorf("job major-tag needs %v, want binaries and image: v1 moves only to a published release", got)
	}
	moves := slices.ContainsFunc(major.Steps, func(s step) bool {
		return s.Run == `scripts/move-major-tag "$TAG"` && s.Env["TAG"] == "${{ github.ref_name }}"
	})
	if !moves || major.Permissions["contents"] != "write" {
		t.Error("job major-tag: with contents: write, run scripts/move-major-tag \"$TAG\" with TAG ${{ github.ref_name }}")
	}
}

// TestHomebrewCaskIsPublishedWhereTheDocsSay: `brew install --cask
// buoy-deploy/tap/buoy` (README.md) reads the cask buoy from the
// repository buoy-deploy/homebrew-tap, which goreleaser pushes to with
// the token the workflow gives it, except for a prerelease.
func TestHomebrewCaskIsPublishedWhereTheDocsSay(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(cihost.Root(), ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		HomebrewCasks []struct {
			Name       string `yaml:"name"`
			SkipUpload string `yaml:"skip_upload"`
			Repository struct {
				Owner string `yaml:"owner"`
				Name  string `yaml:"name"`
				Token string `yaml:"token"`
			} `yaml:"repository"`
		} `yaml:"homebrew_casks"`
		Release struct {
			Prerelease string `yaml:"prerelease"`
		} `yaml:"release"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.HomebrewCasks) != 1 {
		t.Fatalf(".goreleaser.yaml has %d homebrew_casks, want 1", len(cfg.HomebrewCasks))
	}
	cask := cfg.HomebrewCasks[0]
	readme, err := os.ReadFile(filepath.Join(cihost.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// brew's tap owner/x is the repository owner/homebrew-x.
	install := "brew install --cask " + cask.Repository.Owner + "/" + strings.TrimPrefix(cask.Repository.Name, "homebrew-") + "/" + cask.Name
	if !strings.HasPrefix(cask.Repository.Name, "homebrew-") || !strings.Contains(string(readme), install) {
		t.Errorf("the cask %s goes to %s/%s; README.md should say `%s`", cask.Name, cask.Repository.Owner, cask.Repository.Name, install)
	}
	if cask.SkipUpload != "auto" || cfg.Release.Prerelease != "auto" {
		t.Errorf("skip_upload %q, release.prerelease %q; want auto for both, so that a prerelease (v1.3.0-rc.1) does not reach the tap", cask.SkipUpload, cfg.Release.Prerelease)
	}
	w, _ := readWorkflow(t)
	bin := w.Jobs["binaries"]
	i := bin.step("goreleaser/goreleaser-action")
	if cask.Repository.Token != "{{ .Env.HOMEBREW_TAP_GITHUB_TOKEN }}" || i < 0 ||
		bin.Steps[i].Env["HOMEBREW_TAP_GITHUB_TOKEN"] != "${{ secrets.HOMEBREW_TAP_GITHUB_TOKEN }}" {
		t.Error("goreleaser must push the cask with HOMEBREW_TAP_GITHUB_TOKEN, which the workflow passes from the secret of that name")
	}
}
