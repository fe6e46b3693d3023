package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/buildkite/go-pipeline"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/buoy-deploy/buoy/internal/entry"
)

// pluginDefinition reads ../plugin.yml as the agent and plugin-linter do.
func pluginDefinition(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../plugin.yml")
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := yaml.Unmarshal(b, &def); err != nil {
		t.Fatalf("plugin.yml: %v", err)
	}
	return def
}

// jsonValue turns YAML-decoded or pipeline values into what the JSON
// schema validator expects, through JSON.
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// configSchema compiles plugin.yml's configuration as a draft-07 JSON
// Schema, as plugin-linter does.
func configSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	if err := c.AddResource("plugin-configuration.json", jsonValue(t, pluginDefinition(t)["configuration"])); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("plugin-configuration.json")
	if err != nil {
		t.Fatalf("plugin.yml configuration is not a valid draft-07 JSON Schema: %v", err)
	}
	return s
}

func TestPluginDefinition(t *testing.T) {
	t.Parallel()
	def := pluginDefinition(t)
	for _, key := range []string{"name", "description", "author"} {
		if s, _ := def[key].(string); s == "" {
			t.Errorf("plugin.yml: %s must be a non-empty string", key)
		}
	}
	reqs, ok := def["requirements"].([]any)
	if !ok {
		t.Errorf("plugin.yml: requirements must be a list of commands, got %T", def["requirements"])
	}
	for _, r := range reqs {
		if s, _ := r.(string); s == "" {
			t.Errorf("plugin.yml: requirement %v is not a command name", r)
		}
	}
	cfg, _ := def["configuration"].(map[string]any)
	if cfg == nil {
		t.Fatal("plugin.yml: configuration is missing")
	}
	if cfg["additionalProperties"] != false {
		t.Errorf("plugin.yml: configuration.additionalProperties = %v, want false", cfg["additionalProperties"])
	}
	props, _ := cfg["properties"].(map[string]any)
	if len(props) == 0 {
		t.Fatal("plugin.yml: configuration.properties is empty")
	}
	for name, p := range props {
		prop, _ := p.(map[string]any)
		if d, _ := prop["description"].(string); len(d) < 20 {
			t.Errorf("plugin.yml: option %s needs a description that says what it does", name)
		}
		if _, ok := prop["type"]; !ok {
			t.Errorf("plugin.yml: option %s has no type", name)
		}
	}
	configSchema(t) // compiles
}

// TestOptionsMatchConfig checks that every option of plugin.yml is read by
// config and that config reads nothing plugin.yml does not declare.
func TestOptionsMatchConfig(t *testing.T) {
	t.Parallel()
	props := pluginDefinition(t)["configuration"].(map[string]any)["properties"].(map[string]any)
	var declared []string
	for name := range props {
		declared = append(declared, name)
	}
	read := optionNames()
	slices.Sort(declared)
	slices.Sort(read)
	if !slices.Equal(declared, read) {
		t.Errorf("plugin.yml options and config fields differ:\nplugin.yml: %v\nconfig:     %v", declared, read)
	}
	cmd := props["command"].(map[string]any)
	var enum []entry.Operation
	for _, c := range cmd["enum"].([]any) {
		enum = append(enum, entry.Operation(c.(string)))
	}
	if !slices.Equal(enum, entry.Operations()) {
		t.Errorf("plugin.yml commands = %v, the operations = %v", enum, entry.Operations())
	}
	if cmd["default"] != string(entry.ReleaseDeploy) {
		t.Errorf("plugin.yml command default = %v, want %s", cmd["default"], entry.ReleaseDeploy)
	}
}

