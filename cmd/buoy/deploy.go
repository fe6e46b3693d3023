package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// releaseID is the --release flag as the library takes it: "" for the
// latest release (--release latest, or no flag).
func releaseID(flag string) string {
	if flag == inputcheck.LatestRelease {
		return ""
	}
	return flag
}

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
	d, req, err := a.openRequest(ctx, &cfg.common, &cfg.req, "deploy to")
	if err != nil {
		return err
	}
	res, err := d.Deploy(ctx, deploy.DeployInput{Request: req, Release: releaseID(cfg.release)})
	err = explain(err)
	return printResult(a.stdout, cfg.common.output, "deploy", res, err)
}
