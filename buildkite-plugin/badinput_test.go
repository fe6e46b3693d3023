package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/report"
)

// pluginBadInput is one bad configuration: BUILDKITE_PLUGIN_CONFIGURATION
// (MANIFEST stands for the manifest's path), other variables the agent
// sets, the manifest's text, and what the error must say.
type pluginBadInput struct {
	name     string
	config   string
	env      map[string]string
	manifest string // "" means badinput.EntrypointManifest()
	want     string
	context  string // the annotation's context; "" means buoy
}

func pluginBadInputs() []pluginBadInput {
	garbage := make([]byte, 1024)
	for i := range garbage {
		garbage[i] = byte(i*131 + i/7)
	}
	// No environment variable can hold NUL; FuzzParseConfig covers it.
	noNUL := strings.ReplaceAll(string(garbage), "\x00", "")
	deep := `{"environment":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	docker := `{"image":"node:20","command":["npm","test"]}`
	return []pluginBadInput{
		// Not a configuration at all.
		{name: "empty", config: ``, want: "BUILDKITE_PLUGIN_CONFIGURATION is empty: run this binary from the plugin's hooks/command"},
		{name: "blank", config: " \n\t", want: "BUILDKITE_PLUGIN_CONFIGURATION is empty"},
		{name: "truncated JSON", config: `{"environment":"stage"`, want: "BUILDKITE_PLUGIN_CONFIGURATION is not valid JSON: it ends too early"},
		{name: "malformed JSON", config: `{environment: stage}`, want: "BUILDKITE_PLUGIN_CONFIGURATION is not valid JSON (at byte 2)"},
		{name: "two JSON values", config: `{"environment":"stage"} {"environment":"prod"}`, want: "holds more than one JSON value"},
		{name: "JSON string", config: `"stage"`, want: "the configuration must be a map of options, got a JSON string"},
		{name: "plugins array", config: `[{"https://github.com/buoy-deploy/buoy.git#v1.0.0":{"environment":"stage"}}]`, want: "must be a map of options, got a JSON array: give the options under the plugin's location"},
		{name: "nested under the location", config: `{"https://github.com/buoy-deploy/buoy.git#v1.0.0":{"environment":"stage"}}`, want: "it looks like the plugin's location"},
		{name: "null", config: `null`, want: `option "environment" is missing`},
		{name: "binary garbage", config: noNUL, want: "BUILDKITE_PLUGIN_CONFIGURATION is not valid UTF-8 text"},
		{name: "control bytes", config: "\x01\x02{}", want: "is not valid JSON"},
		{name: "huge", config: `{"environment":"stage","description":"` + strings.Repeat("x", 100000) + `"}`, want: "BUILDKITE_PLUGIN_CONFIGURATION is 100040 bytes, more than the 65536"},
		{name: "deep nesting", config: deep, want: "is not valid JSON"},
		// Unknown, duplicated and misspelt options.
		{name: "misspelt option", config: `{"environmen":"stage"}`, want: `unknown option "environmen": did you mean "environment"?`},
		{name: "snake case option", config: `{"environment":"stage","rollback_on_failure":true}`, want: `did you mean "rollback-on-failure"?`, context: "buoy-stage"},
		{name: "unknown option", config: `{"environment":"stage","cluster":"prod"}`, want: `unknown option "cluster": the options are command, project`, context: "buoy-stage"},
		{name: "option twice", config: `{"environment":"stage","environment":"prod"}`, want: `option "environment" is given twice: keep one`, context: "buoy-prod"},
		{name: "another plugin's options", config: docker, env: map[string]string{
			"BUILDKITE_PLUGINS":     `[{"github.com/buildkite-plugins/docker-buildkite-plugin#v5.12.0":{"image":"node:20"}},{"https://github.com/buoy-deploy/buoy.git#v1.0.0":{"environment":"stage"}}]`,
			"BUILDKITE_PLUGIN_NAME": "DOCKER_BUILDKITE_PLUGIN",
		}, want: `unknown option "image"`},
		// Wrong types.
		{name: "boolean as string", config: `{"environment":"stage","wait":"no"}`, want: `option "wait" must be true or false, got a string`, context: "buoy-stage"},
		{name: "boolean as number", config: `{"environment":"stage","dry-run":1}`, want: `option "dry-run" must be true or false, got a number`, context: "buoy-stage"},
		{name: "string as number", config: `{"environment":5}`, want: `option "environment" must be a string, got a number`},
		{name: "string as object", config: `{"environment":{"id":"stage"}}`, want: `option "environment" must be a string, got an object`},
		{name: "string as list", config: `{"environment":["stage","prod"]}`, want: `option "environment" must be a string, got an array`},
		{name: "negative timeout number", config: `{"environment":"stage","timeout":-5}`, want: `option "timeout" must be a string, got a number`, context: "buoy-stage"},
		{name: "negative timeout", config: `{"environment":"stage","timeout":"-5m"}`, want: `option "timeout": "-5m" must be more than zero`, context: "buoy-stage"},
		{name: "timeout in words", config: `{"environment":"stage","timeout":"5 minutes"}`, want: `option "timeout": "5 minutes" is not a duration: write it like 30m`, context: "buoy-stage"},
		// Lock and ECS budget limits: the CLI's rules and words.
		{name: "negative lock wait", config: `{"environment":"stage","lock-wait":"-1s"}`, want: `option "lock-wait" must not be negative, got -1s`, context: "buoy-stage"},
		{name: "lock wait in words", config: `{"environment":"stage","lock-wait":"until free"}`, want: `option "lock-wait": "until free" is not a duration: write it like 10m, 90s or 0`, context: "buoy-stage"},
		{name: "lock wait as seconds", config: `{"environment":"stage","lock-wait":300}`, want: `option "lock-wait" must be a string, got a number`, context: "buoy-stage"},
		{name: "lock TTL too short", config: `{"environment":"stage","lock-ttl":"1s"}`, want: `option "lock-ttl" must be at least 3s (the lease is renewed every third of it), got 1s`, context: "buoy-stage"},
		{name: "lock TTL of centuries", config: `{"environment":"stage","lock-ttl":"2562047h"}`, want: `option "lock-ttl" must be at most 10m0s (the lease is renewed every third of it, so it never needs to be long, and a killed run's lock is taken over only a lease after it stopped): write 2m, the default, or up to 10m, got 2562047h0m0s`, context: "buoy-stage"},
		{name: "lock TTL with a break", config: `{"environment":"stage","lock-ttl":"2m\n+++ pwned"}`, want: `option "lock-ttl": "2m\n+++ pwned" holds the control character U+000A`, context: "buoy-stage"},
		{name: "negative ECS quota share", config: `{"environment":"stage","ecs-quota-share":-0.5}`, want: `option "ecs-quota-share" must be a number above 0 (0.5 is half of AWS's quota, 1 all of it), not -0.5`, context: "buoy-stage"},
		{name: "ECS quota share as string", config: `{"environment":"stage","ecs-quota-share":"half"}`, want: `option "ecs-quota-share" must be a number, got a string`, context: "buoy-stage"},
		{name: "zero ECS rate", config: `{"environment":"stage","ecs-rate":0}`, want: `option "ecs-rate" must be a number of requests a second above 0, not 0`, context: "buoy-stage"},
		{name: "negative ECS rate", config: `{"environment":"stage","ecs-rate":-2.5}`, want: `option "ecs-rate" must be a number of requests a second above 0, not -2.5`, context: "buoy-stage"},
		{name: "ECS rate as string", config: `{"environment":"stage","ecs-rate":"20"}`, want: `option "ecs-rate" must be a number, got a string`, context: "buoy-stage"},
		{name: "ECS rate out of range", config: `{"environment":"stage","ecs-rate":1e400}`, want: `option "ecs-rate" must be a number of a sensible size, got 1e400`}, // unreadable JSON: the annotation cannot name the environment
		{name: "zero ECS burst", config: `{"environment":"stage","ecs-burst":0}`, want: `option "ecs-burst" must be at least 1, not 0`, context: "buoy-stage"},
		{name: "fractional ECS burst", config: `{"environment":"stage","ecs-burst":2.5}`, want: `option "ecs-burst" must be a whole number of a sensible size, got 2.5`, context: "buoy-stage"},
		{name: "huge ECS burst", config: `{"environment":"stage","ecs-burst":1e30}`, want: `option "ecs-burst" must be a whole number of a sensible size, got 1e30`, context: "buoy-stage"},
		{name: "ECS burst as boolean", config: `{"environment":"stage","ecs-burst":true}`, want: `option "ecs-burst" must be a whole number, got a bool`, context: "buoy-stage"},
		// Given empty, most often a pipeline variable that is not set:
		// refused rather than taken as absent (latest, the newest release).
		{name: "empty label", config: `{"environment":"stage","from-label":""}`, want: `option "from-label" is empty: give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use latest`, context: "buoy-stage"},
		{name: "blank label", config: `{"environment":"stage","from-label":" "}`, want: `option "from-label" is empty`, context: "buoy-stage"},
		{name: "empty release", config: `{"command":"deploy","environment":"stage","release":""}`, want: `option "release" is empty: give a release id`, context: "buoy-stage"},
		{name: "empty timeout", config: `{"environment":"stage","timeout":""}`, want: `option "timeout" is empty: write it like 30m, or leave it out for 30m`, context: "buoy-stage"},
		{name: "empty table", config: `{"environment":"stage","table":""}`, want: `option "table" is empty: give the DynamoDB table, or leave it out for buoy-history`, context: "buoy-stage"},
		{name: "empty command", config: `{"command":"","environment":"stage"}`, want: `option "command" is empty`, context: "buoy-stage"},
		{name: "empty source environment", config: `{"command":"promote","environment":"prod","from-environment":""}`, want: `option "from-environment" is empty`, context: "buoy-prod"},
		{name: "empty environment", config: `{"environment":""}`, want: `option "environment" is empty: give the environment id from the manifest, e.g. stage`},
		{name: "null ECS rate", config: `{"environment":"stage","ecs-rate":null}`, want: `option "ecs-rate" is empty: write it like 20, or leave it out for 20`, context: "buoy-stage"},
		{name: "null wait", config: `{"environment":"stage","wait":null}`, want: `option "wait" is empty: write true or false, or leave it out for true`, context: "buoy-stage"},
		{name: "null timeout", config: `{"environment":"stage","timeout":null}`, want: `option "timeout" is empty`, context: "buoy-stage"},
		{name: "empty lock wait", config: `{"environment":"stage","lock-wait":""}`, want: `option "lock-wait" is empty`, context: "buoy-stage"},
		// Missing and misused options.
		{name: "unknown command", config: `{"command":"destroy","environment":"stage"}`, want: `option "command" is "destroy": use one of release-deploy, prepare`, context: "buoy-stage"},
		{name: "misspelt command", config: `{"command":"promte","environment":"prod"}`, want: "did you mean promote?", context: "buoy-prod"},
		{name: "missing environment", config: `{"command":"deploy"}`, want: `option "environment" is missing: command deploy needs the environment`},
		{name: "release for promote", config: `{"command":"promote","environment":"prod","release":"01JD"}`, want: `option "release" is not used by command promote`, context: "buoy-prod"},
		{name: "plan of both", config: `{"command":"plan","environment":"prod","release":"01JD","from-environment":"stage"}`, want: `options "release" and "from-environment" both given`, context: "buoy-prod"},
		// Values of the wrong form.
		{name: "label with a space", config: `{"environment":"stage","from-label":"ref 3f2a"}`, want: `option "from-label": "ref 3f2a" is not an image tag`, context: "buoy-stage"},
		{name: "image reference as label", config: `{"environment":"stage","from-label":"catalogue/api:ref.1"}`, want: "is not an image tag", context: "buoy-stage"},
		{name: "release with a path", config: `{"command":"deploy","environment":"stage","release":"../../x"}`, want: `option "release": "../../x" is not a release id`, context: "buoy-stage"},
		{name: "table ARN of S3", config: `{"environment":"stage","table":"arn:aws:s3:::history"}`, want: `option "table": "arn:aws:s3:::history" is not a DynamoDB table ARN`, context: "buoy-stage"},
		{name: "environment with markup", config: `{"environment":"<img src=x onerror=alert(1)>"}`, want: `option "environment": "<img src=x onerror=alert(1)>" is not an id of the manifest`},
		{name: "NUL in environment", config: `{"environment":"st\u0000age"}`, want: `option "environment": "st\x00age" holds the control character U+0000`},
		{name: "line break in environment", config: `{"environment":"stage\n+++ pwned"}`, want: `holds the control character U+000A`},
		{name: "terminal escape", config: `{"environment":"stage","description":"\u001b]1339;url=https://evil.example\u0007"}`, want: "holds the control character U+001B", context: "buoy-stage"},
		{name: "long description", config: `{"environment":"stage","description":"` + strings.Repeat("y", 5000) + `"}`, want: "is too long: at most 4096 bytes", context: "buoy-stage"},
		// The manifest, and what it does not have.
		{name: "unknown environment", config: `{"environment":"qa","manifest":"MANIFEST"}`, want: `project shop has no environment "qa": use one of stage, prod`, context: "buoy-qa"},
		{name: "unknown project", config: `{"environment":"stage","project":"billing","manifest":"MANIFEST"}`, want: `has no project "billing": choose one of shop`, context: "buoy-billing-stage"},
		{name: "missing manifest", config: `{"environment":"stage","manifest":"MANIFEST.missing"}`, want: ".missing does not exist", context: "buoy-stage"},
		{name: "malformed manifest", config: `{"environment":"stage","manifest":"MANIFEST"}`, manifest: "version: 1\nprojects:\n  - id: catalogue\n    imagez: []\n", want: "imagez", context: "buoy-stage"},
		{name: "device as manifest", config: `{"environment":"stage","manifest":"/dev/null"}`, want: "the manifest is a device, not a file", context: "buoy-stage"},
		{name: "huge aliased value", config: `{"environment":"stage","manifest":"MANIFEST"}`, manifest: badinput.HugeAliasedManifest(), want: `"…(400000 bytes), which is not declared`, context: "buoy-stage"},
		{name: "projects sharing a floating tag", config: `{"environment":"stage","project":"shop","manifest":"MANIFEST"}`, manifest: "version: 1\nprojects:\n  - id: shop\n    images: [{id: web, repository: shop/web, services: [web]}]\n    services: [{id: web}]\n    environments: [{id: stage, targets: [{cluster: shop-stage}]}]\n  - id: admin\n    images: [{id: frontend, repository: shop/web, services: [admin]}]\n    services: [{id: admin}]\n    environments: [{id: stage, targets: [{cluster: admin-stage}]}]\n", want: `both move the floating tag env.stage of repository shop/web`, context: "buoy-shop-stage"},
		{name: "binary manifest", config: `{"environment":"stage","manifest":"MANIFEST"}`, manifest: string(garbage), want: "the manifest is not UTF-8 text", context: "buoy-stage"},
	}
}

// TestPluginBadInput runs the plugin with each bad configuration, with
// the real manifest loader and a stub buildkite-agent: each exits with the
// bad-input code and its own message, in the log and in one error
// annotation (escaped), sets buoy:status invalid, opens no log section of
// its own, and does not panic.
func TestPluginBadInput(t *testing.T) {
	t.Parallel()
	cases := pluginBadInputs()
	if len(cases) < 20 {
		t.Errorf("the corpus has %d cases, want at least 20", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "buoy.yaml")
			text := tc.manifest
			if text == "" {
				text = badinput.EntrypointManifest()
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			opened := false
			open := func(ctx context.Context, cfg entry.Config) (entry.Deployer, error) {
				opened = true
				return entry.Opener(ctx, cfg)
			}
			var log string
			var calls []agentCall
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panic: %v\n%s", r, debug.Stack())
					}
				}()
				log, calls, err = runPluginWith(t, strings.ReplaceAll(tc.config, "MANIFEST", path), tc.env, open, false)
			}()
			if code := exitCode(err); code != exitcode.BadInput {
				t.Errorf("exit code = %d (%v), want %d (bad input)", code, err, exitcode.BadInput)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to say %q", err, tc.want)
			}
			if !strings.Contains(log, clean(tc.want)) {
				t.Errorf("log does not say %q:\n%s", clean(tc.want), log)
			}
			if opened && !strings.Contains(tc.config, `"manifest":`) {
				t.Errorf("the deployer was opened despite a bad configuration")
			}
			notes := annotations(calls)
			wantContext := tc.context
			if wantContext == "" {
				wantContext = "buoy"
			}
			if len(notes) != 1 || notes[0].Args[2] != "error" || notes[0].Args[4] != wantContext {
				t.Fatalf("annotations = %v, want one --style error --context %s", notes, wantContext)
			}
			if !strings.Contains(notes[0].Stdin, report.Escape(tc.want)) {
				t.Errorf("annotation does not say %q (escaped):\n%s", report.Escape(tc.want), notes[0].Stdin)
			}
			checkAnnotationMarkup(t, notes[0].Stdin)
			checkLogSections(t, log)
			if n := len(log) + len(notes[0].Stdin); n > 64<<10 {
				t.Errorf("%d bytes of log and annotation, want at most %d: bad input must not make a flood of output", n, 64<<10)
			}
			if got := metaData(calls)["buoy:status"]; got != "invalid" {
				t.Errorf("buoy:status = %q, want invalid", got)
			}
		})
	}
}

