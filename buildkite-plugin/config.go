package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/suggest"
)

// errConfig marks a bad plugin configuration: nothing was changed, and the
// pipeline must be fixed.
var errConfig = errors.New("invalid plugin configuration")

// config is the plugin's configuration as the agent passes it in
// BUILDKITE_PLUGIN_CONFIGURATION. Every option of plugin.yml has a field
// here and every field is an option of plugin.yml (a test checks both).
// Options not set are omitted when written out (empty text, nil
// pointers), so a configuration written out is read back the same (an
// option given empty or null is refused: emptyOption).
type config struct {
	Command         entry.Operation `json:"command,omitempty"`
	Project         string          `json:"project,omitempty"`
	Environment     string          `json:"environment,omitempty"`
	FromLabel       string          `json:"from-label,omitempty"`
	Release         string          `json:"release,omitempty"`
	FromEnvironment string          `json:"from-environment,omitempty"`
	Description     string          `json:"description,omitempty"`
	Manifest        string          `json:"manifest,omitempty"`
	Table           string          `json:"table,omitempty"`
	// AWSRegion is the Action's aws-region: the region of the history
	// table and the registries; unset, the agent's (AWS_REGION).
	AWSRegion         string `json:"aws-region,omitempty"`
	Timeout           string `json:"timeout,omitempty"`
	Wait              *bool  `json:"wait,omitempty"`
	RollbackOnFailure bool   `json:"rollback-on-failure"`
	DryRun            bool   `json:"dry-run"`
	Confirm           bool   `json:"confirm"`
	// LockWait, LockTTL, ECSQuotaShare, ECSRate and ECSBurst are the CLI's
	// --lock-wait, --lock-ttl, --ecs-quota-share, --ecs-rate and
	// --ecs-burst; unset means its default.
	LockWait      string   `json:"lock-wait,omitempty"`
	LockTTL       string   `json:"lock-ttl,omitempty"`
	ECSQuotaShare *float64 `json:"ecs-quota-share,omitempty"`
	ECSRate       *float64 `json:"ecs-rate,omitempty"`
	ECSBurst      *int     `json:"ecs-burst,omitempty"`

	// Version, Binary and Download tell hooks/command how to obtain this
	// binary; the binary itself ignores them.
	Version  string `json:"version,omitempty"`
	Binary   string `json:"binary,omitempty"`
	Download *bool  `json:"download,omitempty"`

	// timeout is Timeout parsed.
	timeout time.Duration
	// limits are the lock and ECS budget options parsed, with the CLI's
	// defaults for those not given.
	limits inputcheck.Limits
}

// optionUse says which commands read an option that only some read.
func optionUse(option string) []entry.Operation {
	switch option {
	case "from-label":
		return []entry.Operation{entry.Prepare, entry.ReleaseDeploy, entry.Plan}
	case "release":
		return []entry.Operation{entry.Deploy, entry.Plan}
	case "from-environment":
		return []entry.Operation{entry.Promote, entry.Plan}
	}
	return entry.Operations()
}

// maxConfig is the longest configuration accepted, in bytes: far more
// than every option at its longest.
const maxConfig = 64 << 10

