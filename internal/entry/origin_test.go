package entry_test

import (
	"errors"
	"testing"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/history"
)

func TestReadOrigin(t *testing.T) {
	t.Parallel()
	const commit = "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
	github := map[string]string{"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_ACTOR": "octocat", "GITHUB_SHA": commit,
		"GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "1234", "GITHUB_SERVER_URL": "https://github.com", "USER": "runner"}
	buildkite := map[string]string{"BUILDKITE": "true", "CI": "true", "BUILDKITE_BUILD_CREATOR": "Ada Lovelace",
		"BUILDKITE_BUILD_CREATOR_EMAIL": "ada@example.com", "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/shop/builds/42",
		"BUILDKITE_COMMIT": commit, "BUILDKITE_PIPELINE_SLUG": "shop", "BUILDKITE_BUILD_NUMBER": "42", "USER": "buildkite-agent"}
	tests := []struct {
		name string
		env  map[string]string
		host string
		want entry.Origin
	}{
		{"GitHub Actions", github, "runner-1", entry.Origin{
			RequestedBy: "octocat via GitHub Actions (https://github.com/acme/shop/actions/runs/1234)",
			CI:          history.CI{Provider: "github-actions", BuildURL: "https://github.com/acme/shop/actions/runs/1234", Commit: commit, Actor: "octocat"}}},
		{"GitHub Enterprise, no actor", with(github, "GITHUB_SERVER_URL", "https://ghe.example/", "GITHUB_ACTOR", ""), "", entry.Origin{
			RequestedBy: "unknown actor via GitHub Actions (https://ghe.example/acme/shop/actions/runs/1234)",
			CI:          history.CI{Provider: "github-actions", BuildURL: "https://ghe.example/acme/shop/actions/runs/1234", Commit: commit}}},
		{"GitHub Actions, no run", with(github, "GITHUB_RUN_ID", ""), "", entry.Origin{
			RequestedBy: "octocat via GitHub Actions",
			CI:          history.CI{Provider: "github-actions", Commit: commit, Actor: "octocat"}}},
		{"Buildkite", buildkite, "agent-1", entry.Origin{
			RequestedBy: "Ada Lovelace via Buildkite (https://buildkite.com/acme/shop/builds/42)",
			CI:          history.CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/shop/builds/42", Commit: commit, Actor: "Ada Lovelace"}}},
		{"Buildkite, creator by email", with(buildkite, "BUILDKITE_BUILD_CREATOR", ""), "", entry.Origin{
			RequestedBy: "ada@example.com via Buildkite (https://buildkite.com/acme/shop/builds/42)",
			CI:          history.CI{Provider: "buildkite", BuildURL: "https://buildkite.com/acme/shop/builds/42", Commit: commit, Actor: "ada@example.com"}}},
		{"Buildkite, scheduled, no URL", with(buildkite, "BUILDKITE_BUILD_CREATOR", "", "BUILDKITE_BUILD_CREATOR_EMAIL", "", "BUILDKITE_BUILD_URL", ""), "", entry.Origin{
			RequestedBy: "pipeline shop via Buildkite (shop build 42)",
			CI:          history.CI{Provider: "buildkite", Commit: commit}}},
		{"Buildkite, nothing known", map[string]string{"BUILDKITE": "true"}, "", entry.Origin{
			RequestedBy: "unknown via Buildkite", CI: history.CI{Provider: "buildkite"}}},
		{"GitLab CI", map[string]string{"GITLAB_CI": "true", "CI": "true", "GITLAB_USER_LOGIN": "grace", "CI_COMMIT_SHA": commit,
			"CI_JOB_URL": "https://gitlab.com/acme/shop/-/jobs/7", "CI_PIPELINE_URL": "https://gitlab.com/acme/shop/-/pipelines/3"}, "", entry.Origin{
			RequestedBy: "grace via GitLab CI (https://gitlab.com/acme/shop/-/jobs/7)",
			CI:          history.CI{Provider: "gitlab-ci", BuildURL: "https://gitlab.com/acme/shop/-/jobs/7", Commit: commit, Actor: "grace"}}},
		{"GitLab CI, pipeline only", map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_URL": "https://gitlab.com/acme/shop/-/pipelines/3"}, "", entry.Origin{
			RequestedBy: "unknown actor via GitLab CI (https://gitlab.com/acme/shop/-/pipelines/3)",
			CI:          history.CI{Provider: "gitlab-ci", BuildURL: "https://gitlab.com/acme/shop/-/pipelines/3"}}},
		{"CircleCI", map[string]string{"CIRCLECI": "true", "CI": "true", "CIRCLE_USERNAME": "linus", "CIRCLE_SHA1": commit,
			"CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/shop/9"}, "", entry.Origin{
			RequestedBy: "linus via CircleCI (https://circleci.com/gh/acme/shop/9)",
			CI:          history.CI{Provider: "circleci", BuildURL: "https://circleci.com/gh/acme/shop/9", Commit: commit, Actor: "linus"}}},
		{"Jenkins", map[string]string{"JENKINS_URL": "https://ci.example/", "BUILD_ID": "17", "BUILD_NUMBER": "17", "JOB_NAME": "shop-deploy",
			"BUILD_URL": "https://ci.example/job/shop-deploy/17/", "GIT_COMMIT": commit}, "", entry.Origin{
			RequestedBy: "job shop-deploy via Jenkins (https://ci.example/job/shop-deploy/17/)",
			CI:          history.CI{Provider: "jenkins", BuildURL: "https://ci.example/job/shop-deploy/17/", Commit: commit}}},
		{"Jenkins without its URL configured", map[string]string{"JENKINS_URL": "https://ci.example/", "BUILD_ID": "17", "BUILD_NUMBER": "17",
			"JOB_NAME": "shop-deploy"}, "", entry.Origin{
			RequestedBy: "job shop-deploy via Jenkins (shop-deploy build 17)", CI: history.CI{Provider: "jenkins"}}},
		{"another CI", map[string]string{"CI": "true", "USER": "drone"}, "ci-box", entry.Origin{
			RequestedBy: "drone@ci-box via CI", CI: history.CI{Provider: "ci"}}},
		{"another CI, CI=1", map[string]string{"CI": "1", "USER": "drone"}, "ci-box", entry.Origin{
			RequestedBy: "drone@ci-box via CI", CI: history.CI{Provider: "ci"}}},
		{"CI=false is a terminal", map[string]string{"CI": "false", "USER": "alice"}, "laptop", entry.Origin{RequestedBy: "alice@laptop"}},
		{"terminal", map[string]string{"USER": "alice"}, "laptop", entry.Origin{RequestedBy: "alice@laptop"}},
		{"terminal, no host name", map[string]string{"USER": "alice"}, "", entry.Origin{RequestedBy: "alice"}},
		{"terminal, no user", map[string]string{}, "laptop", entry.Origin{RequestedBy: "unknown@laptop"}},
		{"GitHub Actions first", with(buildkite, "GITHUB_ACTIONS", "true", "GITHUB_ACTOR", "octocat"), "", entry.Origin{
			RequestedBy: "octocat via GitHub Actions", CI: history.CI{Provider: "github-actions", Actor: "octocat"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hostname := func() (string, error) {
				if tt.host == "" {
					return "", errors.New("no host name")
				}
				return tt.host, nil
			}
			got := entry.ReadOrigin(func(k string) string { return tt.env[k] }, hostname)
			if got != tt.want {
				t.Errorf("ReadOrigin:\ngot  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// with returns a copy of env with the given keys set (to "" to unset).
func with(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
