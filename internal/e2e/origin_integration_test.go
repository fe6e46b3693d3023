//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// origin is who a release records as having asked, as stored: the
// requester and the CI context of the item's JSON.
type origin struct {
	RequestedBy string `json:"requestedBy"`
	Description string `json:"description"`
	CI          struct {
		Provider string `json:"provider"`
		BuildURL string `json:"buildUrl"`
		Commit   string `json:"commit"`
		Actor    string `json:"actor"`
	} `json:"ci"`
}

// TestEveryEntrypointRecordsTheSameOrigin: in each environment a CI
// system (or a terminal) gives, the CLI (buoy prepare), the GitHub Action
// and the Buildkite plugin (command prepare) record the same requester and
// CI context in the release they write, in the one form docs/history.md
// states. The releases are read from DynamoDB with the AWS SDK.
func TestEveryEntrypointRecordsTheSameOrigin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 1})
	bins := map[string]string{
		"cli":    cihost.Build(t, "github.com/buoy-deploy/buoy/cmd/buoy", "buoy"),
		"action": cihost.Build(t, "github.com/buoy-deploy/buoy/action", "buoy-action"),
		"plugin": cihost.Build(t, "github.com/buoy-deploy/buoy/buildkite-plugin", "buoy-buildkite-plugin"),
	}
	agent := t.TempDir() // the plugin's buildkite-agent: accepts and drops annotations and meta-data
	if err := os.WriteFile(filepath.Join(agent, "buildkite-agent"), []byte("#!/bin/sh\ncat >/dev/null\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Fatalf("this machine has no host name to expect: %v", err)
	}
	const commit = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
	tests := []struct {
		name     string
		env      map[string]string
		want     string // RequestedBy
		provider string
		commit   string
	}{
		{"GitHub Actions", map[string]string{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SHA": commit,
			"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "1234", "GITHUB_SERVER_URL": "https://github.com"},
			"octocat via GitHub Actions (https://github.com/acme/shop/actions/runs/1234)", "github-actions", commit},
		{"Buildkite", map[string]string{"BUILDKITE": "true", "CI": "true", "BUILDKITE_BUILD_CREATOR": "Ada Lovelace",
			"BUILDKITE_BUILD_URL": "https://buildkite.com/acme/shop/builds/42", "BUILDKITE_COMMIT": commit,
			"BUILDKITE_PIPELINE_SLUG": "shop", "BUILDKITE_BUILD_NUMBER": "42"},
			"Ada Lovelace via Buildkite (https://buildkite.com/acme/shop/builds/42)", "buildkite", commit},
		{"GitLab CI", map[string]string{"GITLAB_CI": "true", "CI": "true", "GITLAB_USER_LOGIN": "grace", "CI_COMMIT_SHA": commit,
			"CI_JOB_URL": "https://gitlab.com/acme/shop/-/jobs/7"},
			"grace via GitLab CI (https://gitlab.com/acme/shop/-/jobs/7)", "gitlab-ci", commit},
		{"CircleCI", map[string]string{"CIRCLECI": "true", "CI": "true", "CIRCLE_USERNAME": "linus", "CIRCLE_SHA1": commit,
			"CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/shop/9"},
			"linus via CircleCI (https://circleci.com/gh/acme/shop/9)", "circleci", commit},
		{"Jenkins", map[string]string{"JENKINS_URL": "https://ci.example/", "BUILD_ID": "17", "BUILD_NUMBER": "17",
			"JOB_NAME": "shop-deploy", "BUILD_URL": "https://ci.example/job/shop-deploy/17/", "GIT_COMMIT": commit},
			"job shop-deploy via Jenkins (https://ci.example/job/shop-deploy/17/)", "jenkins", commit},
		{"another CI", map[string]string{"CI": "true"}, "alice@" + host + " via CI", "ci", ""},
		{"terminal", map[string]string{}, "alice@" + host, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, e := range []string{"cli", "action", "plugin"} {
				description := tt.name + " by the " + e
				env := map[string]string{
					"PATH": agent + ":" + os.Getenv("PATH"), "HOME": t.TempDir(), "USER": "alice",
					"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": awstest.Region,
					"AWS_ENDPOINT_URL": awstest.Endpoint(t), "AWS_EC2_METADATA_DISABLED": "true",
				}
				for k, v := range tt.env {
					env[k] = v
				}
				var args []string
				switch e {
				case "cli":
					args = []string{"prepare", "--from-label", "ref." + deployfixture.NewCommit, "--table", f.Table, "--description", description}
				case "action":
					for k, v := range map[string]string{"COMMAND": "prepare", "FROM-LABEL": "ref." + deployfixture.NewCommit, "TABLE": f.Table, "DESCRIPTION": description} {
						env["INPUT_"+k] = v
					}
				case "plugin":
					config, err := json.Marshal(map[string]string{"command": "prepare", "from-label": "ref." + deployfixture.NewCommit, "table": f.Table, "description": description})
					if err != nil {
						t.Fatal(err)
					}
					env["BUILDKITE_PLUGIN_CONFIGURATION"] = string(config)
				}
				if out, err := runIn(f.Dir, bins[e], env, args...); err != nil {
					t.Fatalf("%s: %v\n%s", e, err, out)
				}
			}
			got := releasesBy(ctx, t, f.Table, tt.name+" by the ")
			if len(got) != 3 {
				t.Fatalf("releases: got %d (%v), want one by each entrypoint", len(got), got)
			}
			cli := got[tt.name+" by the cli"]
			if cli.RequestedBy != tt.want {
				t.Errorf("the CLI recorded RequestedBy %q, want %q", cli.RequestedBy, tt.want)
			}
			if cli.CI.Provider != tt.provider || cli.CI.Commit != tt.commit {
				t.Errorf("the CLI recorded CI %+v, want provider %q and commit %q", cli.CI, tt.provider, tt.commit)
			}
			for _, e := range []string{"action", "plugin"} {
				r := got[tt.name+" by the "+e]
				r.Description = cli.Description // each run says which it was
				if r != cli {
					t.Errorf("the %s recorded %s, %+v; the CLI %s, %+v: want the same", e, r.RequestedBy, r.CI, cli.RequestedBy, cli.CI)
				}
			}
		})
	}
}

// runIn runs bin with args and nothing but env, in dir, and returns its
// output; an error if it did not exit 0.
func runIn(dir, bin string, env map[string]string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// releasesBy reads, with the AWS SDK, the releases in table whose
// description starts with prefix, by description.
func releasesBy(ctx context.Context, t *testing.T, table, prefix string) map[string]origin {
	t.Helper()
	scan, err := dynamodb.NewFromConfig(awstest.Config(t)).Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatalf("scan the history: %v", err)
	}
	out := map[string]origin{}
	for _, it := range scan.Items {
		sk, _ := it["sk"].(*ddbtypes.AttributeValueMemberS)
		data, _ := it["data"].(*ddbtypes.AttributeValueMemberS)
		if sk == nil || data == nil || !strings.HasPrefix(sk.Value, "RELEASE#") {
			continue
		}
		var o origin
		if err := json.Unmarshal([]byte(data.Value), &o); err != nil {
			t.Fatalf("release %s: %v", sk.Value, err)
		}
		if strings.HasPrefix(o.Description, prefix) {
			out[o.Description] = o
		}
	}
	return out
}
