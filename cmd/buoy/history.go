package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// historyConfig is what `buoy history` takes.
type historyConfig struct {
	common      commonFlags
	environment string
	limit       int
}

func newHistoryCommand(a *app) *cobra.Command {
	var cfg historyConfig
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List releases, deployments and locks freed by hand, newest first",
		Example: `  buoy history
  buoy history --environment prod --limit 5`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHistory(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.common.registerWecoTable(cmd)
	cmd.Flags().StringVarP(&cfg.environment, "environment", "e", "", "only deployments to this environment")
	cmd.Flags().IntVar(&cfg.limit, "limit", deploy.DefaultHistoryLimit, "at most this many releases and deployments")
	return cmd
}

func runHistory(ctx context.Context, a *app, cfg historyConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	if cfg.limit < 1 {
		return flagErrorf("--limit must be at least 1, got %d: write how many releases and deployments to list, or leave it out for %d",
			cfg.limit, deploy.DefaultHistoryLimit)
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	rep, err := d.History(ctx, deploy.HistoryInput{Environment: cfg.environment, Limit: cfg.limit})
	if err != nil {
		return err
	}
	if cfg.common.output == "json" {
		return writeJSON(a.stdout, rep)
	}
	printHistory(a.stdout, rep)
	return nil
}

func printHistory(w io.Writer, rep *deploy.HistoryReport) {
	fmt.Fprintln(w, "DEPLOYMENTS")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tENVIRONMENT\tRELEASE\tSTATUS\tSTARTED\tBY\tNOTE")
	for _, d := range rep.Deployments {
		note := d.Reason
		if d.Resumes != "" {
			note = "resumes " + d.Resumes + "; " + note
		}
		if d.RollbackOf != "" {
			note = "rolls back " + d.RollbackOf + "; " + note
		}
		if d.Origin != nil {
			note = importedNote(d.Origin, note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Environment, d.ReleaseID, d.Status,
			d.StartedAt.UTC().Format(time.RFC3339), d.RequestedBy, note)
	}
	_ = tw.Flush()
	if len(rep.Unlocks) > 0 {
		fmt.Fprintln(w, "\nLOCKS FREED BY HAND (buoy unlock)")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tENVIRONMENT\tAT\tBY\tWHOSE LOCK\tREASON")
		for _, u := range rep.Unlocks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Environment, u.At.UTC().Format(time.RFC3339),
				whoRan(u.RequestedBy, u.CI.BuildURL), whoRan(u.Freed.RequestedBy, u.Freed.BuildURL), u.Reason)
		}
		_ = tw.Flush()
	}
	fmt.Fprintln(w, "\nRELEASES")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tCREATED\tBY\tDESCRIPTION")
	imported := ""
	for _, r := range rep.Releases {
		label, desc := r.Label, r.Description
		if r.Origin != nil {
			label, desc, imported = "("+r.Origin.Tool+")", importedNote(r.Origin, desc), r.Origin.Table
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, label, r.CreatedAt.UTC().Format(time.RFC3339), r.RequestedBy, desc)
	}
	_ = tw.Flush()
	if imported != "" {
		fmt.Fprintf(w, "\nRecords marked imported come from weco-deploy's table %s; times are UTC. Their releases pin\n"+
			"tags, not digests, and cannot be deployed: prepare a new release from their tags.\n", imported)
	}
}

// importedNote marks a record imported from another tool before its note.
func importedNote(o *history.Origin, note string) string {
	mark := "imported from " + o.Tool + " " + o.ID
	if note == "" {
		return mark
	}
	return mark + "; " + note
}
