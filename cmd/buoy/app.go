package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
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

	// awsConfig loads the base AWS configuration (default: the SDK's
	// default chain, which honours AWS_ENDPOINT_URL and AWS_REGION).
	awsConfig func(ctx context.Context, region, profile string) (aws.Config, error)
	// options are added to every Deployer (tests: fake clusters, clocks).
	options []deploy.Option
	// store replaces the DynamoDB store (tests).
	store history.Store

	reader *bufio.Reader
}

// main runs the command line args and returns the exit code.
func (a *app) main(ctx context.Context, args []string) int {
	root := newRootCommand(a)
	root.SetArgs(args)
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{msg: err.Error()} })
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
	root.PersistentPreRunE = refuseEmptyFlags
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
		newImportHistoryCommand(a),
		newUnlockCommand(a),
		newShowReleaseCommand(a),
		newIAMPolicyCommand(a),
		newECSDeployCommand(a),
	)
	return root
}

// loadAWS returns the base AWS configuration.
func (a *app) loadAWS(ctx context.Context, region, profile string) (aws.Config, error) {
	if a.awsConfig != nil {
		return a.awsConfig(ctx, region, profile)
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// open loads the manifest and AWS configuration and returns a Deployer
// whose events are rendered to stderr.
func (a *app) open(ctx context.Context, c *commonFlags, extra ...deploy.Option) (*deploy.Deployer, error) {
	cfg, err := a.loadAWS(ctx, c.region, c.profile)
	if err != nil {
		return nil, err
	}
	var logger *slog.Logger
	if c.verbose {
		logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := append(append([]deploy.Option{}, a.options...), extra...)
	if a.terminal {
		opts = append(opts, deploy.WithConfirmer(a.confirmOnTerminal))
	}
	d, m, err := deploy.Open(ctx, deploy.Config{
		ManifestPath: c.manifest,
		ProjectID:    c.project,
		Table:        c.table,
		AWS:          cfg,
		Store:        a.store,
		Sink:         newProgress(a.stderr, c.output == "json"),
		Logger:       logger,
		Options:      opts,
		WecoTable:    c.wecoTable,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w.String())
	}
	return d, nil
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

// requester says who asks: the CI actor, or $USER@hostname.
func (a *app) requester() (string, history.CI) {
	switch {
	case a.getenv("GITHUB_ACTIONS") == "true":
		ci := history.CI{Provider: "github-actions", Commit: a.getenv("GITHUB_SHA"), Actor: a.getenv("GITHUB_ACTOR")}
		if s, r, id := a.getenv("GITHUB_SERVER_URL"), a.getenv("GITHUB_REPOSITORY"), a.getenv("GITHUB_RUN_ID"); s != "" && r != "" && id != "" {
			ci.BuildURL = s + "/" + r + "/actions/runs/" + id
		}
		return ci.Actor + " via github-actions", ci
	case a.getenv("BUILDKITE") == "true":
		ci := history.CI{Provider: "buildkite", BuildURL: a.getenv("BUILDKITE_BUILD_URL"),
			Commit: a.getenv("BUILDKITE_COMMIT"), Actor: a.getenv("BUILDKITE_BUILD_CREATOR")}
		return ci.Actor + " via buildkite", ci
	}
	user := a.getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return user, history.CI{}
	}
	return user + "@" + host, history.CI{}
}
