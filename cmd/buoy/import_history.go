package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// registerWecoTable adds --weco-table to a command that reads
// weco-deploy's table.
func (c *commonFlags) registerWecoTable(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.wecoTable, "weco-table", "",
		"weco-deploy's releases table to read the project's past from (default: wellcome-releases-<project> for a .wellcome_project manifest, none for buoy.yaml)")
}

// importHistoryConfig is what `buoy import-history` takes.
type importHistoryConfig struct {
	common commonFlags
	dryRun bool
}

func newImportHistoryCommand(a *app) *cobra.Command {
	var cfg importHistoryConfig
	cmd := &cobra.Command{
		Use:   "import-history",
		Short: "Copy weco-deploy's releases and deployments into buoy's history (safe to re-run)",
		Long: `import-history copies every release and deployment of the project's
weco-deploy table (wellcome-releases-<project>, or --weco-table) into
buoy's history table, and says what it did with each. Writes are
conditional: a record imported before is left as it is, so running it
again imports nothing, and no record of buoy's is ever overwritten. The
weco-deploy table is only read. Imported releases keep weco-deploy's tags
but have no digests: they show in history and status, and deploying one
is refused (prepare a new release from its tags instead).`,
		Example: `  buoy import-history --dry-run
  buoy import-history --weco-table wellcome-releases-catalogue_api`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImportHistory(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.common.registerWecoTable(cmd)
	cmd.Flags().BoolVar(&cfg.dryRun, "dry-run", false, "say what would be imported, write nothing")
	return cmd
}

func runImportHistory(ctx context.Context, a *app, cfg importHistoryConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	rep, err := d.ImportHistory(ctx, deploy.ImportHistoryInput{DryRun: cfg.dryRun})
	if err != nil {
		return err
	}
	if cfg.common.output == "json" {
		return writeJSON(a.stdout, rep)
	}
	printImport(a.stdout, rep, deploy.TableName(cfg.common.table))
	return nil
}

func printImport(w io.Writer, rep *history.ImportReport, table string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rep.Records {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tweco-deploy %s\n", r.Outcome, r.Kind, r.ID, dash(r.Environment), r.Origin.ID)
	}
	_ = tw.Flush()
	total := rep.Imported + rep.AlreadyThere
	switch {
	case total == 0:
		fmt.Fprintf(w, "nothing to import: weco-deploy table %s holds no release of project %s\n", rep.Table, rep.Project)
	case rep.DryRun:
		fmt.Fprintf(w, "dry run, nothing written: would import %d of %d records from %s into %s; %d already there\n",
			rep.Imported, total, rep.Table, table, rep.AlreadyThere)
	case rep.Imported == 0:
		fmt.Fprintf(w, "nothing imported: all %d records of %s are already in %s\n", total, rep.Table, table)
	default:
		fmt.Fprintf(w, "imported %d of %d records from %s into %s; %d already there\n",
			rep.Imported, total, rep.Table, table, rep.AlreadyThere)
	}
}
