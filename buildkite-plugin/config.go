package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// errConfig marks a bad plugin configuration: nothing was changed, and the
// pipeline must be fixed.
var errConfig = errors.New("invalid plugin configuration")

// The commands the plugin runs.
const (
	cmdReleaseDeploy = "release-deploy"
	cmdPrepare       = "prepare"
	cmdDeploy        = "deploy"
	cmdPromote       = "promote"
	cmdRollback      = "rollback"
	cmdStatus        = "status"
	cmdPlan          = "plan"
)

// commands lists the commands in the order plugin.yml does.
func commands() []string {
	return []string{cmdReleaseDeploy, cmdPrepare, cmdDeploy, cmdPromote, cmdRollback, cmdStatus, cmdPlan}
}

// config is the plugin's configuration as the agent passes it in
// BUILDKITE_PLUGIN_CONFIGURATION. Every option of plugin.yml has a field
// here and every field is an option of plugin.yml (a test checks both).
type config struct {
	Command           string `json:"command"`
	Project           string `json:"project"`
	Environment       string `json:"environment"`
	FromLabel         string `json:"from-label"`
	Release           string `json:"release"`
	FromEnvironment   string `json:"from-environment"`
	Description       string `json:"description"`
	Manifest          string `json:"manifest"`
	Table             string `json:"table"`
	Timeout           string `json:"timeout"`
	Wait              *bool  `json:"wait"`
	RollbackOnFailure bool   `json:"rollback-on-failure"`
	DryRun            bool   `json:"dry-run"`
	Confirm           bool   `json:"confirm"`

	// Version, Binary and Download tell hooks/command how to obtain this
	// binary; the binary itself ignores them.
	Version  string `json:"version"`
	Binary   string `json:"binary"`
	Download *bool  `json:"download"`

	// timeout is Timeout parsed.
	timeout time.Duration
}

// optionUse says which commands read an option that only some read.
func optionUse(option string) []string {
	switch option {
	case "from-label":
		return []string{cmdPrepare, cmdReleaseDeploy, cmdPlan}
	case "release":
		return []string{cmdDeploy, cmdPlan}
	case "from-environment":
		return []string{cmdPromote, cmdPlan}
	}
	return commands()
}

// parseConfig reads the JSON the agent puts in BUILDKITE_PLUGIN_CONFIGURATION
// strictly: an unknown option, a value of the wrong type or a missing
// required option is an error that names the option and says what to write.
func parseConfig(raw string) (*config, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is empty: run this binary from the plugin's hooks/command, "+
			"and give the plugin at least an environment, e.g. `plugins: [{https://github.com/buoy-deploy/buoy.git#v1.0.0: {environment: stage}}]`", errConfig)
	}
	var c config
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, configDecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION holds more than one JSON value", errConfig)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// configDecodeError turns encoding/json's errors into ones that name the
// option and the expected type.
func configDecodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		want := typeErr.Type.String()
		switch want {
		case "*bool", "bool":
			want = "true or false"
		case "string":
			want = "a string"
		}
		if typeErr.Field == "" {
			return fmt.Errorf("%w: the configuration must be a map of options, got a JSON %s", errConfig, typeErr.Value)
		}
		return fmt.Errorf("%w: option %q must be %s, got a %s", errConfig, typeErr.Field, want, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is not valid JSON (at byte %d): %w", errConfig, syntaxErr.Offset, err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("%w: unknown option %s: the options are %s (see plugin.yml)",
			errConfig, name, strings.Join(optionNames(), ", "))
	}
	return fmt.Errorf("%w: %w", errConfig, err)
}

// validate applies the rules a JSON schema alone states less clearly.
func (c *config) validate() error {
	if c.Command == "" {
		c.Command = cmdReleaseDeploy
	}
	if !slices.Contains(commands(), c.Command) {
		return fmt.Errorf("%w: option \"command\" is %q: use one of %s", errConfig, c.Command, strings.Join(commands(), ", "))
	}
	if c.Environment == "" && c.Command != cmdPrepare && c.Command != cmdStatus {
		return fmt.Errorf("%w: option \"environment\" is missing: command %s needs the environment to deploy to, e.g. `environment: stage`",
			errConfig, c.Command)
	}
	set := map[string]string{"from-label": c.FromLabel, "release": c.Release, "from-environment": c.FromEnvironment}
	for _, name := range []string{"from-label", "release", "from-environment"} {
		if set[name] != "" && !slices.Contains(optionUse(name), c.Command) {
			return fmt.Errorf("%w: option %q is not used by command %s: remove it, or use command %s",
				errConfig, name, c.Command, strings.Join(optionUse(name), " or "))
		}
	}
	if c.Command == cmdPlan && c.Release != "" && c.FromEnvironment != "" {
		return fmt.Errorf("%w: options \"release\" and \"from-environment\" both given: a plan is of a deploy (release) or of a promote (from-environment), not both", errConfig)
	}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 {
			return fmt.Errorf("%w: option \"timeout\" is %q: write a positive duration such as 15m or 1h30m", errConfig, c.Timeout)
		}
		c.timeout = d
	}
	return nil
}

// wait reports whether to wait for ECS (default true).
func (c *config) wait() bool { return c.Wait == nil || *c.Wait }

// optionNames lists the options, as JSON names, in the order config
// declares them.
func optionNames() []string {
	t := reflect.TypeFor[config]()
	names := make([]string, 0, t.NumField())
	for f := range t.Fields() {
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && f.IsExported() {
			names = append(names, name)
		}
	}
	return names
}
