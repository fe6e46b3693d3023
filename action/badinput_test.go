package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// actionBadInput is one bad input to the Action: what the step sets, and
// the text its error must contain.
type actionBadInput struct {
	name   string
	inputs map[string]string // the step's with:
	env    map[string]string // extra or replaced variables
	files  map[string]string // files in the workspace; nil means buoy.yaml = badinput.EntrypointManifest()
	want   string
}

// sharedTagManifest has two projects whose images share a repository and
// whose stage environments share the floating tag env.stage.
const sharedTagManifest = `version: 1
projects:
  - id: shop
    images: [{id: web, repository: shop/web, services: [web]}]
    services: [{id: web}]
    environments: [{id: stage, targets: [{cluster: shop-stage}]}]
  - id: admin
    images: [{id: frontend, repository: shop/web, services: [admin]}]
    services: [{id: admin}]
    environments: [{id: stage, targets: [{cluster: admin-stage}]}]
`

// maxBadInputOutput bounds what the action prints about any bad input
// (annotations, log lines): a few KB, whatever the input's size.
const maxBadInputOutput = 32 << 10

// actionBadInputs is the corpus: every case fails before any AWS call.
func actionBadInputs() []actionBadInput {
	stage := func(kv ...string) map[string]string {
		m := map[string]string{"environment": "stage"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	garbage := make([]byte, 2048)
	for i := range garbage {
		garbage[i] = byte(i*131 + i/7) // every byte value, NUL included
	}
	// An environment variable cannot hold NUL; TestActionBadInputInProcess
	// covers it.
	noNUL := strings.ReplaceAll(string(garbage), "\x00", "")
	return []actionBadInput{
		// Commands and inputs that do not exist.
		{name: "unknown command", inputs: stage("command", "destroy"), want: `input command: "destroy" is not a command; use one of release-deploy, prepare`},
		{name: "misspelt command", inputs: stage("command", "promte"), want: "did you mean promote?"},
		{name: "misspelt input", inputs: map[string]string{}, env: map[string]string{"INPUT_ENVIRONMEN": "stage"}, want: `input "environmen" is not an input of buoy: did you mean environment?`},
		{name: "input with underscores", inputs: stage(), env: map[string]string{"INPUT_ROLLBACK_ON_FAILURE": "true"}, want: `did you mean rollback-on-failure?`},
		{name: "input of another action", inputs: stage(), env: map[string]string{"INPUT_ROLE-TO-ASSUME": "arn:aws:iam::123456789012:role/x"}, want: `input "role-to-assume" is not an input of buoy: the inputs are command, project`},
		// Wrong types.
		{name: "boolean yes", inputs: stage("wait", "yes"), want: `input wait: "yes" is not a boolean; write true or false`},
		{name: "boolean 1", inputs: stage("dry-run", "1"), want: `input dry-run: "1" is not a boolean`},
		{name: "duration without unit", inputs: stage("timeout", "30"), want: `input timeout: "30" is not a duration: write it like 30m, 1h or 90s`},
		{name: "negative duration", inputs: stage("timeout", "-5m"), want: `input timeout: "-5m" must be more than zero`},
		{name: "zero duration", inputs: stage("timeout", "0"), want: `input timeout: "0" must be more than zero`},
		{name: "duration overflow", inputs: stage("timeout", "99999999999h"), want: `"99999999999h" is not a duration`},
		// Given empty where action.yml's default is not: an expression
		// that names nothing must not deploy latest or the newest release.
		{name: "empty label", inputs: stage("from-label", ""), want: "input from-label is empty: give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use latest"},
		{name: "blank label", inputs: stage("from-label", "  "), want: "input from-label is empty"},
		{name: "empty release", inputs: stage("command", "deploy", "release", ""), want: "input release is empty: give a release id (`buoy history` lists them), or leave it out to deploy the latest release"},
		{name: "empty command", inputs: stage("command", ""), want: "input command is empty"},
		{name: "empty timeout", inputs: stage("timeout", ""), want: "input timeout is empty: write it like 30m, or leave it out for 30m"},
		{name: "empty table", inputs: stage("table", ""), want: "input table is empty: give the DynamoDB table, or leave it out for buoy-history"},
		{name: "empty lock wait", inputs: stage("lock-wait", ""), want: "input lock-wait is empty"},
		{name: "empty ECS rate", inputs: stage("ecs-rate", ""), want: "input ecs-rate is empty"},
		{name: "empty wait", inputs: stage("wait", ""), want: "input wait is empty: write true or false"},
		{name: "release for release-deploy", inputs: stage("release", "01JD"), want: "input release is not used by command release-deploy"},
		// Missing and conflicting inputs.
		{name: "missing environment", inputs: map[string]string{}, want: "input environment is required for command release-deploy: add `environment: stage`"},
		{name: "rollback without environment", inputs: map[string]string{"command": "rollback"}, want: "input environment is required for command rollback"},
		{name: "release and from-environment", inputs: stage("command", "plan", "release", "01JD", "from-environment", "prod"), want: "inputs release and from-environment cannot be used together"},
		{name: "release for promote", inputs: map[string]string{"command": "promote", "environment": "prod", "release": "01JD"}, want: "input release is not used by command promote: remove it, or use command deploy"},
		// Ids, tags, releases, regions, tables and URLs of the wrong form.
		{name: "label with a space", inputs: stage("from-label", "ref 3f2a"), want: `input from-label: "ref 3f2a" is not an image tag`},
		{name: "image reference as label", inputs: stage("from-label", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:ref.1"), want: "is not an image tag"},
		{name: "release with a path", inputs: map[string]string{"command": "deploy", "environment": "stage", "release": "../../etc/passwd"}, want: `input release: "../../etc/passwd" is not a release id`},
		{name: "environment with a slash", inputs: stage("environment", "stage/eu"), want: `input environment: "stage/eu" is not an id of the manifest`},
		{name: "region name", inputs: stage("aws-region", "Ireland"), want: `input aws-region: "Ireland" is not an AWS region, e.g. eu-west-1`},
		{name: "table too short", inputs: stage("table", "t"), want: `input table: "t" is not a DynamoDB table name`},
		{name: "table ARN of S3", inputs: stage("table", "arn:aws:s3:::buoy-history"), want: "is not a DynamoDB table ARN"},
		{name: "javascript URL", inputs: stage("environment-url", "javascript:alert(1)"), want: `input environment-url: "javascript:alert(1)" is not a URL`},
		// Huge values, binary garbage, control characters.
		{name: "huge description", inputs: stage("description", strings.Repeat("release notes.", 8000)), want: "input description: \"release notes.release notes.release notes.release notes.release \"… (112000 bytes) is too long: at most 4096 bytes"},
		{name: "invalid UTF-8", inputs: stage("environment", "st\xffage"), want: `input environment: "st\xffage" is not valid UTF-8 text`},
		{name: "binary garbage", inputs: stage("from-label", noNUL[:200]), want: "input from-label: \"\\x"},
		{name: "terminal escape", inputs: stage("description", "deploy \x1b]8;;https://evil.example\x07here"), want: "holds the control character U+001B"},
		{name: "line break", inputs: stage("environment", "stage\n::error::pwned"), want: `input environment: "stage\n::error::pwned" holds the control character U+000A`},
		{name: "token with a line break", inputs: stage("github-token", "ghs_first\nghs_second"), want: "input github-token holds a line break"},
		// Lock and ECS budget limits: the CLI's rules and words.
		{name: "negative lock wait", inputs: stage("lock-wait", "-1s"), want: "input lock-wait must not be negative, got -1s"},
		{name: "lock wait in words", inputs: stage("lock-wait", "until free"), want: `input lock-wait: "until free" is not a duration: write it like 10m, 90s or 0`},
		{name: "lock TTL too short", inputs: stage("lock-ttl", "1s"), want: "input lock-ttl must be at least 3s (the lease is renewed every third of it), got 1s"},
		{name: "lock TTL zero", inputs: stage("lock-ttl", "0"), want: "input lock-ttl must be at least 3s"},
		{name: "lock TTL without unit", inputs: stage("lock-ttl", "120"), want: `input lock-ttl: "120" is not a duration`},
		{name: "lock TTL of centuries", inputs: stage("lock-ttl", "2562047h"), want: "input lock-ttl must be at most 10m0s (the lease is renewed every third of it, so it never needs to be long, and a killed run's lock is taken over only a lease after it stopped): write 2m, the default, or up to 10m, got 2562047h0m0s"},
		{name: "zero ECS quota share", inputs: stage("ecs-quota-share", "0"), want: "input ecs-quota-share must be a number above 0 (0.5 is half of AWS's quota, 1 all of it), not 0"},
		{name: "ECS quota share as a percentage", inputs: stage("ecs-quota-share", "50%"), want: `input ecs-quota-share: "50%" is not a number: write it like 20 or 0.5`},
		{name: "zero ECS rate", inputs: stage("ecs-rate", "0"), want: "input ecs-rate must be a number of requests a second above 0, not 0"},
		{name: "infinite ECS rate", inputs: stage("ecs-rate", "Inf"), want: "input ecs-rate must be a number of requests a second above 0, not +Inf"},
		{name: "ECS rate NaN", inputs: stage("ecs-rate", "NaN"), want: "input ecs-rate must be a number of requests a second above 0, not NaN"},
		{name: "ECS rate in words", inputs: stage("ecs-rate", "fast"), want: `input ecs-rate: "fast" is not a number: write it like 20 or 0.5`},
		{name: "ECS rate with a command", inputs: stage("ecs-rate", "20\n::error::pwned"), want: `input ecs-rate: "20\n::error::pwned" holds the control character U+000A`},
		{name: "zero ECS burst", inputs: stage("ecs-burst", "0"), want: "input ecs-burst must be at least 1, not 0"},
		{name: "negative ECS burst", inputs: stage("ecs-burst", "-3"), want: "input ecs-burst must be at least 1, not -3"},
		{name: "fractional ECS burst", inputs: stage("ecs-burst", "2.5"), want: `input ecs-burst: "2.5" is not a whole number: write it like 50`},
		{name: "huge ECS burst", inputs: stage("ecs-burst", "99999999999999999999"), want: "is not a whole number"},
		{name: "all four limits wrong", inputs: stage("lock-wait", "-1m", "lock-ttl", "2s", "ecs-rate", "-1", "ecs-burst", "0"), want: "input lock-wait must not be negative, got -1m0s; input lock-ttl must be at least 3s (the lease is renewed every third of it), got 2s; input ecs-rate must be a number of requests a second above 0, not -1; input ecs-burst must be at least 1, not 0"},
		{name: "several problems", inputs: map[string]string{"wait": "maybe", "timeout": "soon", "command": "deploy"}, want: `input wait: "maybe" is not a boolean; write true or false; input timeout: "soon" is not a duration: write it like 30m, 1h or 90s; input environment is required`},
		// The manifest, and what it does not have.
		{name: "unknown environment", inputs: stage("environment", "qa"), want: `project shop has no environment "qa": use one of stage, prod`},
		{name: "unknown source environment", inputs: map[string]string{"command": "promote", "environment": "prod", "from-environment": "qa"}, want: `has no environment "qa"`},
		{name: "unknown project", inputs: stage("project", "billing"), want: `has no project "billing": choose one of shop`},
		{name: "no manifest", inputs: stage(), files: map[string]string{}, want: "no manifest found in .: write a buoy.yaml"},
		{name: "missing manifest file", inputs: stage("manifest", "deploy/buoy.yaml"), want: "manifest deploy/buoy.yaml does not exist"},
		{name: "malformed manifest", inputs: stage(), files: map[string]string{"buoy.yaml": "version: 1\nprojects:\n  - id: shop\n    imagez: []\n"}, want: "the manifest buoy.yaml has"},
		{name: "binary manifest", inputs: stage(), files: map[string]string{"buoy.yaml": string(garbage)}, want: "the manifest is not UTF-8 text"},
		{name: "huge manifest", inputs: stage(), files: map[string]string{"buoy.yaml": strings.Repeat("# padding\n", 110000)}, want: "more than the 1048576 bytes buoy reads"},
		{name: "device as manifest", inputs: stage("manifest", "/dev/null"), want: "the manifest is a device, not a file"},
		{name: "directory as manifest", inputs: stage("manifest", "."), want: "the manifest is a directory, not a file"},
		{name: "huge aliased value", inputs: stage(), files: map[string]string{"buoy.yaml": badinput.HugeAliasedManifest()}, want: `"…(400000 bytes), which is not declared`},
		{name: "projects sharing a floating tag", inputs: stage(), files: map[string]string{"buoy.yaml": sharedTagManifest}, want: `image "frontend" of project "admin" and image "web" of project "shop" (line 3) both move the floating tag env.stage of repository shop/web`},
		{name: "no region", inputs: stage(), env: map[string]string{"AWS_REGION": ""}, want: "no AWS region: set the aws-region input"},
	}
}

// TestActionBadInput runs the built action as the runner does with each
// bad input: it exits with the bad-input code, annotates the problem with
// its own message, sets the status output to invalid and writes a job
// summary that says so and what to do (and no deployment's outputs),
// issues no command but its own, and does not panic. AWS is a closed port: nothing may reach it.
func TestActionBadInput(t *testing.T) {
	t.Parallel()
	cases := actionBadInputs()
	if len(cases) < 20 {
		t.Errorf("the corpus has %d cases, want at least 20", len(cases))
	}
	bin := buildAction(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRunner(t, bin)
			files := tc.files
			if files == nil {
				files = map[string]string{"buoy.yaml": badinput.EntrypointManifest()}
			}
			for name, text := range files {
				if err := os.WriteFile(filepath.Join(r.Workspace, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r.Inputs = tc.inputs
			r.Env = map[string]string{
				"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y",
				"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_MAX_ATTEMPTS": "1",
			}
			for k, v := range tc.env {
				r.Env[k] = v
			}
			res := r.run(t)
			if res.ExitCode != exitcode.BadInput {
				t.Errorf("exit code = %d, want %d (bad input)", res.ExitCode, exitcode.BadInput)
			}
			if !errorAnnotationSays(res.Stdout, tc.want) {
				t.Errorf("no ::error annotation says %q; stdout:\n%s", tc.want, res.Stdout)
			}
			if n := len(res.Stdout) + len(res.Stderr); n > maxBadInputOutput {
				t.Errorf("%d bytes of output, want at most %d", n, maxBadInputOutput)
			}
			if strings.Contains(res.Stdout+res.Stderr, "panic:") || strings.Contains(res.Stderr, "goroutine ") {
				t.Errorf("the action panicked:\n%s", res.Stderr)
			}
			// Refused by the action or by the library, the run reports
			// the refusal as the plugin does, and says what to do.
			if s := res.Outputs["status"]; s != "invalid" {
				t.Errorf("status output = %q, want invalid", s)
			}
			for _, k := range []string{"deployment-id", "services"} {
				if v, ok := res.Outputs[k]; ok {
					t.Errorf("output %s = %q, want none: nothing was deployed", k, v)
				}
			}
			if !strings.Contains(res.Summary, ": invalid\n") || !strings.Contains(res.Summary, "Nothing was deployed.") {
				t.Errorf("the job summary does not state the refusal and what to do:\n%s", res.Summary)
			}
			if strings.TrimSpace(res.Outputs["summary-markdown"]) != strings.TrimSpace(res.Summary) {
				t.Errorf("summary-markdown output differs from the job summary")
			}
			checkWorkflowCommands(t, res.Stdout, "pwned")
		})
	}
}

// errorAnnotationSays reports whether an ::error command's message, as
// the runner shows it (unescaped), contains want.
func errorAnnotationSays(stdout, want string) bool {
	unescape := strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	for _, line := range strings.Split(stdout, "\n") {
		m := workflowCommand.FindStringSubmatch(line)
		if m != nil && m[1] == "error" && strings.Contains(unescape.Replace(m[3]), want) {
			return true
		}
	}
	return false
}

// TestActionBadInputInProcess covers what an environment variable cannot
// hold, NUL, by calling run with injected variables.
func TestActionBadInputInProcess(t *testing.T) {
	t.Parallel()
	for name, inputs := range map[string]map[string]string{
		"NUL in environment": {"environment": "st\x00age"},
		"NUL in description": {"environment": "stage", "description": "a\x00b"},
		"NUL in token":       {"environment": "stage", "github-token": "ghs_\x00x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, inputs)
			err := h.run(t)
			var ie *inputError
			if !errors.As(err, &ie) || exitCode(err) != exitcode.BadInput {
				t.Fatalf("err = %v (exit %d), want an *inputError (exit %d)", err, exitCode(err), exitcode.BadInput)
			}
			if !strings.Contains(err.Error(), "U+0000") && !strings.Contains(err.Error(), "control character") {
				t.Errorf("err = %q, want it to name the NUL", err)
			}
			if strings.Contains(err.Error(), "\x00") || strings.Contains(err.Error(), "ghs_") {
				t.Errorf("err = %q carries the raw NUL or the token", err)
			}
			if h.fake.Opened() != nil {
				t.Errorf("the deployer was opened despite invalid inputs")
			}
		})
	}
}

// TestExitCodes: the Action's exit codes are the CLI's.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, exitcode.OK},
		{&inputError{errs: []error{errors.New("x")}}, exitcode.BadInput},
		{&reportedError{summary: "s", err: context.Canceled}, exitcode.Interrupted},
		{errors.New("boom"), exitcode.Failed},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
