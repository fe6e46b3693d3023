package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// initConfig is what `buoy init` takes.
type initConfig struct {
	common commonFlags
}

func newInitCommand(a *app) *cobra.Command {
	var cfg initConfig
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the DynamoDB table that keeps the history (safe to re-run)",
		Long: `init creates the history table (on-demand billing) and waits until it is
active. A table that already exists with the right key design is fine. It
goes where every command then uses it: in the region buoy runs in
(--region, AWS_REGION or the shared config), or, with a manifest and no
region set, in the project registry's region.`,
		Example: `  buoy init
  buoy init --table buoy-history --region eu-west-1`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	return cmd
}

func runInit(ctx context.Context, a *app, cfg initConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	awsCfg, err := a.loadAWS(ctx, cfg.common.region, cfg.common.profile)
	if err != nil {
		return err
	}
	if m, err := deploy.LoadManifest(cfg.common.manifest); err == nil {
		if p, err := deploy.PickProject(m, cfg.common.project); err == nil {
			awsCfg = deploy.StoreConfig(awsCfg, p)
		}
	} else if cfg.common.manifest != "" || !errors.Is(err, deploy.ErrInvalidInput) {
		return err
	}
	table := deploy.TableName(cfg.common.table)
	if a.store != nil {
		fmt.Fprintf(a.stdout, "history table %s is ready\n", table)
		return nil
	}
	if err := history.Init(ctx, dynamodb.NewFromConfig(awsCfg), table); err != nil {
		return fmt.Errorf("create the history table %s in %s: %w", table, awsCfg.Region, err)
	}
	fmt.Fprintf(a.stdout, "history table %s is ready in %s\n", table, awsCfg.Region)
	return nil
}
