package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/imageref"
)

// statusConfig is what `buoy status` takes.
type statusConfig struct {
	common       commonFlags
	environments []string
}

func newStatusCommand(a *app) *cobra.Command {
	var cfg statusConfig
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what each environment runs: recorded, tagged and really running",
		Long: `status shows, per environment, the release recorded as current, where each
floating tag points, the image digests the ECS tasks really run, and the
drift between them in plain words.`,
		Example: `  buoy status
  buoy status --environment prod --output json`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cfg.common.registerWecoTable(cmd)
	cmd.Flags().StringSliceVarP(&cfg.environments, "environment", "e", nil, "environments to show (default: all)")
	return cmd
}

func runStatus(ctx context.Context, a *app, cfg statusConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	out, err := entry.Do(ctx, d, entry.Request{Operation: entry.Status, Environments: cfg.environments})
	if err != nil {
		return err
	}
	rep := out.Status
	if cfg.common.output == "json" {
		return writeJSON(a.stdout, rep)
	}
	printStatus(a.stdout, rep)
	return nil
}

func printStatus(w io.Writer, rep *deploy.StatusReport) {
	for i, es := range rep.Environments {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := fmt.Sprintf("%s: nothing deployed", es.Environment)
		if es.Current != nil {
			head = fmt.Sprintf("%s: release %s (deployment %s, %s)", es.Environment, es.Current.ReleaseID,
				es.Current.DeploymentID, es.Current.UpdatedAt.UTC().Format(time.RFC3339))
		}
		if es.Release != nil && es.Release.Label != "" {
			head += " from " + es.Release.Label
		}
		fmt.Fprintln(w, head)
		printImportedStatus(w, es.Imported)
		inSSM := len(es.Images) > 0 && es.Images[0].Parameter != ""
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if inSSM {
			fmt.Fprintln(tw, "  IMAGE\tPARAMETER\tRECORDED\tIN SSM")
		} else {
			fmt.Fprintln(tw, "  IMAGE\tTAG\tRECORDED\tTAGGED")
		}
		for _, is := range es.Images {
			if inSSM {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", is.Image, is.Parameter, short(is.Recorded), publishedCell(is.Published))
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", is.Image, is.Tag, short(is.Recorded), short(is.Tagged))
		}
		_ = tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if !inSSM || len(es.Services) > 0 { // an SSM-era project has no services
			fmt.Fprintln(tw, "  SERVICE\tCLUSTER\tTASKS\tSTATE\tRUNNING DIGESTS")
		}
		for _, ss := range es.Services {
			var running []string
			for _, id := range slices.Sorted(maps.Keys(ss.Digests)) {
				var ds []string
				for _, dg := range ss.Digests[id] {
					ds = append(ds, short(dg))
				}
				if slices.Contains(ss.Unreported, id) {
					ds = append(ds, "unreported")
				}
				running = append(running, id+"="+strings.Join(ds, ","))
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%s\t%s\n", ss.Service, ss.Cluster, ss.Running, ss.Desired, ss.State, strings.Join(running, " "))
		}
		_ = tw.Flush()
		fmt.Fprintf(w, "  %s\n", stateLine(es, inSSM))
		for _, d := range es.Drift {
			fmt.Fprintf(w, "  drift: %s\n", d)
		}
		for _, u := range es.Unknown {
			fmt.Fprintf(w, "  unknown: %s\n", u)
		}
	}
	if len(rep.Stats) > 0 {
		fmt.Fprintf(w, "\nAWS calls: %s\n", statsLine(rep.Stats))
	}
}

// publishedCell shows what an SSM parameter holds: the short digest of a
// URI pinned by digest, else the value itself ("-" when it does not
// exist).
func publishedCell(v string) string {
	if ref, err := imageref.Parse(v); err == nil && ref.Digest() != "" {
		return short(ref.Digest())
	}
	return dash(v)
}

// printImportedStatus says what weco-deploy last deployed to an
// environment buoy has not deployed to.
func printImportedStatus(w io.Writer, is *deploy.ImportedStatus) {
	if is == nil {
		return
	}
	d := is.Deployment
	release, _, _ := strings.Cut(d.Origin.ID, "/deployments/")
	fmt.Fprintf(w, "  last deployed by %s: release %s on %s by %s (imported as release %s, deployment %s)\n",
		d.Origin.Tool, release, d.StartedAt.UTC().Format(time.RFC3339), d.RequestedBy, d.ReleaseID, d.ID)
	if is.Release == nil {
		return
	}
	var tags []string
	for _, id := range slices.Sorted(maps.Keys(is.Release.Images)) {
		tags = append(tags, id+"="+dash(is.Release.Images[id].Tag))
	}
	fmt.Fprintf(w, "  its images, by tag (digests unknown): %s\n", strings.Join(tags, " "))
}

// stateLine says in one line whether an environment's record, tags and
// ECS agree; it never says they agree when ECS left something unknown.
func stateLine(es deploy.EnvironmentStatus, inSSM bool) string {
	switch es.State {
	case deploy.Agrees:
		if inSSM {
			return "agrees: the record and SSM agree"
		}
		if len(es.Services) == 0 {
			return "agrees: the record and the tags agree (no ECS service to compare)"
		}
		return "agrees: the record, the tags and ECS agree"
	case deploy.Unknown:
		return "unknown: nothing seen differs, but ECS did not say what every service runs, so buoy cannot tell that all agree"
	}
	if inSSM {
		return "drifted: the record and SSM do not agree"
	}
	return "drifted: the record, the tags and ECS do not agree"
}