// checkAnnotationMarkup fails the test when an annotation body holds
// markup or control characters that came from input: every '<' must be
// escaped, and no raw HTML tag or Markdown link may appear.
func checkAnnotationMarkup(t *testing.T, body string) {
	t.Helper()
	for _, bad := range []string{"<", "](", "\x1b", "\x07", "\x00"} {
		if strings.Contains(body, bad) {
			t.Errorf("annotation holds %q from input:\n%s", bad, body)
		}
	}
}

// checkLogSections fails the test when a log line opens a section that
// is not one of the plugin's own: its heading, its stages, its result
// (":x: ..." and the like) and "^^^ +++".
func checkLogSections(t *testing.T, log string) {
	t.Helper()
	own := regexp.MustCompile(`^(--- :ship: buoy |--- :[a-z_]+: [A-Z]|\+\+\+ :(x|white_check_mark|memo|warning): |\^\^\^ \+\+\+$)`)
	for _, line := range strings.Split(log, "\n") {
		trimmed := strings.TrimSpace(line)
		for _, marker := range []string{"---", "+++", "~~~", "^^^"} {
			if strings.HasPrefix(trimmed, marker) && !own.MatchString(line) {
				t.Errorf("a log line opens a section the plugin did not: %q", line)
			}
		}
	}
}
