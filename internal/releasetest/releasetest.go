// Package releasetest reads .goreleaser.yaml for tests: the names of the
// assets a release publishes, so that the tests of hooks/command and of
// the Action's install script download what goreleaser really names. Its
// own tests check the release workflow, and (with -tags release, `make
// release-check`) build a snapshot release with the pinned goreleaser.
package releasetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Config is the part of .goreleaser.yaml the tests read.
type Config struct {
	ProjectName string `yaml:"project_name"`
	Builds      []struct {
		ID     string   `yaml:"id"`
		Main   string   `yaml:"main"`
		Binary string   `yaml:"binary"`
		Goos   []string `yaml:"goos"`
		Goarch []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		ID           string   `yaml:"id"`
		IDs          []string `yaml:"ids"`
		Formats      []string `yaml:"formats"`
		NameTemplate string   `yaml:"name_template"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	Signs []struct {
		Cmd       string   `yaml:"cmd"`
		Artifacts string   `yaml:"artifacts"`
		Signature string   `yaml:"signature"`
		Args      []string `yaml:"args"`
	} `yaml:"signs"`
}

// Read parses .goreleaser.yaml at the repository's root.
func Read(t testing.TB, root string) Config {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return cfg
}

// BareAssets returns, for the build of the Go package main (e.g.
// "./action"), the file name of the bare binary a release publishes for
// each "os/arch", as goreleaser names it: its archive's name_template (an
// archive of format binary), with .exe added for windows. It fails the
// test when that build is missing or not published as a bare binary.
func BareAssets(t testing.TB, cfg Config, main string) map[string]string {
	t.Helper()
	for _, b := range cfg.Builds {
		if b.Main != main {
			continue
		}
		for _, a := range cfg.Archives {
			if !slices.Contains(a.IDs, b.ID) {
				continue
			}
			if !slices.Equal(a.Formats, []string{"binary"}) {
				t.Fatalf("the archive of %s has formats %v; its release asset is downloaded as a bare binary: want [binary]", main, a.Formats)
			}
			tmpl, err := template.New("name").Option("missingkey=error").Parse(a.NameTemplate)
			if err != nil {
				t.Fatalf("the name_template %q of %s: %v", a.NameTemplate, main, err)
			}
			assets := map[string]string{}
			for _, goos := range b.Goos {
				for _, goarch := range b.Goarch {
					var name bytes.Buffer
					err := tmpl.Execute(&name, map[string]string{"ProjectName": cfg.ProjectName, "Binary": b.Binary,
						"Os": goos, "Arch": goarch, "Version": "1.2.3", "Tag": "v1.2.3"})
					if err != nil {
						t.Fatalf("the name_template %q of %s: %v", a.NameTemplate, main, err)
					}
					if goos == "windows" {
						name.WriteString(".exe") // goreleaser adds the binary's extension
					}
					assets[goos+"/"+goarch] = name.String()
				}
			}
			return assets
		}
		t.Fatalf(".goreleaser.yaml has no archive for build %s (%s)", b.ID, main)
	}
	t.Fatalf(".goreleaser.yaml builds no %s", main)
	return nil
}

// Checksums returns the name of the checksums file and fails the test
// unless its algorithm is SHA-256, the one the download scripts check.
func Checksums(t testing.TB, cfg Config) string {
	t.Helper()
	if cfg.Checksum.Algorithm != "" && cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum algorithm %q: hooks/command and action/install.sh check sha256", cfg.Checksum.Algorithm)
	}
	if cfg.Checksum.NameTemplate == "" {
		return "checksums.txt"
	}
	return cfg.Checksum.NameTemplate
}

// Release writes a release as goreleaser lays it out into dir: each
// asset, and "<sha256>  <name>" lines of them all in the checksums file.
func Release(t testing.TB, dir, checksums string, assets map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var sums bytes.Buffer
	names := make([]string, 0, len(assets))
	for name := range assets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), assets[name], 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(assets[name]), name)
	}
	if err := os.WriteFile(filepath.Join(dir, checksums), sums.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
