package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// ecsDeployConfig is what `buoy ecs-deploy` takes: the command lines of
// the classic ecs-deploy script and of ecs-deploy-py.
type ecsDeployConfig struct {
	cluster           string
	service           string
	taskDefinition    string
	useLatest         bool
	image             string
	tagOnly           string
	tagOnlyContainers []string
	forceNew          bool
	desiredCount      int32
	min, max          int32
	timeout           int
	tagEnvVar         string
	maxDefinitions    int
	rollback          bool
	skipDeployments   bool
	copyTags          bool
	runTask           bool
	waitForSuccess    bool
	launchType        string
	platformVersion   string
	network           string
	logLines          int
	taskDefFile       string
	region            string
	profile           string
	creds             awsCredentialFlags
	verbose           bool
	output            string
	noWait            bool
	version           bool
}

func newECSDeployCommand(a *app) *cobra.Command {
	var cfg ecsDeployConfig
	cmd := &cobra.Command{
		Use:   "ecs-deploy",
		Short: "Deploy one image to one ECS service, like the classic ecs-deploy script",
		Long: `ecs-deploy takes the command lines of the classic ecs-deploy script and of
ecs-deploy-py: it registers a new revision of the service's task definition
with the containers that use the image's repository pointed at the image
(a missing tag means latest), or every container's image given the tag of
-to, updates the service and waits for ECS, failing fast. With -d and no
-n it registers the revision of a task definition, and with --run-task
runs it as a one-off task. No manifest or history is needed.`,
		Example: `  buoy ecs-deploy -c production -n api -i 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:ref.$GIT_COMMIT
  buoy ecs-deploy -c production -n api -i repo/api -e GIT_TAG --enable-rollback --max-definitions 10 -t 600
  buoy ecs-deploy -c staging -n core-service -to 0.1.899 -i ignore
  buoy ecs-deploy -c jobs -d migrate -i repo/api:v2 --run-task --wait-for-success --launch-type FARGATE \
    --network-configuration 'awsvpcConfiguration={subnets=[subnet-0a1b],securityGroups=[sg-0c2d]}'`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.version {
				_, err := fmt.Fprintln(a.stdout, a.version)
				return err
			}
			return runECSDeploy(cmd.Context(), a, cfg, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	// ecs-deploy spells -toc's long form --tag_only_container_names.
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
	f.StringVarP(&cfg.cluster, "cluster", "c", "", "ECS cluster name or ARN")
	f.StringVarP(&cfg.service, "service-name", "n", "", "ECS service to update")
	f.StringVarP(&cfg.taskDefinition, "task-definition", "d", "", "task definition to base the new revision on (without -n: only register it)")
	f.BoolVar(&cfg.useLatest, "use-latest-task-def", false, "base the new revision on the family's newest revision, not the one the service runs")
	f.StringVarP(&cfg.image, "image", "i", "", "image to deploy: repository[:tag|@digest] (ignored with -to)")
	f.StringVar(&cfg.tagOnly, "tag-only", "", "give every container's image this tag instead of deploying -i (also -to)")
	f.StringSliceVar(&cfg.tagOnlyContainers, "tag-only-container-names", nil, "with -to: only these containers, comma-separated (also -toc, --tag_only_container_names)")
	f.BoolVar(&cfg.forceNew, "force-new-deployment", false, "redeploy the service's task definition as it is, with no new revision")
	f.Int32VarP(&cfg.desiredCount, "desired-count", "D", 0, "new desired count of the service")
	f.Int32VarP(&cfg.min, "min", "m", 0, "minimumHealthyPercent of the deployment")
	f.Int32VarP(&cfg.max, "max", "M", 0, "maximumPercent of the deployment")
	f.IntVarP(&cfg.timeout, "timeout", "t", 90, "seconds to wait for the rollout (or the one-off task)")
	f.StringVarP(&cfg.tagEnvVar, "tag-env-var", "e", "", "take the image's tag from this environment variable")
	f.IntVar(&cfg.maxDefinitions, "max-definitions", 0, "after a success, keep only this many revisions of the family, never one in use (0: keep all)")
	f.BoolVar(&cfg.rollback, "enable-rollback", false, "roll back to the previous task definition if the rollout fails")
	f.BoolVar(&cfg.skipDeployments, "skip-deployments-check", false, "succeed once the new tasks run, without waiting for the old ones to drain")
	f.BoolVar(&cfg.copyTags, "copy-task-definition-tags", false, "copy the task definition's tags to the new revision (buoy always does)")
	f.BoolVar(&cfg.runTask, "run-task", false, "with -d and no -n: run the new revision as a one-off task in -c")
	f.BoolVar(&cfg.waitForSuccess, "wait-for-success", false, "with --run-task: wait until the task stops; fail unless every essential container exited 0")
	f.StringVar(&cfg.launchType, "launch-type", "", "with --run-task: EC2, FARGATE or EXTERNAL (default: the cluster's capacity provider strategy)")
	f.StringVar(&cfg.platformVersion, "platform-version", "", "with --run-task: the Fargate platform version (default LATEST)")
	f.StringVar(&cfg.network, "network-configuration", "", "with --run-task: awsvpcConfiguration={subnets=[..],securityGroups=[..],assignPublicIp=..} or its JSON")
	f.IntVar(&cfg.logLines, "log-lines", ecsdeploy.DefaultLogLines, "with --wait-for-success: how many of the last log lines of each awslogs container to print")
	f.StringVar(&cfg.taskDefFile, "task-definition-file", "", "not supported: register the file with the AWS CLI, then pass -d")
	_ = f.MarkHidden("task-definition-file")
	f.StringVarP(&cfg.region, "region", "r", "", "AWS region")
	f.StringVarP(&cfg.profile, "profile", "p", "", "AWS shared config profile")
	cfg.creds.register(cmd)
	registerVerbose(cmd, &cfg.verbose)
	f.StringVar(&cfg.output, "output", "text", "output format: text or json")
	f.BoolVar(&cfg.noWait, "no-wait", false, "do not wait for the rollout")
	f.BoolVar(&cfg.version, "version", false, "print buoy's version")
	return cmd
}

// ecsDeployFlagAliases are the classic ecs-deploy's flags of more than
// one letter after a single dash, which pflag would read as -t o and
// -t oc: rewriteECSDeployArgs spells them as long flags first.
var ecsDeployFlagAliases = map[string]string{"-to": "--tag-only", "-toc": "--tag-only-container-names"}

// rewriteECSDeployArgs returns the command line args with ecs-deploy's
// multi-letter short flags (-to, -toc, also as -to=VALUE) spelt as their
// long flags, when the command is ecs-deploy; nothing after "--" is
// touched. Other commands' args are returned as they are.
func rewriteECSDeployArgs(args []string) []string {
	if len(args) == 0 || args[0] != "ecs-deploy" {
		return args
	}
	out := make([]string, len(args))
	copy(out, args)
	for i := 1; i < len(out); i++ {
		arg := out[i]
		if arg == "--" {
			break
		}
		name, value, withValue := strings.Cut(arg, "=")
		long, ok := ecsDeployFlagAliases[name]
		if !ok {
			continue
		}
		if withValue {
			out[i] = long + "=" + value
		} else {
			out[i] = long
		}
	}
	return out
}

func runECSDeploy(ctx context.Context, a *app, cfg ecsDeployConfig, changed func(string) bool) error {
	if err := cfg.check(changed); err != nil {
		return err
	}
	in, err := cfg.input(a, changed)
	if err != nil {
		return err
	}
	logger := a.logger(cfg.verbose)
	awsCfg, err := a.loadAWS(ctx, cfg.region, cfg.profile, logger)
	if err != nil {
		return err
	}
	awsCfg = cfg.creds.apply(ctx, awsCfg, logger)
	opts := append([]ecsdeploy.Option(nil), a.ecsDeploy...)
	if logger != nil {
		opts = append(opts, ecsdeploy.WithLogger(logger))
		if cfg.copyTags {
			logger.DebugContext(ctx, "--copy-task-definition-tags changes nothing: buoy always copies the task definition's tags")
		}
	}
	res, err := ecsdeploy.Deploy(ctx, awsCfg, newProgress(a.stderr, cfg.output == "json"), in, opts...)
	if res == nil {
		return err
	}
	if cfg.output == "json" {
		if werr := writeJSON(a.stdout, res); werr != nil {
			return werr
		}
		return err
	}
	printECSDeploy(a.stdout, res)
	return err
}

// input is the library's input for cfg, with the tag read from -e's
// variable.
func (cfg ecsDeployConfig) input(a *app, changed func(string) bool) (ecsdeploy.Input, error) {
	in := ecsdeploy.Input{Cluster: cfg.cluster, Service: cfg.service, TaskDefinition: cfg.taskDefinition, UseLatestTaskDefinition: cfg.useLatest,
		Image: cfg.image, TagOnly: cfg.tagOnly, TagOnlyContainers: cfg.tagOnlyContainers, ForceNewDeployment: cfg.forceNew,
		Timeout: time.Duration(cfg.timeout) * time.Second, NoWait: cfg.noWait, SkipDeploymentsCheck: cfg.skipDeployments,
		Rollback: cfg.rollback, MaxDefinitions: cfg.maxDefinitions}
	if cfg.tagOnly != "" {
		in.Image = "" // ecs-deploy ignores -i with -to (its examples pass -i ignore)
	}
	if cfg.tagEnvVar != "" {
		if in.Tag = a.getenv(cfg.tagEnvVar); in.Tag == "" {
			return in, flagErrorf("-e %s: the environment variable is empty or unset", cfg.tagEnvVar)
		}
	}
	if changed("desired-count") {
		in.DesiredCount = &cfg.desiredCount
	}
	if changed("min") {
		in.MinimumHealthyPercent = &cfg.min
	}
	if changed("max") {
		in.MaximumPercent = &cfg.max
	}
	if cfg.runTask {
		in.RunTask = &ecsdeploy.RunTaskInput{Wait: cfg.waitForSuccess, LaunchType: strings.ToUpper(cfg.launchType),
			PlatformVersion: cfg.platformVersion, LogLines: cfg.logLines}
		if cfg.logLines == 0 {
			in.RunTask.LogLines = -1 // none, not the default
		}
		if cfg.network != "" {
			n, err := parseNetworkConfiguration(cfg.network)
			if err != nil {
				return in, flagErrorf("--network-configuration: %v", err)
			}
			in.RunTask.Network = n
		}
	}
	return in, nil
}

// printECSDeploy writes the text result.
func printECSDeploy(w io.Writer, res *ecsdeploy.Result) {
	fmt.Fprintf(w, "%s/%s: %s  %s -> %s\n", dash(res.Cluster), dash(res.Service), dash(string(res.Outcome)),
		dash(res.PreviousTaskDefinition), dash(res.TaskDefinition))
	if res.BaseTaskDefinition != "" {
		fmt.Fprintf(w, "based on %s (the family's newest revision)\n", res.BaseTaskDefinition)
	}
	if res.Reason != "" {
		fmt.Fprintf(w, "reason: %s\n", res.Reason)
	}
	if t := res.Task; t != nil {
		fmt.Fprintf(w, "task %s: %s", t.ARN, t.Outcome)
		if t.StopCode != "" || t.StoppedReason != "" {
			fmt.Fprintf(w, " (%s)", strings.TrimPrefix(strings.TrimSuffix(t.StopCode+": "+t.StoppedReason, ": "), ": "))
		}
		fmt.Fprintln(w)
		for _, c := range t.Containers {
			printContainer(w, c)
		}
	}
	for _, d := range res.Deregistered {
		fmt.Fprintf(w, "deregistered %s\n", d)
	}
}

// printContainer writes how a one-off task's container ended, and its
// last log lines.
func printContainer(w io.Writer, c ecsdeploy.ContainerResult) {
	exit := "never exited"
	if c.ExitCode != nil {
		exit = fmt.Sprintf("exit code %d", *c.ExitCode)
	}
	essential := "essential"
	if !c.Essential {
		essential = "not essential"
	}
	fmt.Fprintf(w, "  container %s (%s): %s", c.Name, essential, exit)
	if c.Reason != "" {
		fmt.Fprintf(w, ": %s", c.Reason)
	}
	fmt.Fprintln(w)
	switch {
	case c.LogError != "":
		fmt.Fprintf(w, "    logs %s %s: %s\n", c.LogGroup, c.LogStream, c.LogError)
	case c.LogGroup != "":
		fmt.Fprintf(w, "    last %d log lines of %s %s:\n", len(c.Logs), c.LogGroup, c.LogStream)
		for _, l := range c.Logs {
			fmt.Fprintf(w, "    | %s\n", l)
		}
	}
}