// TestSchemaAgreesWithParser feeds configurations to both the schema (what
// the agent checks before any hook runs) and parseConfig (what the binary
// checks), which must agree.
func TestSchemaAgreesWithParser(t *testing.T) {
	t.Parallel()
	schema := configSchema(t)
	tests := []struct {
		config string
		valid  bool
		// parser is what parseConfig says when it differs from the
		// schema: it ignores the hook's options (version) and is stricter
		// in places, never looser on what the binary reads.
		parser *bool
	}{
		{config: `{"environment":"stage"}`, valid: true},
		{config: `{"command":"release-deploy","environment":"stage","from-label":"ref.abc","timeout":"15m","wait":true,"rollback-on-failure":true,"dry-run":false,"description":"x","manifest":"buoy.yaml","project":"catalogue","table":"buoy"}`, valid: true},
		{config: `{"command":"promote","environment":"prod","from-environment":"stage","confirm":true,"version":"v1.0.0","download":false,"binary":"/usr/local/bin/buoy-buildkite-plugin"}`, valid: true},
		{config: `{"command":"prepare"}`, valid: true},
		{config: `{"command":"status"}`, valid: true},
		{config: `{"command":"plan","environment":"stage","timeout":"1h30m"}`, valid: true},
		{config: `{}`},
		{config: `{"command":"deploy"}`},
		{config: `{"environment":"stage","bogus":1}`},
		{config: `{"environment":"stage","wait":"yes"}`},
		{config: `{"environment":"stage","timeout":"ten minutes"}`},
		{config: `{"environment":"stage","command":"destroy"}`},
		{config: `{"environment":""}`},
		{config: `{"environment":"stage","download":"false"}`},
		{config: `{"environment":"stage","version":"1.0"}`, parser: new(true)},
		{config: `{"command":"promote","environment":"prod","from-label":"latest"}`, valid: true, parser: new(false)},
		{config: `{"environment":"stage","lock-wait":"45m","lock-ttl":"30s","ecs-rate":2.5,"ecs-burst":10}`, valid: true},
		{config: `{"environment":"stage","lock-wait":"0"}`, valid: true},
		{config: `{"environment":"stage","lock-wait":"-1s"}`},
		{config: `{"environment":"stage","lock-wait":300}`},
		{config: `{"environment":"stage","lock-ttl":"0"}`},
		{config: `{"environment":"stage","lock-ttl":"1s"}`, valid: true, parser: new(false)},
		{config: `{"environment":"stage","ecs-rate":0}`},
		{config: `{"environment":"stage","ecs-quota-share":0}`},
		{config: `{"environment":"stage","ecs-quota-share":1}`, valid: true},
		{config: `{"environment":"stage","ecs-rate":"20"}`},
		{config: `{"environment":"stage","ecs-burst":0}`},
		{config: `{"environment":"stage","ecs-burst":2.5}`},
		{config: `{"environment":"stage","ecs-burst":50.0}`, valid: true, parser: new(false)},
		{config: `{"environment":"stage","aws-region":"eu-west-2"}`, valid: true},
		{config: `{"environment":"stage","aws-region":"us-gov-west-1"}`, valid: true},
		{config: `{"environment":"stage","aws-region":"Ireland"}`},
		{config: `{"environment":"stage","aws-region":"eu-west-2 "}`},
		{config: `{"environment":"stage","aws-region":""}`},
	}
	for _, tt := range tests {
		schemaErr := schema.Validate(jsonValue(t, json.RawMessage(tt.config)))
		if (schemaErr == nil) != tt.valid {
			t.Errorf("schema on %s: %v, want valid=%v", tt.config, schemaErr, tt.valid)
		}
		wantParse := tt.valid
		if tt.parser != nil {
			wantParse = *tt.parser
		}
		if _, err := parseConfig(tt.config); (err == nil) != wantParse {
			t.Errorf("parseConfig(%s) = %v, want valid=%v", tt.config, err, wantParse)
		}
	}
}

// pipelineSources returns every example pipeline and every ```yml block of
// the plugin's documentation, by name.
func pipelineSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	files, err := filepath.Glob("../examples/buildkite/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example pipelines in examples/buildkite/")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	doc, err := os.ReadFile("../docs/buildkite-plugin.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?ms)^```ya?ml\n(.*?)^```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) == 0 {
		t.Fatal("docs/buildkite-plugin.md has no ```yml blocks")
	}
	for i, m := range blocks {
		out[fmt.Sprintf("../docs/buildkite-plugin.md, yml block %d", i+1)] = m[1]
	}
	return out
}

// buoyConfigs parses a pipeline as the agent does and returns the
// configuration of every buoy plugin in it, groups included.
func buoyConfigs(t *testing.T, name, src string) []any {
	t.Helper()
	p, err := pipeline.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatalf("%s: not a valid pipeline: %v", name, err)
	}
	// The agent interpolates variables when the pipeline is uploaded, so
	// the plugin sees ref.<commit>, not ref.${BUILDKITE_COMMIT}.
	if err := p.Interpolate(uploadEnv{"BUILDKITE_COMMIT": "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"}, false); err != nil {
		t.Fatalf("%s: interpolate: %v", name, err)
	}
	var configs []any
	var walk func(steps pipeline.Steps)
	walk = func(steps pipeline.Steps) {
		for _, s := range steps {
			switch s := s.(type) {
			case *pipeline.CommandStep:
				for _, pl := range s.Plugins {
					if strings.Contains(pl.Source, "buoy-deploy/buoy") {
						configs = append(configs, jsonValue(t, pl.Config))
					}
				}
			case *pipeline.GroupStep:
				walk(s.Steps)
			case *pipeline.UnknownStep:
				t.Errorf("%s: a step the agent does not understand: %v", name, s.Contents)
			}
		}
	}
	walk(p.Steps)
	return configs
}

// uploadEnv is the environment a pipeline is interpolated with on upload.
type uploadEnv map[string]string

