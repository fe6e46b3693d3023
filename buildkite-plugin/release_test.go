package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// goreleaserConfig is the part of .goreleaser.yaml that decides the
// names of the plugin's release assets.
type goreleaserConfig struct {
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID     string   `yaml:"id"`
		Main   string   `yaml:"main"`
		Binary string   `yaml:"binary"`
		Goos   []string `yaml:"goos"`
		Goarch []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		IDs          []string `yaml:"ids"`
		Formats      []string `yaml:"formats"`
		NameTemplate string   `yaml:"name_template"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
}

// pluginAssets returns, from .goreleaser.yaml, the file name of the
// plugin binary goreleaser publishes for each "os/arch", and the name of
// the checksums file.
func pluginAssets(t *testing.T) (map[string]string, string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if cfg.Checksum.Algorithm != "" && cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q: hooks/command checks sha256", cfg.Checksum.Algorithm)
	}
	for _, b := range cfg.Builds {
		if b.Main != "./buildkite-plugin" {
			continue
		}
		for _, a := range cfg.Archives {
			if !slices.Contains(a.IDs, b.ID) {
				continue
			}
			if !slices.Equal(a.Formats, []string{"binary"}) {
				t.Errorf("the plugin's archive formats are %v; hooks/command downloads the bare binary: want [binary]", a.Formats)
			}
			tmpl, err := template.New("name").Option("missingkey=error").Parse(a.NameTemplate)
			if err != nil {
				t.Fatalf("the plugin's name_template %q: %v", a.NameTemplate, err)
			}
			assets := map[string]string{}
			for _, goos := range b.Goos {
				for _, goarch := range b.Goarch {
					var name bytes.Buffer
					err := tmpl.Execute(&name, map[string]string{"ProjectName": cfg.ProjectName, "Binary": b.Binary,
						"Os": goos, "Arch": goarch, "Version": "1.2.3", "Tag": "v1.2.3"})
					if err != nil {
						t.Fatalf("the plugin's name_template %q: %v", a.NameTemplate, err)
					}
					assets[goos+"/"+goarch] = name.String()
				}
			}
			return assets, cfg.Checksum.NameTemplate
		}
		t.Fatalf(".goreleaser.yaml has no archive for build %s (the plugin)", b.ID)
	}
	t.Fatal(".goreleaser.yaml builds no ./buildkite-plugin")
	return nil, ""
}

// hooks/command must find, verify and run the binary goreleaser
// publishes for every platform the hook knows, under the name it
// publishes it, checked against checksums.txt as goreleaser writes it.
func TestHookDownloadsWhatGoreleaserPublishes(t *testing.T) {
	t.Parallel()
	assets, checksums := pluginAssets(t)
	// What `uname -s` and `uname -m` say on each platform the hook knows.
	platforms := map[string][2]string{"linux/amd64": {"Linux", "x86_64"}, "linux/arm64": {"Linux", "aarch64"},
		"darwin/amd64": {"Darwin", "x86_64"}, "darwin/arm64": {"Darwin", "arm64"}}
	if got := slices.Sorted(maps.Keys(assets)); !slices.Equal(got, slices.Sorted(maps.Keys(platforms))) {
		t.Errorf("goreleaser builds the plugin for %v, want %v (what hooks/command downloads)", got, slices.Sorted(maps.Keys(platforms)))
	}

	// A release as goreleaser lays it out: each binary (here a script that
	// says which it is) and "<sha256>  <name>" lines in checksums.txt.
	releases := t.TempDir()
	dir := filepath.Join(releases, "v1.2.3")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	for platform, name := range assets {
		script := []byte("#!/bin/sh\necho \"released binary " + platform + "\"\n")
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(script), name)
	}
	if err := os.WriteFile(filepath.Join(dir, checksums), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}

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
