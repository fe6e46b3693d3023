package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// ecsDeployConfig is what `buoy ecs-deploy` takes: the classic ecs-deploy
// command line.
type ecsDeployConfig struct {
	cluster        string
	service        string
	taskDefinition string
	image          string
	desiredCount   int32
	min, max       int32
	timeout        int
	tagEnvVar      string
	maxDefinitions int
	rollback       bool
	region         string
	profile        string
	verbose        bool
	output         string
	noWait         bool
}

func newECSDeployCommand(a *app) *cobra.Command {
	var cfg ecsDeployConfig
	cmd := &cobra.Command{
		Use:   "ecs-deploy",
		Short: "Deploy one image to one ECS service, like the classic ecs-deploy script",
		Long: `ecs-deploy takes the classic ecs-deploy options: it registers a new
revision of the service's task definition with the containers that use the
image's repository pointed at the image (a missing tag means latest),
updates the service and waits for ECS, failing fast. No manifest or history
is needed.`,
		Example: `  buoy ecs-deploy -c production -n api -i 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:ref.$GIT_COMMIT
  buoy ecs-deploy -c production -n api -i repo/api -e GIT_TAG --enable-rollback --max-definitions 10 -t 600`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runECSDeploy(cmd.Context(), a, cfg, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&cfg.cluster, "cluster", "c", "", "ECS cluster name or ARN")
	f.StringVarP(&cfg.service, "service-name", "n", "", "ECS service to update")
	f.StringVarP(&cfg.taskDefinition, "task-definition", "d", "", "task definition to base the new revision on (without -n: only register it)")
	f.StringVarP(&cfg.image, "image", "i", "", "image to deploy: repository[:tag|@digest]")
	f.Int32VarP(&cfg.desiredCount, "desired-count", "D", 0, "new desired count of the service")
	f.Int32VarP(&cfg.min, "min", "m", 0, "minimumHealthyPercent of the deployment")
	f.Int32VarP(&cfg.max, "max", "M", 0, "maximumPercent of the deployment")
	f.IntVarP(&cfg.timeout, "timeout", "t", 90, "seconds to wait for the rollout")
	f.StringVarP(&cfg.tagEnvVar, "tag-env-var", "e", "", "take the image's tag from this environment variable")
	f.IntVar(&cfg.maxDefinitions, "max-definitions", 0, "keep only this many revisions of the family (0: keep all)")
	f.BoolVar(&cfg.rollback, "enable-rollback", false, "roll back to the previous task definition if the rollout fails")
	f.StringVarP(&cfg.region, "region", "r", "", "AWS region")
	f.StringVarP(&cfg.profile, "profile", "p", "", "AWS shared config profile")
	registerVerbose(cmd, &cfg.verbose)
	f.StringVar(&cfg.output, "output", "text", "output format: text or json")
	f.BoolVar(&cfg.noWait, "no-wait", false, "do not wait for the rollout")
	return cmd
}

func runECSDeploy(ctx context.Context, a *app, cfg ecsDeployConfig, changed func(string) bool) error {
	if cfg.output != "text" && cfg.output != "json" {
		return flagErrorf("--output must be text or json, not %q", cfg.output)
	}
	if cfg.image == "" {
		return flagErrorf("missing -i/--image")
	}
	if cfg.service == "" && cfg.taskDefinition == "" {
		return flagErrorf("missing -n/--service-name (or -d/--task-definition)")
	}
	if cfg.service != "" && cfg.cluster == "" {
		return flagErrorf("missing -c/--cluster")
	}
	if err := cfg.checkNumbers(changed); err != nil {
		return err
	}
	var tag string
	if cfg.tagEnvVar != "" {
		if tag = a.getenv(cfg.tagEnvVar); tag == "" {
			return flagErrorf("-e %s: the environment variable is empty or unset", cfg.tagEnvVar)
		}
	}
	in := ecsdeploy.Input{Cluster: cfg.cluster, Service: cfg.service, TaskDefinition: cfg.taskDefinition, Image: cfg.image, Tag: tag,
		Timeout: time.Duration(cfg.timeout) * time.Second, NoWait: cfg.noWait, Rollback: cfg.rollback, MaxDefinitions: cfg.maxDefinitions}
	if changed("desired-count") {
		in.DesiredCount = &cfg.desiredCount
	}
	if changed("min") {
		in.MinimumHealthyPercent = &cfg.min
	}
	if changed("max") {
		in.MaximumPercent = &cfg.max
	}
	awsCfg, err := a.loadAWS(ctx, cfg.region, cfg.profile, a.logger(cfg.verbose))
	if err != nil {
		return err
	}
	res, err := ecsdeploy.Deploy(ctx, awsCfg, newProgress(a.stderr, cfg.output == "json"), in)
	if res == nil {
		return err
	}
	if cfg.output == "json" {
		if werr := writeJSON(a.stdout, res); werr != nil {
			return werr
		}
		return err
	}
	fmt.Fprintf(a.stdout, "%s/%s: %s  %s -> %s\n", dash(res.Cluster), dash(res.Service), dash(string(res.Outcome)),
		dash(res.PreviousTaskDefinition), dash(res.TaskDefinition))
	if res.Reason != "" {
		fmt.Fprintf(a.stdout, "reason: %s\n", res.Reason)
	}
	for _, d := range res.Deregistered {
		fmt.Fprintf(a.stdout, "deregistered %s\n", d)
	}
	return err
}

// checkNumbers refuses, before any AWS call, numbers that ECS would take
// to mean something else or refuse only after a revision was registered,
// and a timeout that would silently become 30 minutes.
func (cfg ecsDeployConfig) checkNumbers(changed func(string) bool) error {
	switch {
	case changed("desired-count") && cfg.desiredCount < 0:
		return flagErrorf("-D/--desired-count must not be negative, got %d: give the number of tasks the service should run, e.g. 2", cfg.desiredCount)
	case changed("min") && (cfg.min < 0 || cfg.min > 100):
		return flagErrorf("-m/--min must be a percentage from 0 to 100, got %d: ECS keeps at least that share of the desired count running (its default is 100)", cfg.min)
	case changed("max") && cfg.max < 100:
		return flagErrorf("-M/--max must be 100 or more, got %d: ECS runs at most that share of the desired count during the deployment (its default is 200)", cfg.max)
	case cfg.timeout <= 0:
		return flagErrorf("-t/--timeout must be a number of seconds above 0, got %d: write it like 600, or leave it out for 90 (--no-wait does not wait at all)", cfg.timeout)
	case cfg.maxDefinitions < 0:
		return flagErrorf("--max-definitions must not be negative, got %d: give how many revisions to keep, or leave it out to keep them all", cfg.maxDefinitions)
	}
	return nil
}
