package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// planConfig is what `buoy plan` takes.
type planConfig struct {
	common  commonFlags
	req     requestFlags
	label   string
	release string
	from    string
}

func newPlanCommand(a *app) *cobra.Command {
	var cfg planConfig
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what a deployment would do, changing nothing (a dry run)",
		Long: `plan checks images and services and prints, per image, where the floating
tag would move and, per service, whether it would be redeployed. It plans
a release-deploy from --from-label by default, a deploy with --release, or
a promotion with --from-environment. Nothing is changed or recorded.`,
		Example: `  buoy plan --environment stage
  buoy plan --environment prod --from-environment stage`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.req.registerPlan(cmd)
	f := cmd.Flags()
	f.StringVar(&cfg.label, "from-label", deploy.DefaultLabel, "tag to take the images' digests from")
	f.StringVar(&cfg.release, "release", "", "plan deploying this release instead")
	f.StringVar(&cfg.from, "from-environment", "", "plan promoting from this environment instead")
	return cmd
}

func runPlan(ctx context.Context, a *app, cfg planConfig) error {
	req := entry.Request{Operation: entry.Plan, Label: cfg.label, Release: cfg.release, FromEnvironment: cfg.from}
	return a.operate(ctx, &cfg.common, &cfg.req, req, "plan for")
}