// parseConfig reads the JSON the agent puts in BUILDKITE_PLUGIN_CONFIGURATION
// strictly: an unknown option, a value of the wrong type or a missing
// required option is an error that names the option and says what to write.
func parseConfig(raw string) (*config, error) {
	switch {
	case strings.TrimSpace(raw) == "":
		return nil, fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is empty: run this binary from the plugin's hooks/command, "+
			"and give the plugin at least an environment, e.g. `plugins: [{https://github.com/buoy-deploy/buoy.git#v1.0.0: {environment: stage}}]`", errConfig)
	case len(raw) > maxConfig:
		return nil, fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is %d bytes, more than the %d any configuration needs: give only the plugin's options", errConfig, len(raw), maxConfig)
	case !utf8.ValidString(raw):
		return nil, fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is not valid UTF-8 text: check the pipeline file's encoding", errConfig)
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
	if name := duplicateOption(raw); name != "" {
		return nil, fmt.Errorf("%w: option %s is given twice: keep one", errConfig, inputcheck.Quote(name))
	}
	if name := emptyOption(raw); name != "" {
		return nil, fmt.Errorf("%w: %w", errConfig, inputcheck.Empty(func(key string) string { return "option " + strconv.Quote(key) }, name))
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// duplicateOption returns an option the configuration object names twice
// (encoding/json keeps the last in silence), or "".
func duplicateOption(raw string) string {
	dec := json.NewDecoder(strings.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := t.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var value json.RawMessage
		if dec.Decode(&value) != nil {
			return ""
		}
	}
	return ""
}

// noEmptyOptions are the options whose absence means a default (the
// label latest, the latest release, buoy-history, ...). The agent
// interpolates the pipeline's variables into them, so an empty one is
// most often a variable that is not set (`release: ${RELEASE_ID}`): it is
// refused rather than taken as absent. description may be empty, and
// version, binary and download are hooks/command's.
func noEmptyOptions() []string {
	return []string{"command", "project", "environment", "from-label", "release", "from-environment",
		"manifest", "table", "aws-region", "timeout", "lock-wait", "lock-ttl"}
}

// emptyOption returns an option of noEmptyOptions the configuration gives
// as an empty (or blank) string or null, or an option whose absence means
// a default (a number, wait, a switch) given as null (`ecs-rate:` with
// nothing after it), or "".
func emptyOption(raw string) string {
	var opts map[string]json.RawMessage
	if json.Unmarshal([]byte(raw), &opts) != nil {
		return ""
	}
	for _, name := range noEmptyOptions() {
		var v string
		if b, ok := opts[name]; ok && json.Unmarshal(b, &v) == nil && strings.TrimSpace(v) == "" {
			return name
		}
	}
	for _, name := range []string{"ecs-quota-share", "ecs-rate", "ecs-burst", "wait", "rollback-on-failure", "dry-run", "confirm"} {
		if b, ok := opts[name]; ok && strings.TrimSpace(string(b)) == "null" {
			return name
		}
	}
	return ""
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
		case "*int", "int":
			want = "a whole number"
		case "*float64", "float64":
			want = "a number"
		}
		if typeErr.Field == "" {
			return fmt.Errorf("%w: the configuration must be a map of options, got a JSON %s: give the options under the plugin's location, "+
				"e.g. `plugins: [{https://github.com/buoy-deploy/buoy.git#v1.0.0: {environment: stage}}]`", errConfig, typeErr.Value)
		}
		if n, ok := strings.CutPrefix(typeErr.Value, "number "); ok {
			// A number, but not one the option's type holds: a fraction
			// for a whole number, or one out of range.
			return fmt.Errorf("%w: option %q must be %s of a sensible size, got %s", errConfig, typeErr.Field, want, n)
		}
		return fmt.Errorf("%w: option %q must be %s, got %s %s", errConfig, typeErr.Field, want, article(typeErr.Value), typeErr.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is not valid JSON: it ends too early (a closing } or \" is missing)", errConfig)
	case errors.As(err, &syntaxErr):
		return fmt.Errorf("%w: BUILDKITE_PLUGIN_CONFIGURATION is not valid JSON (at byte %d): %w", errConfig, syntaxErr.Offset, err)
	}
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return unknownOption(quoted)
	}
	return fmt.Errorf("%w: %w", errConfig, err)
}

// unknownOption says what an unknown option (as encoding/json quotes it)
// may have meant.
func unknownOption(quoted string) error {
	name, err := strconv.Unquote(quoted)
	if err != nil {
		name = quoted
	}
	hint := "the options are " + strings.Join(optionNames(), ", ") + " (see plugin.yml)"
	switch s := suggest.Closest(name, optionNames()); {
	case s != "":
		hint = fmt.Sprintf("did you mean %q?", s)
	case strings.Contains(name, "#") || strings.HasSuffix(name, ".git") || strings.Contains(name, "buoy"):
		hint = "it looks like the plugin's location: BUILDKITE_PLUGIN_CONFIGURATION holds only the options under it, " +
			"as the agent passes them (is the plugin nested one level too deep in the pipeline?)"
	}
	return fmt.Errorf("%w: unknown option %s: %s", errConfig, inputcheck.Quote(name), hint)
}

// article is "a" or "an" for a JSON type name.
func article(jsonType string) string {
	if strings.ContainsAny(jsonType[:min(1, len(jsonType))], "aeiou") {
		return "an"
	}
	return "a"
}

