package main

import (
	"regexp"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestManifestHintsNameRealFlags checks that the flags the manifest's
// warnings tell a user to pass exist on the commands that release.
func TestManifestHintsNameRealFlags(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load("../../examples/legacy/catalogue_api_2019.wellcome_project")
	if err != nil {
		t.Fatal(err)
	}
	flag := regexp.MustCompile(`--([a-z][a-z-]+)`)
	root := newRootCommand(&app{})
	checked := 0
	for _, w := range m.Warnings {
		for _, f := range flag.FindAllStringSubmatch(w.String(), -1) {
			for _, name := range []string{"prepare", "release-deploy", "plan"} {
				cmd, _, err := root.Find([]string{name})
				if err != nil {
					t.Fatal(err)
				}
				if cmd.Flags().Lookup(f[1]) == nil {
					t.Errorf("warning %q names --%s, which buoy %s does not have", w.String(), f[1], name)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatalf("no warning of %s names a flag; the test reads nothing (warnings: %v)", "catalogue_api_2019", m.Warnings)
	}
}
