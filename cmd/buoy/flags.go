package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// commonFlags are the flags most commands share. Each command registers
// the groups it uses (register, or registerManifest, registerAWS,
// registerTable, registerOutput and registerVerbose one by one): a
// command takes no flag it would ignore.
type commonFlags struct {
	manifest string
	project  string
	region   string
	profile  string
	table    string
	output   string
	verbose  bool
	// wecoTable is --weco-table, on the commands that read weco-deploy's
	// table (registerWecoTable).
	wecoTable string
}

// register adds every group: the flags of a command that reads the
// manifest and the history, calls AWS, prints text or JSON and logs.
func (c *commonFlags) register(cmd *cobra.Command) {
	c.registerManifest(cmd)
	c.registerAWS(cmd)
	c.registerTable(cmd)
	c.registerOutput(cmd)
	c.registerVerbose(cmd)
}

// registerManifest adds --manifest and --project.
func (c *commonFlags) registerManifest(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.manifest, "manifest", "", "manifest file (default buoy.yaml, then .wellcome_project)")
	f.StringVar(&c.project, "project", "", "project id (default: the manifest's only project)")
}

// registerAWS adds --region and --profile.
func (c *commonFlags) registerAWS(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.region, "region", "", "AWS region (default: AWS_REGION or the shared config)")
	f.StringVar(&c.profile, "profile", "", "AWS shared config profile")
}

// registerTable adds --table.
func (c *commonFlags) registerTable(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.table, "table", deploy.DefaultTable, "DynamoDB table of the history")
}

// registerOutput adds --output.
func (c *commonFlags) registerOutput(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.output, "output", "text", "output format: text or json")
}

// registerVerbose adds --verbose, -v: the same flag on every command.
func (c *commonFlags) registerVerbose(cmd *cobra.Command) {
	registerVerbose(cmd, &c.verbose)
}

// registerVerbose adds --verbose, -v to cmd, setting v.
func registerVerbose(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVarP(v, "verbose", "v", false, "debug log to stderr: every AWS call, and what buoy decided and why")
}

func (c *commonFlags) check() error {
	if c.output != "text" && c.output != "json" {
		return flagErrorf("--output must be text or json, not %q", c.output)
	}
	return nil
}

// logger is the debug log --verbose turns on; nil when it is off.
func (c *commonFlags) logger(a *app) *slog.Logger {
	return a.logger(c.verbose)
}

// requestFlags are taken by every command that deploys (register) and,
// the environment and the ECS request budget only, by plan
// (registerPlan).
type requestFlags struct {
	environment string
	description string
	timeout     time.Duration
	limits      inputcheck.Limits
	noWait      bool
	rollback    bool
	dryRun      bool
	yes         bool

	// rollbackTimeout is the least time a rollback has (--rollback).
	rollbackTimeout time.Duration
	// deploys says the deploying flags are registered (register).
	deploys bool
}

func (r *requestFlags) register(cmd *cobra.Command) {
	r.registerPlan(cmd)
	r.deploys = true
	f := cmd.Flags()
	f.StringVar(&r.description, "description", "", "free text kept in the history")
	f.DurationVar(&r.timeout, "timeout", deploy.DefaultTimeout, "how long to wait for ECS")
	f.DurationVar(&r.rollbackTimeout, "rollback-timeout", deploy.DefaultRollbackTimeout,
		"with --rollback: the least time the rollback has; it gets what is left of --timeout, and at least this (the whole wait for ECS ends within --timeout plus this)")
	def := inputcheck.DefaultLimits()
	f.DurationVar(&r.limits.LockWait, "lock-wait", def.LockWait, "how long to wait for another run's lock on the environment")
	f.DurationVar(&r.limits.LockTTL, "lock-ttl", def.LockTTL, "lease of this run's lock, renewed every third of it: how soon a killed run's lock can be taken over")
	f.BoolVar(&r.noWait, "no-wait", false, "return once the services are updated, without waiting for ECS")
	f.BoolVar(&r.rollback, "rollback", false, "roll back to what ran before if the rollout fails or times out")
	f.BoolVar(&r.dryRun, "dry-run", false, "check and plan, change nothing")
	f.BoolVarP(&r.yes, "yes", "y", false, "confirm deploying to a protected environment")
	f.BoolVar(&r.yes, "confirm", false, "same as --yes")
	_ = f.MarkHidden("confirm")
}

