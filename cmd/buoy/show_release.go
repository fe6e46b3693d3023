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

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// showReleaseConfig is what `buoy show-release` takes.
type showReleaseConfig struct {
	common  commonFlags
	release string
}

func newShowReleaseCommand(a *app) *cobra.Command {
	var cfg showReleaseConfig
	cmd := &cobra.Command{
		Use:   "show-release [ID]",
		Short: "Show a release's images and digests (default: the latest release)",
		Example: `  buoy show-release 01JD3Q
  buoy show-release --output json`,
		Args: argsOf(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if strings.TrimSpace(args[0]) == "" {
					return flagErrorf("the release argument is empty: give a release id (`buoy history` lists them), or leave it out to show the latest release (an empty value is often a variable that is not set)")
				}
				if cfg.release != "" && cfg.release != args[0] {
					return flagErrorf("pass the release as an argument or with --release, not both")
				}
				cfg.release = args[0]
			}
			return runShowRelease(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cmd.Flags().StringVar(&cfg.release, "release", "", "release id or unique prefix (default: the latest)")
	return cmd
}

// releaseID is the --release flag as the library takes it: "" for the
// latest release (--release latest, or no flag).
func releaseID(flag string) string {
	if flag == inputcheck.LatestRelease {
		return ""
	}
	return flag
}

func runShowRelease(ctx context.Context, a *app, cfg showReleaseConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	rel, err := d.ShowRelease(ctx, releaseID(cfg.release))
	if err != nil {
		return err
	}
	return printRelease(a.stdout, cfg.common.output, rel)
}

func printRelease(w io.Writer, output string, r *history.Release) error {
	if output == "json" {
		return writeJSON(w, r)
	}
	fmt.Fprintf(w, "release %s of %s\n", r.ID, r.Project)
	fmt.Fprintf(w, "created %s by %s from label %s\n", r.CreatedAt.UTC().Format(time.RFC3339), r.RequestedBy, r.Label)
	if r.Description != "" {
		fmt.Fprintf(w, "description: %s\n", r.Description)
	}
	if r.CI.BuildURL != "" {
		fmt.Fprintf(w, "build: %s\n", r.CI.BuildURL)
	}
	if r.Origin != nil {
		fmt.Fprintf(w, "imported from %s release %s (table %s): digests unknown, it cannot be deployed\n", r.Origin.Tool, r.Origin.ID, r.Origin.Table)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tREPOSITORY\tDIGEST")
	for _, id := range slices.Sorted(maps.Keys(r.Images)) {
		ref := r.Images[id]
		digest := ref.Digest
		if digest == "" {
			digest = "unknown (tag " + dash(ref.Tag) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", id, ref.Repository, digest)
	}
	return tw.Flush()
}
