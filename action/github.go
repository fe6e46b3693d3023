package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/action/ghdeploy"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// githubDeployment is the GitHub deployment that mirrors buoy's, or a no-op
// when there is none (no token, a dry run, or GitHub refused). A failure to
// talk to GitHub never fails the AWS deployment: it is a warning.
type githubDeployment struct {
	client *ghdeploy.Client
	id     int64
}

// githubTimeout bounds each call to the GitHub API, retries included.
const githubTimeout = 2 * time.Minute

// startGitHubDeployment creates a GitHub deployment for the environment of
// project (or finds the one an earlier try of this step created) and
// marks it in progress, when the github-token input is given. A protected
// environment is a production one on GitHub.
func startGitHubDeployment(ctx context.Context, a *githubactions.Action, s *settings, project *manifest.Project, opts []ghdeploy.Option) *githubDeployment {
	if s.GitHubToken == "" || s.DryRun || !s.Operation.Changes() {
		return &githubDeployment{}
	}
	if s.GitHub.Repository == "" || s.GitHub.SHA == "" {
		a.Warningf("not recording a GitHub deployment: GITHUB_REPOSITORY or GITHUB_SHA is not set (is this a workflow run?)")
		return &githubDeployment{}
	}
	client := ghdeploy.New(s.GitHub.Repository, s.GitHubToken,
		append([]ghdeploy.Option{ghdeploy.WithBaseURL(s.GitHub.APIURL)}, opts...)...)
	ctx, cancel := context.WithTimeout(ctx, githubTimeout)
	defer cancel()
	d := ghdeploy.Deployment{
		Ref:         s.GitHub.SHA,
		Environment: s.Environment,
		Description: s.Description,
		Run:         ghdeploy.Run{ID: s.GitHub.RunID, Attempt: s.GitHub.RunAttempt, Job: s.GitHub.Job, Step: s.GitHub.Step},
	}
	if project != nil {
		d.Run.Project = project.ID
		for _, e := range project.Environments {
			if e.ID == s.Environment {
				d.ProductionEnvironment = e.Protected
			}
		}
	}
	id, err := client.Create(ctx, d)
	if err != nil {
		a.Warningf("%s", annotationText(fmt.Sprintf("the deployment goes on, but GitHub will not show it: %s", err)))
		return &githubDeployment{}
	}
	g := &githubDeployment{client: client, id: id}
	g.set(ctx, a, s, ghdeploy.StateInProgress, "buoy is deploying")
	return g
}

// finish posts the deployment's final status.
func (g *githubDeployment) finish(ctx context.Context, a *githubactions.Action, s *settings, res *deploy.Result, err error) {
	if g.client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), githubTimeout)
	defer cancel()
	state, desc := ghdeploy.StateSuccess, "deployed"
	if res != nil && res.Release != nil {
		desc += " release " + res.Release.ID
	}
	if err != nil || (res != nil && res.Status != history.StatusSucceeded) {
		state, desc = ghdeploy.StateFailure, "failed"
		if err != nil {
			desc += ": " + err.Error()
		}
	}
	g.set(ctx, a, s, state, desc)
}

func (g *githubDeployment) set(ctx context.Context, a *githubactions.Action, s *settings, state, desc string) {
	err := g.client.SetStatus(ctx, g.id, ghdeploy.Status{
		State:          state,
		LogURL:         s.Origin.CI.BuildURL,
		EnvironmentURL: s.EnvironmentURL,
		Description:    desc,
	})
	if err != nil {
		a.Warningf("%s", annotationText(fmt.Sprintf("GitHub may show the deployment in the wrong state: %s", err)))
	}
}
