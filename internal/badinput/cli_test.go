package badinput_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/badinput"
)

// exitBadInput is the CLI's exit code for bad input (docs/cli.md).
const exitBadInput = 2

// maxBadInputOutput bounds what the CLI prints about any bad input: a
// few KB, whatever the input's size.
const maxBadInputOutput = 16 << 10

// TestCLIBadInput drives the built CLI with bad flags, arguments and
// manifests: each exits with the bad-input code and names the problem,
// before any AWS call (the endpoint is a closed port).
func TestCLIBadInput(t *testing.T) {
	t.Parallel()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	bin := filepath.Join(t.TempDir(), "buoy")
	build := exec.Command("go", "build", "-o", bin, "./cmd/buoy")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the CLI: %v\n%s", err, out)
	}
	valid := filepath.Join(root, "pkg", "manifest", "testdata", "v1", "valid_minimal.yaml")
	bad := filepath.Join(root, "testdata", "badinput", "manifest")
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	if err := os.WriteFile(huge, []byte(badinput.HugeAliasedManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"release-deploy", "--bogus"}, "buoy release-deploy takes no --bogus; see buoy release-deploy --help for its flags"},
		{"a flag of another command", []string{"plan", "--manifest", valid, "-e", "prod", "--rollback"}, "buoy plan takes no --rollback (deploy, promote, release-deploy and rollback take it)"},
		{"bad output format", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--output", "yaml"}, `--output must be text or json, not "yaml"`},
		{"missing environment", []string{"release-deploy", "--manifest", valid}, "missing --environment: which environment to deploy to (one of prod)"},
		{"unknown environment", []string{"release-deploy", "--manifest", valid, "-e", "nope"}, `has no environment "nope"`},
		{"unknown project", []string{"release-deploy", "--manifest", valid, "--project", "nope", "-e", "prod"}, `has no project "nope": choose one of hello`},
		{"missing manifest", []string{"release-deploy", "--manifest", "/nonexistent/buoy.yaml", "-e", "prod"}, "manifest /nonexistent/buoy.yaml does not exist"},
		{"bad duration", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--timeout", "abc"}, `invalid argument "abc" for "--timeout"`},
		{"zero ECS rate", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--ecs-rate", "0"}, "--ecs-rate must be a number of requests a second above 0"},
		{"infinite ECS rate", []string{"plan", "--manifest", valid, "-e", "prod", "--ecs-rate", "Inf"}, "--ecs-rate must be a number of requests a second above 0, not +Inf"},
		{"zero ECS burst", []string{"promote", "--manifest", valid, "-e", "prod", "--ecs-burst", "0"}, "--ecs-burst must be at least 1, not 0"},
		{"zero ECS quota share", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--ecs-quota-share", "0"}, "--ecs-quota-share must be a number above 0"},
		{"lock TTL too short", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--lock-ttl", "1s"}, "--lock-ttl must be at least 3s (the lease is renewed every third of it), got 1s"},
		{"bad lock TTL", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--lock-ttl", "soon"}, `invalid argument "soon" for "--lock-ttl"`},
		{"zero rollback timeout", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--rollback", "--rollback-timeout", "0s"}, "--rollback-timeout 0s is not more than zero"},
		{"unlock without a reason", []string{"unlock", "--manifest", valid, "-e", "prod"}, `missing --reason: say why you free the lock, e.g. --reason "build 41 was killed"; it is kept in the history`},
		{"unlock with an escape in the reason", []string{"unlock", "--manifest", valid, "-e", "prod", "--reason", "stuck\x1b[2J"}, `--reason: "stuck\x1b[2J" holds the control character U+001B`},
		{"unlock without environment", []string{"unlock", "--manifest", valid, "--reason", "stuck"}, "missing --environment: which environment to unlock (one of prod)"},
		{"unlock of an unknown environment", []string{"unlock", "--manifest", valid, "-e", "nope", "--reason", "stuck"}, `has no environment "nope"`},
		{"lock TTL of centuries", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--lock-ttl", "2562047h"}, "--lock-ttl must be at most 10m0s (the lease is renewed every third of it, so it never needs to be long, and a killed run's lock is taken over only a lease after it stopped): write 2m, the default, or up to 10m, got 2562047h0m0s"},
		{"lock TTL above the maximum", []string{"deploy", "--manifest", valid, "-e", "prod", "--lock-ttl", "11m"}, "--lock-ttl must be at most 10m0s"},
		{"negative lock wait", []string{"deploy", "--manifest", valid, "-e", "prod", "--lock-wait", "-1s"}, "--lock-wait must not be negative, got -1s"},
		{"bad manifest", []string{"release-deploy", "--manifest", filepath.Join(bad, "env_bad_strategy.yaml"), "-e", "prod"}, `strategy "tags" is not known (did you mean "tag"?)`},
		{"binary manifest", []string{"validate", "--manifest", bin}, "the manifest is"},
		{"bad pre_deploy task", []string{"validate", "--manifest", filepath.Join(bad, "pre_deploy_unknown_service.yaml")},
			`pre_deploy_unknown_service.yaml:16:22: environments[prod].pre_deploy[0].service: service "wbe" is not a service of project "hello" (did you mean "web"?)`},
		{"YAML bomb", []string{"validate", "--manifest", filepath.Join(bad, "billion_laughs.yaml")}, "project must be a mapping, not a list"},
		// Given empty, or negative or zero, where leaving it out means a
		// default: refused rather than taken as the default.
		{"empty label", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--from-label", ""}, "--from-label is empty: give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use latest"},
		{"empty label to prepare", []string{"prepare", "--manifest", valid, "--from-label="}, "--from-label is empty"},
		{"empty release", []string{"deploy", "--manifest", valid, "-e", "prod", "--release", ""}, "--release is empty: give a release id (`buoy history` lists them), or leave it out to deploy the latest release"},
		{"empty release to plan", []string{"plan", "--manifest", valid, "-e", "prod", "--release", ""}, "--release is empty"},
		{"empty release argument", []string{"show-release", "--manifest", valid, ""}, "the release argument is empty"},
		{"empty source environment", []string{"promote", "--manifest", valid, "-e", "prod", "--from-environment", ""}, "--from-environment is empty"},
		{"empty table", []string{"status", "--manifest", valid, "--table", ""}, "--table is empty: give the DynamoDB table, or leave it out for buoy-history"},
		{"empty manifest", []string{"validate", "--manifest", ""}, "--manifest is empty"},
		{"empty region", []string{"history", "--manifest", valid, "--region", ""}, "--region is empty"},
		{"negative timeout", []string{"release-deploy", "--manifest", valid, "-e", "prod", "--timeout", "-5s"}, "--timeout must be more than zero, got -5s: write it like 30m"},
		{"zero timeout", []string{"deploy", "--manifest", valid, "-e", "prod", "--timeout", "0"}, "--timeout must be more than zero, got 0s"},
		{"zero history limit", []string{"history", "--manifest", valid, "--limit", "0"}, "--limit must be at least 1, got 0"},
		{"negative history limit", []string{"history", "--manifest", valid, "--limit", "-3"}, "--limit must be at least 1, got -3"},
		{"ecs-deploy negative desired count", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-D", "-5"}, "-D/--desired-count must not be negative, got -5"},
		{"ecs-deploy minimum over 100", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-m", "150"}, "-m/--min must be a percentage from 0 to 100, got 150"},
		{"ecs-deploy negative minimum", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-m", "-1"}, "-m/--min must be a percentage from 0 to 100, got -1"},
		{"ecs-deploy maximum below 100", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-M", "50"}, "-M/--max must be 100 or more, got 50"},
		{"ecs-deploy zero timeout", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-t", "0"}, "-t/--timeout must be a number of seconds above 0, got 0"},
		{"ecs-deploy negative timeout", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-t", "-5"}, "-t/--timeout must be a number of seconds above 0, got -5"},
		{"ecs-deploy negative max definitions", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "--max-definitions", "-1"}, "--max-definitions must not be negative, got -1"},
		{"ecs-deploy empty tag variable", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api", "-e", ""}, "--tag-env-var is empty"},
		// ecs-deploy's flags that another would leave ignored, or that
		// need another: the classic script ignores them in silence (or
		// exits 10 to 12); buoy says which to drop or add.
		{"ecs-deploy wait for success without run task", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--wait-for-success"}, "--wait-for-success needs --run-task"},
		{"ecs-deploy launch type without run task", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--launch-type", "FARGATE"}, "--launch-type needs --run-task"},
		{"ecs-deploy platform version without run task", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--platform-version", "1.4.0"}, "--platform-version needs --run-task"},
		{"ecs-deploy network without run task", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--network-configuration", "awsvpcConfiguration={subnets=[s]}"}, "--network-configuration needs --run-task"},
		{"ecs-deploy run task of a service", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "--run-task"}, "pass --run-task or --service-name, not both"},
		{"ecs-deploy run task without a cluster", []string{"ecs-deploy", "-d", "migrate", "-i", "repo/api:v1", "--run-task"}, "--run-task needs -c/--cluster"},
		{"ecs-deploy bad launch type", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--run-task", "--launch-type", "LAMBDA"}, `--launch-type must be EC2, FARGATE or EXTERNAL, not "LAMBDA"`},
		{"ecs-deploy bad network", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--run-task", "--network-configuration", "subnet-1"}, "--network-configuration: \"subnet-1\" is not a network configuration"},
		{"ecs-deploy access key without secret", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-k", "AKIAEXAMPLE"}, "--aws-access-key needs --aws-secret-key"},
		{"ecs-deploy secret without access key", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-s", "secret"}, "--aws-secret-key needs --aws-access-key"},
		{"ecs-deploy keys and a profile", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-k", "AKIAEXAMPLE", "-s", "secret", "-p", "prod"}, "pass --aws-access-key or --profile, not both"},
		{"ecs-deploy instance profile and keys", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-k", "AKIAEXAMPLE", "-s", "secret", "--aws-instance-profile"}, "pass --aws-instance-profile or --aws-access-key, not both"},
		{"ecs-deploy instance profile and a profile", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-p", "prod", "--aws-instance-profile"}, "pass --aws-instance-profile or --profile, not both"},
		{"ecs-deploy run task without waiting", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--run-task", "--no-wait"}, "pass --no-wait or --run-task, not both"},
		{"ecs-deploy bad role", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-a", "deploy"}, `-a/--aws-assume-role "deploy" is not a role ARN`},
		{"ecs-deploy forced deployment with an image", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "--force-new-deployment"}, "--force-new-deployment redeploys the task definition the service runs, as it is, so it takes no --image"},
		{"ecs-deploy forced deployment with max definitions", []string{"ecs-deploy", "-c", "main", "-n", "api", "--force-new-deployment", "--max-definitions", "3"}, "so it takes no --max-definitions"},
		{"ecs-deploy forced deployment of no service", []string{"ecs-deploy", "-c", "main", "--force-new-deployment"}, "--force-new-deployment needs -n/--service-name"},
		{"ecs-deploy no image", []string{"ecs-deploy", "-c", "main", "-n", "api"}, "missing -i/--image (or -to/--tag-only"},
		{"ecs-deploy -toc without -to", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-toc", "app"}, "--tag-only-container-names needs --tag-only"},
		{"ecs-deploy -to with -e", []string{"ecs-deploy", "-c", "main", "-n", "api", "-to", "v2", "-e", "GIT_TAG"}, "pass --tag-only or --tag-env-var, not both"},
		{"ecs-deploy -to that is no tag", []string{"ecs-deploy", "-c", "main", "-n", "api", "-to", "-v2-", "-i", "ignore"}, `the tag for every container's image: tag "-v2-" is not valid`},
		{"ecs-deploy task definition file", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--task-definition-file", "td.json"}, "--task-definition-file is not supported: register the file with `aws ecs register-task-definition --cli-input-json file://td.json`"},
		{"ecs-deploy skip check without waiting", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "--no-wait", "--skip-deployments-check"}, "pass --no-wait or --skip-deployments-check, not both"},
		{"ecs-deploy empty secret key", []string{"ecs-deploy", "-c", "main", "-n", "api", "-i", "repo/api:v1", "-k", "AKIAEXAMPLE", "-s", ""}, "--aws-secret-key is empty"},
		{"ecs-deploy empty tag only", []string{"ecs-deploy", "-c", "main", "-n", "api", "-to", ""}, "--tag-only is empty"},
		{"ecs-deploy negative log lines", []string{"ecs-deploy", "-c", "main", "-d", "migrate", "-i", "repo/api:v1", "--run-task", "--wait-for-success", "--log-lines", "-1"}, "--log-lines must be from 0 to 10000"},
		{"device as manifest", []string{"validate", "--manifest", os.DevNull}, "the manifest is a device, not a file (give the path of a buoy.yaml or .wellcome_project file)"},
		{"directory as manifest", []string{"release-deploy", "--manifest", root, "-e", "prod"}, "the manifest is a directory, not a file"},
		{"huge aliased value", []string{"validate", "--manifest", huge}, `"…(400000 bytes), which is not declared`},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"extra argument", []string{"deploy", "--manifest", valid, "-e", "prod", "extra-arg"}, `"extra-arg"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = []string{"HOME=" + t.TempDir(), "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=y",
				"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true"}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			}
			if code != exitBadInput {
				t.Errorf("buoy %s: exit %d, want %d (bad input)\n%s", strings.Join(tc.args, " "), code, exitBadInput, &out)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("buoy %s: output does not say %q:\n%s", strings.Join(tc.args, " "), tc.want, &out)
			}
			if n := out.Len(); n > maxBadInputOutput {
				t.Errorf("buoy %.200s: %d bytes of output, want at most %d", strings.Join(tc.args, " "), n, maxBadInputOutput)
			}
			if strings.Contains(out.String(), "panic:") || strings.Contains(out.String(), "goroutine ") {
				t.Errorf("buoy %s panicked:\n%s", strings.Join(tc.args, " "), &out)
			}
		})
	}
}