// registerPlan adds what a plan uses: the environment, and the ECS
// request budget of the calls it makes to check the services. A plan
// takes no lock, records and waits for nothing and needs no
// confirmation.
func (r *requestFlags) registerPlan(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&r.environment, "environment", "e", "", "environment to deploy to")
	def := inputcheck.DefaultLimits()
	r.limits = def
	f.Float64Var(&r.limits.ECSQuotaShare, "ecs-quota-share", def.ECSQuotaShare, "at most this share of AWS's ECS request quota of each category (1: all of it, backing off when ECS throttles)")
	f.Float64Var(&r.limits.ECSRate, "ecs-rate", def.ECSRate, "at most this many ECS requests a second in each category of ECS actions, per account and region")
	f.IntVar(&r.limits.ECSBurst, "ecs-burst", def.ECSBurst, "at most this many ECS requests at once in each category of ECS actions, per account and region")
}

// check checks --timeout, and --lock-wait, --lock-ttl, --ecs-rate and
// --ecs-burst with the rules the Action and the plugin share.
func (r *requestFlags) check() error {
	if r.deploys && r.timeout <= 0 {
		return flagErrorf("--timeout must be more than zero, got %s: write it like 30m, or leave it out for %s (--no-wait does not wait at all)",
			r.timeout, deploy.DefaultTimeout)
	}
	if errs := r.limits.Problems(func(key string) string { return "--" + key }); len(errs) > 0 {
		return flagErrorf("%v", errs[0])
	}
	if r.deploys && r.rollbackTimeout <= 0 {
		return flagErrorf("--rollback-timeout %s is not more than zero: give the rollback time, e.g. 5m", r.rollbackTimeout)
	}
	return nil
}

// operate is how every deploying command and plan runs: check the
// flags, open the Deployer (waiting up to --lock-wait for a held lock,
// holding it with a --lock-ttl lease, pacing ECS by --ecs-quota-share,
// --ecs-rate and --ecs-burst), complete req from the flags (asking on a
// terminal for a missing environment), run it through the entrypoints'
// shared layer and print the result. Whether a protected environment may
// be deployed to is the library's decision (it asks on a terminal).
func (a *app) operate(ctx context.Context, c *commonFlags, r *requestFlags, req entry.Request, verb string) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := r.check(); err != nil {
		return err
	}
	cfg := a.openConfig(c)
	cfg.Limits = r.limits
	d, err := entry.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if req.Environment, err = a.chooseEnvironment(d.Project(), r.environment, "--environment", verb); err != nil {
		return err
	}
	req.Origin = a.origin()
	req.Description, req.Timeout, req.RollbackTimeout = r.description, r.timeout, r.rollbackTimeout
	req.NoWait, req.Rollback, req.DryRun, req.Confirm = r.noWait, r.rollback, r.dryRun, r.yes
	out, err := entry.Do(ctx, d, req)
	return printResult(a.stdout, c.output, string(req.Operation), out.Result, explain(err))
}

// confirmOnTerminal asks on the terminal to confirm a deployment to a
// protected environment: the library asks (deploy.WithConfirmer) when it
// decides the deployment needs it.
func (a *app) confirmOnTerminal(_ context.Context, environment string) (bool, error) {
	answer, err := a.ask(fmt.Sprintf("%s is protected. Deploy to it? [y/N] ", environment))
	if err != nil {
		return false, err
	}
	answer = strings.ToLower(answer)
	return answer == "y" || answer == "yes", nil
}

// explain adds to an operation's error what to pass on the command line.
func explain(err error) error {
	if errors.Is(err, deploy.ErrConfirmationRequired) {
		return fmt.Errorf("%w; pass --yes to confirm", err)
	}
	return err
}