// validate applies the rules a JSON schema alone states less clearly.
func (c *config) validate() error {
	if c.Command == "" {
		c.Command = entry.ReleaseDeploy
	}
	if !slices.Contains(entry.Operations(), c.Command) {
		return fmt.Errorf("%w: option \"command\" is %s: %s", errConfig, inputcheck.Quote(string(c.Command)), entry.OperationHint(string(c.Command)))
	}
	if c.Environment == "" && c.Command != entry.Prepare && c.Command != entry.Status {
		return fmt.Errorf("%w: option \"environment\" is missing: command %s needs the environment to deploy to, e.g. `environment: stage`",
			errConfig, c.Command)
	}
	set := map[string]string{"from-label": c.FromLabel, "release": c.Release, "from-environment": c.FromEnvironment}
	for _, name := range []string{"from-label", "release", "from-environment"} {
		if set[name] != "" && !slices.Contains(optionUse(name), c.Command) {
			var use []string
			for _, o := range optionUse(name) {
				use = append(use, string(o))
			}
			return fmt.Errorf("%w: option %q is not used by command %s: remove it, or use command %s",
				errConfig, name, c.Command, strings.Join(use, " or "))
		}
	}
	if c.Command == entry.Plan && c.Release != "" && c.FromEnvironment != "" {
		return fmt.Errorf("%w: options \"release\" and \"from-environment\" both given: a plan is of a deploy (release) or of a promote (from-environment), not both", errConfig)
	}
	for _, o := range []struct {
		name, value string
		check       func(string) error
	}{
		{"project", c.Project, inputcheck.ID},
		{"environment", c.Environment, inputcheck.ID},
		{"from-label", c.FromLabel, inputcheck.Label},
		{"release", c.Release, inputcheck.Release},
		{"from-environment", c.FromEnvironment, inputcheck.ID},
		{"description", c.Description, inputcheck.Text},
		{"manifest", c.Manifest, inputcheck.Path},
		{"table", c.Table, inputcheck.Table},
		{"aws-region", c.AWSRegion, inputcheck.Region},
		{"version", c.Version, inputcheck.Line},
		{"binary", c.Binary, inputcheck.Path},
	} {
		if o.value == "" {
			continue
		}
		if err := o.check(o.value); err != nil {
			return fmt.Errorf("%w: option %q: %w", errConfig, o.name, err)
		}
	}
	if c.Timeout != "" {
		d, err := inputcheck.Duration(c.Timeout)
		if err != nil {
			return fmt.Errorf("%w: option \"timeout\": %w", errConfig, err)
		}
		c.timeout = d
	}
	return c.validateLimits()
}

// validateLimits reads lock-wait, lock-ttl, ecs-quota-share, ecs-rate and
// ecs-burst into
// c.limits and checks them with the CLI's rules.
func (c *config) validateLimits() error {
	c.limits = inputcheck.DefaultLimits()
	for _, o := range []struct {
		name, value string
		into        *time.Duration
	}{
		{"lock-wait", c.LockWait, &c.limits.LockWait},
		{"lock-ttl", c.LockTTL, &c.limits.LockTTL},
	} {
		if o.value == "" {
			continue
		}
		d, err := inputcheck.AnyDuration(o.value)
		if err != nil {
			return fmt.Errorf("%w: option %q: %w", errConfig, o.name, err)
		}
		*o.into = d
	}
	if c.ECSQuotaShare != nil {
		c.limits.ECSQuotaShare = *c.ECSQuotaShare
	}
	if c.ECSRate != nil {
		c.limits.ECSRate = *c.ECSRate
	}
	if c.ECSBurst != nil {
		c.limits.ECSBurst = *c.ECSBurst
	}
	if errs := c.limits.Problems(strconv.Quote); len(errs) > 0 {
		return fmt.Errorf("%w: option %w", errConfig, errs[0])
	}
	return nil
}

// wait reports whether to wait for ECS (default true).
func (c *config) wait() bool { return c.Wait == nil || *c.Wait }

// openConfig is how the plugin opens buoy: with its options, the job's
// environment (the notify targets' variables), and its words for what
// to do when that fails.
func (c *config) openConfig(sink event.Sink, logger *slog.Logger, getenv func(string) string) entry.Config {
	return entry.Config{
		Getenv:   getenv,
		Manifest: c.Manifest,
		Project:  c.Project,
		Table:    c.Table,
		Region:   c.AWSRegion,
		Limits:   c.limits,
		Sink:     sink,
		Logger:   logger,
		Advice: entry.Advice{
			Manifest:    "set the manifest option to its path (did the step check out the repository?)",
			Credentials: "give the agent credentials (an instance or task role, AWS_PROFILE, or a plugin that assumes a role before this one)",
		},
	}
}

// request is the operation the options ask for, by origin; the
// description is the build's URL unless given.
func (c *config) request(origin entry.Origin) entry.Request {
	r := entry.Request{
		Operation:       c.Command,
		Environment:     c.Environment,
		Label:           c.FromLabel,
		Release:         c.Release,
		FromEnvironment: c.FromEnvironment,
		Description:     c.Description,
		Origin:          origin,
		Timeout:         c.timeout,
		NoWait:          !c.wait(),
		Rollback:        c.RollbackOnFailure,
		DryRun:          c.DryRun,
		Confirm:         c.Confirm,
	}
	if r.Description == "" {
		r.Description = origin.CI.BuildURL
	}
	return r
}

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
