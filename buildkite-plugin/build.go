package main

import (
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// build is the Buildkite build the step runs in, read from the variables
// the agent sets for every job.
type build struct {
	URL          string // BUILDKITE_BUILD_URL
	Creator      string // BUILDKITE_BUILD_CREATOR
	CreatorEmail string // BUILDKITE_BUILD_CREATOR_EMAIL
	Commit       string // BUILDKITE_COMMIT
	Branch       string // BUILDKITE_BRANCH
	Pipeline     string // BUILDKITE_PIPELINE_SLUG
	Number       string // BUILDKITE_BUILD_NUMBER
}

// readBuild reads the build context from the environment.
func readBuild(getenv func(string) string) build {
	return build{
		URL:          getenv("BUILDKITE_BUILD_URL"),
		Creator:      getenv("BUILDKITE_BUILD_CREATOR"),
		CreatorEmail: getenv("BUILDKITE_BUILD_CREATOR_EMAIL"),
		Commit:       getenv("BUILDKITE_COMMIT"),
		Branch:       getenv("BUILDKITE_BRANCH"),
		Pipeline:     getenv("BUILDKITE_PIPELINE_SLUG"),
		Number:       getenv("BUILDKITE_BUILD_NUMBER"),
	}
}

// actor names who started the build: its creator, else their email; a
// build started by a schedule or a webhook has neither.
func (b build) actor() string {
	switch {
	case b.Creator != "":
		return b.Creator
	case b.CreatorEmail != "":
		return b.CreatorEmail
	}
	return ""
}

// requester is what the history records as RequestedBy, e.g.
// "Ada Lovelace via Buildkite (https://buildkite.com/acme/app/builds/42)".
func (b build) requester() string {
	who := b.actor()
	if who == "" {
		who = "unknown"
		if b.Pipeline != "" {
			who = "pipeline " + b.Pipeline
		}
	}
	where := b.URL
	if where == "" && b.Pipeline != "" {
		where = fmt.Sprintf("%s build %s", b.Pipeline, b.Number)
	}
	if where == "" {
		return who + " via Buildkite"
	}
	return fmt.Sprintf("%s via Buildkite (%s)", who, where)
}

// description is the history's description: the configured one, else the
// build URL.
func (b build) description(configured string) string {
	if configured != "" {
		return configured
	}
	return b.URL
}

// ci is the history's CI context.
func (b build) ci() history.CI {
	return history.CI{Provider: "buildkite", BuildURL: b.URL, Commit: b.Commit, Actor: b.actor()}
}
