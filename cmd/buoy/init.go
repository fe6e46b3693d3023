package main

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	awsCfg, err := a.loadAWS(ctx, cfg.common.region, cfg.common.profile, cfg.common.logger(a))
	if err != nil {
		return err
	}
	if m, err := deploy.LoadManifest(cfg.common.manifest); err == nil {
		p, err := deploy.PickProject(m, cfg.common.project)
		switch {
		case err == nil:
			awsCfg = deploy.StoreConfig(awsCfg, p)
		case cfg.common.project != "":
			return err
		}
	} else if cfg.common.manifest != "" || cfg.common.project != "" || !errors.Is(err, deploy.ErrInvalidInput) {
		return err
	}
	ready := initJSON{Table: deploy.TableName(cfg.common.table)}
	if a.store == nil {
		if err := history.Init(ctx, dynamodb.NewFromConfig(awsCfg), ready.Table); err != nil {
			return fmt.Errorf("create the history table %s in %s: %w", ready.Table, awsCfg.Region, err)
		}
		ready.Region = awsCfg.Region
	}
	return printInit(a.stdout, cfg.common.output, ready)
}

// initJSON is what init prints with --output json: the table that is
// ready, and its region (none with a store of the tests' own).
type initJSON struct {
	Table  string `json:"table"`
	Region string `json:"region,omitempty"`
}

func printInit(w io.Writer, output string, r initJSON) error {
	if output == "json" {
		return writeJSON(w, r)
	}
	if r.Region == "" {
		_, err := fmt.Fprintf(w, "history table %s is ready\n", r.Table)
		return err
	}
	_, err := fmt.Fprintf(w, "history table %s is ready in %s\n", r.Table, r.Region)
	return err
}
