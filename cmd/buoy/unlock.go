package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// unlockConfig is what `buoy unlock` takes.
type unlockConfig struct {
	common      commonFlags
	environment string
	reason      string
}

func newUnlockCommand(a *app) *cobra.Command {
	var cfg unlockConfig
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Free an environment's lock, whoever holds it, saying why",
		Long: `unlock frees the lock of an environment at once, whoever holds it: the lock
of a run that was killed (another run would take it over only once it has
seen it unrenewed for its whole lease), or of one that is stuck. It frees
the lock it read, never a newer one, and the history keeps who freed it,
when, why and whose lock it was (buoy history lists it). The run that held
the lock stops at its next renewal: it moves no tag and updates no service
from then on, and closes its record as failed, naming you.`,
		Example: `  buoy unlock --environment prod --reason "build 41 was killed; its lock holds up the hotfix"`,
		Args:    argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runUnlock(cmd.Context(), a, cfg)
		},
	}
	cfg.common.register(cmd)
	cmd.Flags().StringVarP(&cfg.environment, "environment", "e", "", "environment whose lock to free")
	cmd.Flags().StringVar(&cfg.reason, "reason", "", "why you free the lock (kept in the history)")
	return cmd
}

func runUnlock(ctx context.Context, a *app, cfg unlockConfig) error {
	if err := cfg.common.check(); err != nil {
		return err
	}
	if cfg.reason == "" {
		return flagErrorf(`missing --reason: say why you free the lock, e.g. --reason "build 41 was killed"; it is kept in the history`)
	}
	if err := inputcheck.Text(cfg.reason); err != nil {
		return flagErrorf("--reason: %v", err)
	}
	d, err := a.open(ctx, &cfg.common)
	if err != nil {
		return err
	}
	env, err := a.chooseEnvironment(d.Project(), cfg.environment, "--environment", "unlock")
	if err != nil {
		return err
	}
	o := a.origin()
	res, err := d.Unlock(ctx, deploy.UnlockInput{Environment: env, Reason: cfg.reason, RequestedBy: o.RequestedBy, CI: o.CI})
	if err != nil {
		return err
	}
	if cfg.common.output == "json" {
		return writeJSON(a.stdout, res)
	}
	printUnlock(a.stdout, res)
	return nil
}

func printUnlock(w io.Writer, res *deploy.UnlockResult) {
	u := res.Unlock
	if u == nil {
		fmt.Fprintf(w, "%s of %s is not locked: nothing to free\n", res.Environment, res.Project)
		return
	}
	l := u.Freed
	fmt.Fprintf(w, "freed the lock of %s on %s, taken at %s (by its clock); recorded as unlock %s\n",
		whoRan(l.RequestedBy, l.BuildURL), res.Environment, l.AcquiredAt.UTC().Format(time.RFC3339), u.ID)
	fmt.Fprintln(w, "that run stops at its next lock renewal and closes its record as failed")
}

// whoRan names a run by its requester and, when known, its CI build
// (once: a requester in CI names its build already).
func whoRan(requestedBy, buildURL string) string {
	if buildURL == "" || strings.Contains(requestedBy, "("+buildURL+")") {
		return requestedBy
	}
	return requestedBy + " (" + buildURL + ")"
}
