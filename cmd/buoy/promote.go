package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
)

// promoteConfig is what `buoy promote` takes.
type promoteConfig struct {
	common commonFlags
	req    requestFlags
	from   string
}

func newPromoteCommand(a *app) *cobra.Command {
	var cfg promoteConfig
	cmd := &cobra.Command{
		Use:   "promote",
		Short: "Deploy to an environment exactly the release another environment runs",
		Long: `promote deploys to --environment the release that --from-environment
(default: the environment's promotes_from) runs now. It refuses when the
source has no current release or has drifted from it. Promoting from the
configured source needs no --yes for a protected environment.`,
		Example: `  buoy promote --environment prod
  buoy promote --environment prod --from-environment stage --rollback`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPromote(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.req.register(cmd)
	cmd.Flags().StringVar(&cfg.from, "from-environment", "", "environment to promote from (default: the target's promotes_from)")
	return cmd
}

func runPromote(ctx context.Context, a *app, cfg promoteConfig) error {
	return a.operate(ctx, &cfg.common, &cfg.req, entry.Request{Operation: entry.Promote, FromEnvironment: cfg.from}, "promote to")
}
