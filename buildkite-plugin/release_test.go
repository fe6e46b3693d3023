package main

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/releasetest"
)

// hooks/command must find, verify and run the binary goreleaser
// publishes for every platform the hook knows, under the name it
// publishes it, checked against checksums.txt as goreleaser writes it.
func TestHookDownloadsWhatGoreleaserPublishes(t *testing.T) {
	t.Parallel()
	cfg := releasetest.Read(t, "..")
	assets, checksums := releasetest.BareAssets(t, cfg, "./buildkite-plugin"), releasetest.Checksums(t, cfg)
	// What `uname -s` and `uname -m` say on each platform the hook knows.
	platforms := map[string][2]string{"linux/amd64": {"Linux", "x86_64"}, "linux/arm64": {"Linux", "aarch64"},
		"darwin/amd64": {"Darwin", "x86_64"}, "darwin/arm64": {"Darwin", "arm64"}}
	if got := slices.Sorted(maps.Keys(assets)); !slices.Equal(got, slices.Sorted(maps.Keys(platforms))) {
		t.Errorf("goreleaser builds the plugin for %v, want %v (what hooks/command downloads)", got, slices.Sorted(maps.Keys(platforms)))
	}

	// A release as goreleaser lays it out: each binary (here a script that
	// says which it is) and "<sha256>  <name>" lines in checksums.txt.
	releases := t.TempDir()
	published := map[string][]byte{}
	for platform, name := range assets {
		published[name] = []byte("#!/bin/sh\necho \"released binary " + platform + "\"\n")
	}
	releasetest.Release(t, filepath.Join(releases, "v1.2.3"), checksums, published)

	for platform, uname := range platforms {
		t.Run(strings.ReplaceAll(platform, "/", "_"), func(t *testing.T) {
			t.Parallel()
			bin := t.TempDir()
			stub := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in -s) echo %s ;; -m) echo %s ;; *) exit 1 ;; esac\n", uname[0], uname[1])
			if err := os.WriteFile(filepath.Join(bin, "uname"), []byte(stub), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", filepath.Join("..", "hooks", "command"))
			cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir(),
				"BUOY_CACHE_DIR=" + t.TempDir(), "BUOY_RELEASE_BASE_URL=file://" + releases,
				`BUILDKITE_PLUGIN_CONFIGURATION={"version":"v1.2.3"}`}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "released binary "+platform+"\n") {
				t.Errorf("hooks/command on %s %s: %v, output:\n%s\nwant it to run goreleaser's %s", uname[0], uname[1], err, out, assets[platform])
			}
		})
	}
}
