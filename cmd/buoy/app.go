package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// app is the CLI's world: its streams, environment and how it reaches AWS.
// Tests build one with buffers and call main or a command's run function.
type app struct {
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
	getenv   func(string) string
	terminal bool // stdin is a terminal: ask for missing choices
	version  string

	// awsConfig loads the base AWS configuration (default: entry.LoadAWS,
	// the SDK's default chain, which honours AWS_ENDPOINT_URL and
	// AWS_REGION).
	awsConfig func(ctx context.Context, region, profile string) (aws.Config, error)
	// options are added to every Deployer (tests: fake clusters, clocks).
	options []deploy.Option
	// store replaces the DynamoDB store (tests).
	store history.Store
	// ecsDeploy are added to every ecs-deploy run (tests: clocks).
	ecsDeploy []ecsdeploy.Option

	reader *bufio.Reader
}

// main runs the command line args and returns the exit code.
func (a *app) main(ctx context.Context, args []string) int {
	root := newRootCommand(a)
	root.SetArgs(rewriteECSDeployArgs(args))
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitcode.OK
	}
	code := exitCode(ctx, err)
	var missing *history.TableMissingError
	if errors.As(err, &missing) {
		// What was being done adds nothing: say what is missing and how
		// to make it.
		fmt.Fprintf(a.stderr, "buoy: history table %s does not exist in %s: run `buoy init --table %s --region %s` to create it (or pass --table and --region for the one you have)\n",
			missing.Table, missing.Region, missing.Table, missing.Region)
		return code
	}
	fmt.Fprintf(a.stderr, "buoy: %v\n", err)
	return code
}

// exitCode maps an error to the documented exit code (docs/cli.md).
func exitCode(ctx context.Context, err error) int {
	var ferr *flagError
	switch {
	case errors.As(err, &ferr):
		return exitcode.BadInput
	case errors.Is(err, context.Canceled) && ctx.Err() == nil:
		return exitcode.Failed // cancelled from within, not by a signal
	}
	return exitcode.Of(err)
}

// argsOf makes a cobra argument check's error a bad-input error (exit 2).
func argsOf(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &flagError{msg: err.Error()}
		}
		return nil
	}
}

// flagError is a bad or missing flag.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func flagErrorf(format string, args ...any) error {
	return &flagError{msg: fmt.Sprintf(format, args...)}
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "buoy",
		Short: "Deploy container images to Amazon ECS by moving floating ECR tags",
		Long: `buoy deploys container images to Amazon ECS. A release pins the digest of
every image of a project; deploying it moves each environment's floating
tag (env.stage, env.prod) to that digest and redeploys the ECS services
that use it, waiting until ECS has really rolled it out. Every release and
deployment is recorded in DynamoDB.`,
		Example: `  buoy release-deploy --environment stage
  buoy promote --environment prod
  buoy status`,
		Version:       a.version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagProblem)
	// --version is long only: -v is --verbose on every command.
	root.Flags().Bool("version", false, "print buoy's version")
	// An unknown command is bad input (exit 2), not a failure; buoy alone
	// prints its help.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q: run buoy --help for the list", args[0])
		if s := root.SuggestionsFor(args[0]); len(s) > 0 {
			msg = fmt.Sprintf("unknown command %q: did you mean %s?", args[0], strings.Join(s, " or "))
		}
		return &flagError{msg: msg}
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.PersistentPreRunE = checkFlags
	root.AddCommand(
		newInitCommand(a),
		newValidateCommand(a),
		newPrepareCommand(a),
		newDeployCommand(a),
		newReleaseDeployCommand(a),
		newPromoteCommand(a),
		newRollbackCommand(a),
		newPlanCommand(a),
		newStatusCommand(a),
		newHistoryCommand(a),
		newMetricsCommand(a),
		newImportHistoryCommand(a),
		newUnlockCommand(a),
		newShowReleaseCommand(a),
		newIAMPolicyCommand(a),
		newECSDeployCommand(a),
	)
	completeFromManifest(root)
	return root
}

// loadAWS returns the base AWS configuration; with a logger, its clients
// log every AWS call to it.
func (a *app) loadAWS(ctx context.Context, region, profile string, logger *slog.Logger) (aws.Config, error) {
	cfg, err := a.awsLoader(logger)(ctx, region, profile)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// awsLoader loads the base AWS configuration (a.awsConfig, by default
// entry.LoadAWS) and, with a logger, has its clients log every AWS call.
func (a *app) awsLoader(logger *slog.Logger) func(ctx context.Context, region, profile string) (aws.Config, error) {
	load := a.awsConfig
	if load == nil {
		load = entry.LoadAWS
	}
	return func(ctx context.Context, region, profile string) (aws.Config, error) {
		cfg, err := load(ctx, region, profile)
		if err == nil && logger != nil {
			logAWSCalls(&cfg, logger)
		}
		return cfg, err
	}
}

// logger is the debug log to stderr that --verbose turns on; nil (silent)
// without it.
func (a *app) logger(verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// open opens the Deployer, with the library's default limits, through the
// entrypoints' shared layer (openConfig).
func (a *app) open(ctx context.Context, c *commonFlags) (*deploy.Deployer, error) {
	return entry.Open(ctx, a.openConfig(c))
}

// openConfig is how the CLI opens the library: with the common flags; its
// events (the manifest's warnings first) are rendered to stderr. On a
// terminal, the library asks there to confirm a protected environment.
func (a *app) openConfig(c *commonFlags) entry.Config {
	logger := c.logger(a)
	opts := slices.Clone(a.options)
	if a.terminal {
		opts = append(opts, deploy.WithConfirmer(a.confirmOnTerminal))
	}
	return entry.Config{
		Manifest:  c.manifest,
		Project:   c.project,
		Table:     c.table,
		Region:    c.region,
		Profile:   c.profile,
		WecoTable: c.wecoTable,
		Options:   opts,
		Store:     a.store,
		Sink:      newProgress(a.stderr, c.output == "json"),
		Logger:    logger,
		LoadAWS:   a.awsLoader(logger),
		Advice:    entry.Advice{Manifest: "pass --manifest with its path"},
		Getenv:    a.getenv,
	}
}

// ask prompts on the terminal and returns the trimmed answer.
func (a *app) ask(prompt string) (string, error) {
	if a.reader == nil {
		a.reader = bufio.NewReader(a.stdin)
	}
	fmt.Fprint(a.stderr, prompt)
	line, err := a.reader.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read the answer: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// origin says who asks and from which CI build, as the Action and the
// plugin say it: the CI's actor and build, or $USER@hostname.
func (a *app) origin() entry.Origin {
	return entry.ReadOrigin(a.getenv, os.Hostname)
}
