package entry

import (
	"strings"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// Origin is who asks for an operation and from where, as the history
// records it (Release.RequestedBy and CI, Deployment.RequestedBy and CI,
// the lock's holder).
type Origin struct {
	// RequestedBy is "<actor> via <CI> (<build URL>)" in CI, e.g. "alice
	// via GitHub Actions (https://github.com/acme/shop/actions/runs/42)",
	// and "$USER@host" at a terminal.
	RequestedBy string
	// CI is the build the request came from; zero at a terminal.
	CI history.CI
}

// ReadOrigin says where a run comes from, from the variables the CI
// systems document (getenv): GitHub Actions, Buildkite, GitLab CI,
// CircleCI, Jenkins, or another CI that sets CI=true; else a person at a
// terminal, named $USER@host (host from hostname). Every entrypoint calls
// it, so the same build records the same origin whichever entrypoint ran.
func ReadOrigin(getenv func(string) string, hostname func() (string, error)) Origin {
	env := environment{getenv: getenv, hostname: hostname}
	for _, s := range ciSystems() {
		if !s.detect(env) {
			continue
		}
		b := s.read(env)
		who := b.actor
		if who == "" {
			who = b.anonymous
		}
		if who == "" {
			who = "unknown actor"
		}
		where := b.url
		if where == "" {
			where = b.place
		}
		by := who + " via " + s.name
		if where != "" {
			by += " (" + where + ")"
		}
		return Origin{RequestedBy: by, CI: history.CI{Provider: s.provider, BuildURL: b.url, Commit: b.commit, Actor: b.actor}}
	}
	return Origin{RequestedBy: env.terminalUser()}
}

// environment is what ReadOrigin reads.
type environment struct {
	getenv   func(string) string
	hostname func() (string, error)
}

// terminalUser is $USER@host, or $USER when the host has no name.
func (e environment) terminalUser() string {
	user := e.getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := e.hostname()
	if err != nil || host == "" {
		return user
	}
	return user + "@" + host
}

// ciSystem is a CI system recognised by the variables it documents.
type ciSystem struct {
	provider string // history.CI.Provider
	name     string // as RequestedBy names it
	detect   func(environment) bool
	read     func(environment) build
}

// build is what a CI system's variables say of the build.
type build struct {
	actor  string // who started it; "" when the build does not say
	url    string // the build's page
	commit string
	// anonymous names who asked when actor is empty ("" for "unknown
	// actor"); place names the build when url is empty.
	anonymous, place string
}

// ciSystems lists the CI systems in the order they are looked for: a
// runner of one inside another (rare) counts as the first.
func ciSystems() []ciSystem {
	return []ciSystem{
		{provider: "github-actions", name: "GitHub Actions", detect: isTrue("GITHUB_ACTIONS"), read: readGitHubActions},
		{provider: "buildkite", name: "Buildkite", detect: isTrue("BUILDKITE"), read: readBuildkite},
		{provider: "gitlab-ci", name: "GitLab CI", detect: isTrue("GITLAB_CI"), read: readGitLabCI},
		{provider: "circleci", name: "CircleCI", detect: isTrue("CIRCLECI"), read: readCircleCI},
		{provider: "jenkins", name: "Jenkins", detect: func(e environment) bool {
			return e.getenv("JENKINS_URL") != "" && e.getenv("BUILD_ID") != ""
		}, read: readJenkins},
		{provider: "ci", name: "CI", detect: func(e environment) bool {
			v := e.getenv("CI")
			return strings.EqualFold(v, "true") || v == "1"
		}, read: func(e environment) build { return build{anonymous: e.terminalUser()} }},
	}
}

func isTrue(name string) func(environment) bool {
	return func(e environment) bool { return e.getenv(name) == "true" }
}

// readGitHubActions reads a workflow run: GITHUB_ACTOR, GITHUB_SHA and
// the run's page from GITHUB_SERVER_URL, GITHUB_REPOSITORY and
// GITHUB_RUN_ID.
func readGitHubActions(e environment) build {
	b := build{actor: e.getenv("GITHUB_ACTOR"), commit: e.getenv("GITHUB_SHA")}
	repo, run := e.getenv("GITHUB_REPOSITORY"), e.getenv("GITHUB_RUN_ID")
	if repo != "" && run != "" {
		server := strings.TrimSuffix(e.getenv("GITHUB_SERVER_URL"), "/")
		if server == "" {
			server = "https://github.com"
		}
		b.url = server + "/" + repo + "/actions/runs/" + run
	}
	return b
}

// readBuildkite reads a build: its creator (or their email),
// BUILDKITE_BUILD_URL and BUILDKITE_COMMIT; a build a schedule or a
// webhook started is named by its pipeline.
func readBuildkite(e environment) build {
	b := build{actor: e.getenv("BUILDKITE_BUILD_CREATOR"), url: e.getenv("BUILDKITE_BUILD_URL"), commit: e.getenv("BUILDKITE_COMMIT"),
		anonymous: "unknown"}
	if b.actor == "" {
		b.actor = e.getenv("BUILDKITE_BUILD_CREATOR_EMAIL")
	}
	if pipeline := e.getenv("BUILDKITE_PIPELINE_SLUG"); pipeline != "" {
		b.anonymous = "pipeline " + pipeline
		b.place = pipeline + " build " + e.getenv("BUILDKITE_BUILD_NUMBER")
	}
	return b
}

// readGitLabCI reads a job: GITLAB_USER_LOGIN, CI_JOB_URL (else
// CI_PIPELINE_URL) and CI_COMMIT_SHA.
func readGitLabCI(e environment) build {
	b := build{actor: e.getenv("GITLAB_USER_LOGIN"), url: e.getenv("CI_JOB_URL"), commit: e.getenv("CI_COMMIT_SHA")}
	if b.url == "" {
		b.url = e.getenv("CI_PIPELINE_URL")
	}
	return b
}

// readCircleCI reads a job: CIRCLE_USERNAME, CIRCLE_BUILD_URL and
// CIRCLE_SHA1.
func readCircleCI(e environment) build {
	return build{actor: e.getenv("CIRCLE_USERNAME"), url: e.getenv("CIRCLE_BUILD_URL"), commit: e.getenv("CIRCLE_SHA1")}
}

// readJenkins reads a build: BUILD_URL and GIT_COMMIT (the Git plugin's);
// Jenkins does not say who started it, so the job names it.
func readJenkins(e environment) build {
	b := build{url: e.getenv("BUILD_URL"), commit: e.getenv("GIT_COMMIT")}
	if job := e.getenv("JOB_NAME"); job != "" {
		b.anonymous = "job " + job
		b.place = job + " build " + e.getenv("BUILD_NUMBER")
	}
	return b
}