func (e uploadEnv) Get(name string) (string, bool) { v, ok := e[name]; return v, ok }
func (e uploadEnv) Set(name, value string)         { e[name] = value }

func TestExamplePipelines(t *testing.T) {
	t.Parallel()
	schema := configSchema(t)
	for name, src := range pipelineSources(t) {
		configs := buoyConfigs(t, name, src)
		if len(configs) == 0 {
			t.Errorf("%s: no step uses the buoy plugin (buoy-deploy/buoy#vX.Y.Z)", name)
		}
		for _, c := range configs {
			if err := schema.Validate(c); err != nil {
				t.Errorf("%s: buoy plugin configuration does not match plugin.yml: %v", name, err)
			}
			b, _ := json.Marshal(c)
			if _, err := parseConfig(string(b)); err != nil {
				t.Errorf("%s: the plugin would reject its configuration: %v", name, err)
			}
		}
	}
}

func TestExampleCheckRejectsABadConfiguration(t *testing.T) {
	t.Parallel()
	bad := `steps:
  - group: deploy
    steps:
      - label: deploy
        plugins:
          - https://github.com/buoy-deploy/buoy.git#v1.0.0:
              environment: stage
              rollback: yes-please
`
	configs := buoyConfigs(t, "bad", bad)
	if len(configs) != 1 {
		t.Fatalf("found %d buoy configurations in a group, want 1", len(configs))
	}
	err := configSchema(t).Validate(configs[0])
	if err == nil || !strings.Contains(err.Error(), "rollback") {
		t.Errorf("schema accepted an unknown option: %v", err)
	}
}

// linterSchema is what Buildkite's plugin-linter requires of plugin.yml:
// a name, a description, an author, the commands the hooks need, and a
// configuration schema that lists its properties and its required ones
// and says whether others are allowed.
const linterSchema = `{
  "type": "object",
  "required": ["name", "description", "author", "requirements", "configuration"],
  "properties": {
    "name": {"type": "string"},
    "description": {"type": "string"},
    "author": {"type": "string"},
    "requirements": {"type": "array", "items": {"type": "string"}},
    "configuration": {
      "type": "object",
      "required": ["properties", "required", "additionalProperties"],
      "properties": {
        "properties": {"type": "object"},
        "required": {"type": "array"},
        "additionalProperties": {"type": "boolean"}
      }
    }
  }
}`

// TestPluginLinterRules checks what `plugin-linter` checks, and the
// conventions of Buildkite's plugin directory: plugin.yml against the
// linter's rules, its name in Title Case, hooks that are executable
// files named after agent hooks, and a README and docs whose examples
// name the plugin by a version (#vX.Y.Z, #vX) (their configurations are
// checked against the schema by TestExamplePipelines).
func TestPluginLinterRules(t *testing.T) {
	t.Parallel()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	meta, err := jsonschema.UnmarshalJSON(strings.NewReader(linterSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("plugin-linter.json", meta); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("plugin-linter.json")
	if err != nil {
		t.Fatal(err)
	}
	def := pluginDefinition(t)
	if err := s.Validate(jsonValue(t, def)); err != nil {
		t.Errorf("plugin.yml does not pass plugin-linter's rules: %v", err)
	}
	name, _ := def["name"].(string)
	if !regexp.MustCompile(`^[A-Z][a-z0-9]*( [A-Z0-9][A-Za-z0-9]*)*$`).MatchString(name) {
		t.Errorf("plugin.yml name %q: Buildkite's plugins use Title Case names, e.g. Buoy", name)
	}

	hooks, err := os.ReadDir("../hooks")
	if err != nil {
		t.Fatal(err)
	}
	agentHooks := []string{"environment", "pre-checkout", "checkout", "post-checkout", "pre-command", "command", "post-command", "pre-artifact", "post-artifact", "pre-exit"}
	for _, h := range hooks {
		info, err := h.Info()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(agentHooks, h.Name()) || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			t.Errorf("hooks/%s (%v): want executable files named after agent hooks (%v)", h.Name(), info.Mode(), agentHooks)
		}
	}

	reference := regexp.MustCompile("buoy-deploy/buoy(?:\\.git)?#([^:\\s\"'`)]+)")
	for _, doc := range []string{"../README.md", "../docs/buildkite-plugin.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		refs := reference.FindAllStringSubmatch(string(b), -1)
		if len(refs) == 0 {
			t.Errorf("%s names the plugin nowhere as buoy-deploy/buoy.git#<version>", doc)
		}
		for _, m := range refs {
			if !regexp.MustCompile(`^(v\d+(\.\d+\.\d+)?|[0-9a-f]{40})$`).MatchString(m[1]) {
				t.Errorf("%s: %s: pin the plugin by a release (#v1.2.3), its major version (#v1) or a commit SHA", doc, m[0])
			}
		}
	}
}
