package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
)

// deployConfig is what `buoy deploy` takes.
type deployConfig struct {
	common  commonFlags
	req     requestFlags
	release string
}

func newDeployCommand(a *app) *cobra.Command {
	var cfg deployConfig
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy an existing release (default: the latest) to an environment",
		Example: `  buoy deploy --environment stage --release 01JD3Q
  buoy deploy --environment prod --release 01JD3Q --yes --rollback`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.req.register(cmd)
	cmd.Flags().StringVar(&cfg.release, "release", "", "release id or unique prefix, or latest (default: the latest release)")
	return cmd
}

func runDeploy(ctx context.Context, a *app, cfg deployConfig) error {
	return a.operate(ctx, &cfg.common, &cfg.req, entry.Request{Operation: entry.Deploy, Release: cfg.release}, "deploy to")
}
