package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestLegacyLatestWarningNamesRealOptions: the warning about a legacy
// "latest" environment tells users how to release from the latest label;
// every CLI flag it names is a flag of release-deploy, and the option it
// names for the Action and the plugin is an input of action.yml and a
// property of plugin.yml.
func TestLegacyLatestWarningNamesRealOptions(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/legacy/catalogue_api_2019.wellcome_project")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("catalogue_api_2019.wellcome_project", data)
	if err != nil {
		t.Fatal(err)
	}
	var warning string
	for _, w := range m.Warnings {
		if strings.Contains(w.Message, `"latest"`) {
			warning = w.Message + " (" + w.Hint + ")"
		}
	}
	if warning == "" {
		t.Fatalf("no warning about the latest environment in %v", m.Warnings)
	}
	cmd, _, err := newRootCommand(&app{}).Find([]string{"release-deploy"})
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(warning, -1)
	if len(flags) == 0 {
		t.Fatalf("warning %q names no CLI flag", warning)
	}
	for _, f := range flags {
		if cmd.Flags().Lookup(strings.TrimPrefix(f, "--")) == nil {
			t.Errorf("warning %q names %s, which release-deploy does not have", warning, f)
		}
	}
	const option = "from-label"
	if !strings.Contains(warning, option+" in the Action and the plugin") {
		t.Errorf("warning %q does not name the Action's and the plugin's %s", warning, option)
	}
	var action struct{ Inputs map[string]any }
	var plugin struct {
		Configuration struct{ Properties map[string]any }
	}
	for file, v := range map[string]any{"../../action.yml": &action, "../../plugin.yml": &plugin} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	if _, ok := action.Inputs[option]; !ok {
		t.Errorf("action.yml has no input %s", option)
	}
	if _, ok := plugin.Configuration.Properties[option]; !ok {
		t.Errorf("plugin.yml has no option %s", option)
	}
}
