package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// rollbackConfig is what `buoy rollback` takes.
type rollbackConfig struct {
	common commonFlags
	req    requestFlags
}

func newRollbackCommand(a *app) *cobra.Command {
	var cfg rollbackConfig
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Redeploy the release an environment ran before its current one",
		Example: `  buoy rollback --environment prod --yes
  buoy rollback --environment stage --dry-run`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRollback(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.req.register(cmd)
	return cmd
}

func runRollback(ctx context.Context, a *app, cfg rollbackConfig) error {
	d, req, err := a.openRequest(ctx, &cfg.common, &cfg.req, "roll back")
	if err != nil {
		return err
	}
	if err := a.confirm(d.Project(), &req, ""); err != nil {
		return err
	}
	res, err := d.Rollback(ctx, deploy.RollbackInput{Request: req})
	return printResult(a.stdout, cfg.common.output, "rollback", res, err)
}
