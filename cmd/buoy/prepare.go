package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// prepareConfig is what `buoy prepare` takes.
type prepareConfig struct {
	common      commonFlags
	label       string
	description string
}

func newPrepareCommand(a *app) *cobra.Command {
	var cfg prepareConfig
	cmd := &cobra.Command{
		Use:   "prepare",
		Short: "Make a release: pin the digest a label points at for every image",
		Long: `prepare makes a release: for every image of the project, the digest the
label (default latest) points at in ECR.

For a legacy project without image_repositories, whose images are kept in
SSM, it reads the image URIs CI wrote to /{project}/images/{label}/ (one
parameter per image) and pins each by digest: an ECR URI with a tag is
looked up in ECR, a URI pinned by digest is kept.`,
		Example: `  buoy prepare --from-label ref.$GIT_COMMIT --description "fix login"
  buoy prepare --output json | jq -r .id`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrepare(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cmd.Flags().StringVar(&cfg.label, "from-label", deploy.DefaultLabel, "tag to take the images' digests from")
	cmd.Flags().StringVar(&cfg.description, "description", "", "free text kept with the release")
	return cmd
}

func runPrepare(ctx context.Context, a *app, cfg prepareConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	out, err := entry.Do(ctx, d, entry.Request{Operation: entry.Prepare, Label: cfg.label, Description: cfg.description, Origin: a.origin()})
	if err != nil {
		return err
	}
	return printRelease(a.stdout, cfg.common.output, out.Release)
}
