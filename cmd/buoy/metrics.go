package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/dora"
)

// metricsConfig is what `buoy metrics` takes.
type metricsConfig struct {
	common      commonFlags
	environment string
	since       string
}

func newMetricsCommand(a *app) *cobra.Command {
	var cfg metricsConfig
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "DORA figures of an environment from its history: deployment frequency, lead time, change failure rate, time to restore",
		Long: `metrics measures the deployments to an environment started in a window
that ends now, from their records: how often a change succeeds, the lead
time from the push of its newest image to its deployment (ECR says when
each image was pushed), the share of changes that failed or were rolled
back, and the time from a failure to the deployment that restored the
environment. docs/cli.md defines each figure.`,
		Example: `  buoy metrics --environment prod
  buoy metrics --environment prod --since 12h
  buoy metrics --environment prod --since 2026-11-01 --output json`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runMetrics(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cmd.Flags().StringVarP(&cfg.environment, "environment", "e", "", "environment to measure")
	cmd.Flags().StringVar(&cfg.since, "since", "30d", "start of the window, which ends now: a duration back from now (30d, 2w, 12h, 90m) or a date (2026-11-01, 2026-11-01T09:00:00Z)")
	return cmd
}

func runMetrics(ctx context.Context, a *app, cfg metricsConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	since, err := parseSince(cfg.since, time.Now())
	if err != nil {
		return err
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	env, err := a.chooseEnvironment(d.Project(), cfg.environment, "--environment", "measure")
	if err != nil {
		return err
	}
	rep, err := d.Metrics(ctx, deploy.MetricsInput{Environment: env, Since: since})
	if err != nil {
		return err
	}
	if cfg.common.output == "json" {
		return writeJSON(a.stdout, rep)
	}
	printMetrics(a.stdout, rep)
	return nil
}

// sinceDuration is a duration back from now in days or weeks, which
// time.ParseDuration does not take.
var sinceDuration = regexp.MustCompile(`^([0-9]+)([dw])$`)

// parseSince reads --since: a duration back from now (30d, 2w, or one
// time.ParseDuration reads: 12h, 90m), or a date (2026-11-01, UTC) or
// time (RFC 3339).
func parseSince(v string, now time.Time) (time.Time, error) {
	if m := sinceDuration.FindStringSubmatch(v); m != nil {
		n, err := strconv.Atoi(m[1])
		if err == nil && n > 0 && n <= 3650 {
			days := n
			if m[2] == "w" {
				days *= 7
			}
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, flagErrorf("--since %s: give a duration back from now above zero, e.g. 30d or 12h", v)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, flagErrorf("--since %q is neither a duration back from now (30d, 2w, 12h, 90m) nor a date (2026-11-01) or time (2026-11-01T09:00:00Z)", v)
}

func printMetrics(w io.Writer, rep *deploy.MetricsReport) {
	days := rep.Until.Sub(rep.Since).Hours() / 24
	fmt.Fprintf(w, "%s, environment %s: deployments started from %s to %s (%s)\n\n", rep.Project, rep.Environment,
		rep.Since.UTC().Format(time.RFC3339), rep.Until.UTC().Format(time.RFC3339), plural(days, "day"))
	c := rep.Deployments
	fmt.Fprintf(w, "Deployment frequency   %.2f a day, %.1f a week (%s succeeded)\n", rep.DeploymentsPerDay, rep.DeploymentsPerDay*7, count(c.SucceededChanges, "change"))
	lead := spreadText(rep.LeadTime, "change")
	if rep.LeadTimeUnknown > 0 {
		lead += fmt.Sprintf("; %s whose images' push times are unknown", count(rep.LeadTimeUnknown, "change"))
	}
	fmt.Fprintf(w, "Lead time              %s\n", lead)
	cfr := "none: no change finished"
	if rep.ChangeFailureRate != nil {
		cfr = fmt.Sprintf("%.0f%% (%d of %s)", *rep.ChangeFailureRate*100, c.ChangeFailures, count(c.Changes, "change"))
	}
	fmt.Fprintf(w, "Change failure rate    %s\n", cfr)
	restore := spreadText(rep.TimeToRestore, "failure")
	if rep.Unrestored > 0 {
		restore += fmt.Sprintf("; %s not restored yet", count(rep.Unrestored, "failure"))
	}
	fmt.Fprintf(w, "Time to restore        %s\n\n", restore)
	fmt.Fprintf(w, "%s started: %d succeeded, %d failed, %d rolled back, %d cancelled, %d in progress.\n",
		count(c.Total, "deployment"), c.Succeeded, c.Failed, c.RolledBack, c.Cancelled, c.InProgress)
	fmt.Fprintf(w, "Not changes: %s, %d that changed nothing or whose run died and was resumed, and those cancelled or in progress.\n",
		count(c.Rollbacks, "rollback"), c.Unchanged)
}

// spreadText says a Spread of durations of what in words.
func spreadText(s dora.Spread, what string) string {
	if s.Count == 0 {
		return "none measured"
	}
	return fmt.Sprintf("median %s, 90th percentile %s (%s)", humanDuration(s.Median), humanDuration(s.P90), count(s.Count, what))
}

// humanDuration writes d to the minute (to the second below one), in
// days, hours and minutes.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}

// count is n and what, plural unless n is 1.
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// plural writes a number of days, to the tenth when it is not whole.
func plural(n float64, what string) string {
	s := strconv.FormatFloat(n, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "1" {
		return "1 " + what
	}
	return s + " " + what + "s"
}