// chooseEnvironment returns id, or asks for one on a terminal.
//
//nolint:unparam // flag names the flag the caller read id from; today every caller's is --environment
func (a *app) chooseEnvironment(p *manifest.Project, id, flag, verb string) (string, error) {
	if id != "" {
		return id, nil
	}
	var ids []string
	for _, e := range p.Environments {
		ids = append(ids, e.ID)
	}
	if !a.terminal {
		return "", flagErrorf("missing %s: which environment to %s (one of %s)", flag, verb, strings.Join(ids, ", "))
	}
	answer, err := a.ask(fmt.Sprintf("Environment to %s (%s): ", verb, strings.Join(ids, ", ")))
	if err != nil {
		return "", err
	}
	if findEnv(p, answer) == nil {
		return "", flagErrorf("no environment %q: use one of %s", answer, strings.Join(ids, ", "))
	}
	return answer, nil
}

func findEnv(p *manifest.Project, id string) *manifest.Environment {
	for _, e := range p.Environments {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// noEmptyFlags are the string flags whose absence means a default (the
// latest release, the label latest, buoy-history, ...): given with an
// empty value, which is most often an unset variable (--release "$ID"),
// they are refused rather than taken as absent. --description may be
// empty: it then records no description, which is what it says.
var noEmptyFlags = []string{
	"manifest", "project", "region", "profile", "table", "output", "environment",
	"from-label", "release", "from-environment",
	"cluster", "service-name", "task-definition", "image", "tag-env-var",
	"tag-only", "launch-type", "platform-version", "network-configuration",
	"aws-access-key", "aws-secret-key", "aws-assume-role",
}

// checkFlags refuses, as bad input, a flag of noEmptyFlags given with an
// empty value, in the words the Action and the plugin use
// (inputcheck.Empty), and two flags of which one would be ignored
// (flagConflicts).
func checkFlags(cmd *cobra.Command, _ []string) error {
	for _, name := range noEmptyFlags {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && strings.TrimSpace(f.Value.String()) == "" {
			return flagErrorf("%v", inputcheck.Empty(func(key string) string { return "--" + key }, name))
		}
	}
	changed := func(name string) bool { f := cmd.Flags().Lookup(name); return f != nil && f.Changed }
	for _, c := range append(slices.Clip(flagConflicts), ecsDeployConflicts...) {
		if (c.command != "" && c.command != cmd.Name()) || !changed(c.flag) {
			continue
		}
		switch {
		case c.needs && !changed(c.other):
			return flagErrorf("--%s needs --%s: %s", c.flag, c.other, c.why)
		case !c.needs && changed(c.other):
			return flagErrorf("pass --%s or --%s, not both: %s", c.flag, c.other, c.why)
		}
	}
	return nil
}

// flagConflict is a flag that changes nothing with another (or, needs,
// without it).
type flagConflict struct {
	flag, other string
	// needs: flag means something only with other.
	needs bool
	// command limits the conflict to one command; "" is every command
	// that takes both flags.
	command string
	why     string
}

// flagConflicts are the flags that one another would leave ignored.
var flagConflicts = []flagConflict{
	{flag: "no-wait", other: "timeout", why: "--no-wait does not wait for ECS, so nothing is timed"},
	{flag: "no-wait", other: "rollback", why: "--no-wait does not wait for the rollout, so it never sees one fail to roll it back"},
	{flag: "no-wait", other: "enable-rollback", why: "--no-wait does not wait for the rollout, so it never sees one fail to roll it back"},
	{flag: "no-wait", other: "rollback-timeout", why: "--no-wait does not wait for the rollout, so there is no rollback to time"},
	{flag: "rollback-timeout", other: "rollback", needs: true, why: "it is the least time a rollback has, and only --rollback rolls back"},
	{flag: "release", other: "from-environment", why: "plan a deploy of a release, or a promotion from an environment"},
	{flag: "release", other: "from-label", why: "the release pins its digests already; --from-label plans a new release from a tag"},
	{flag: "from-environment", other: "from-label", why: "a promotion deploys the release the environment runs; --from-label plans a new release from a tag"},
	{flag: "region", other: "profile", command: "iam-policy", why: "the policy needs only the region, which --profile would otherwise come from"},
}
