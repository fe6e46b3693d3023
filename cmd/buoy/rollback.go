package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
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
		Long: `rollback redeploys the release that ran before the current one, as recorded:
never one that failed or was rolled back from. After a deployment that did
not succeed, that is the last good release (the environment's current
record); otherwise the newest release before the current one that ran
successfully and was not rolled back from, so a second rollback goes
further back. With nothing to roll back to it changes nothing and says
why. docs/cli.md states the whole rule.`,
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
	return a.operate(ctx, &cfg.common, &cfg.req, entry.Request{Operation: entry.Rollback}, "roll back")
}
