package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// releaseDeployConfig is what `buoy release-deploy` takes.
type releaseDeployConfig struct {
	common commonFlags
	req    requestFlags
	label  string
}

func newReleaseDeployCommand(a *app) *cobra.Command {
	var cfg releaseDeployConfig
	cmd := &cobra.Command{
		Use:   "release-deploy",
		Short: "Make a release from a label and deploy it to an environment",
		Long: `release-deploy pins the digest the label (default latest) points at for
every image of the project in a new release, then deploys it: it moves the
environment's floating tags to those digests, redeploys the ECS services
that use them and waits until ECS has rolled them out.

For a legacy project without image_repositories, whose images are kept in
SSM, it takes the images from /{project}/images/{label}/ and deploys by
writing /{project}/images/{environment}/{image} = the image URI pinned by
digest, for the Terraform stacks that read it: no tag moves and no ECS
service is updated.`,
		Example: `  # what CI runs after pushing repo:ref.<sha> and repo:latest
  buoy release-deploy --environment stage --from-label ref.$GIT_COMMIT`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReleaseDeploy(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.req.register(cmd)
	cmd.Flags().StringVar(&cfg.label, "from-label", deploy.DefaultLabel, "tag to take the images' digests from")
	return cmd
}

func runReleaseDeploy(ctx context.Context, a *app, cfg releaseDeployConfig) error {
	return a.operate(ctx, &cfg.common, &cfg.req, entry.Request{Operation: entry.ReleaseDeploy, Label: cfg.label}, "deploy to")
}
