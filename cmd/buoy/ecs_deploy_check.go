package main

import (
	"slices"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

// ecsDeployConflicts are ecs-deploy's flags that another flag would
// leave ignored, or that mean something only with another (checkFlags
// refuses them before anything runs). ecs-deploy ignores most of them in
// silence; buoy says which flag to drop.
var ecsDeployConflicts = []flagConflict{
	{command: "ecs-deploy", flag: "wait-for-success", other: "run-task", needs: true, why: "it waits for the one-off task --run-task starts"},
	{command: "ecs-deploy", flag: "launch-type", other: "run-task", needs: true, why: "it is how the one-off task --run-task starts is launched"},
	{command: "ecs-deploy", flag: "platform-version", other: "run-task", needs: true, why: "it is the Fargate platform of the one-off task --run-task starts"},
	{command: "ecs-deploy", flag: "network-configuration", other: "run-task", needs: true, why: "it is the network of the one-off task --run-task starts"},
	{command: "ecs-deploy", flag: "log-lines", other: "wait-for-success", needs: true, why: "the log lines are read once the one-off task stopped"},
	{command: "ecs-deploy", flag: "run-task", other: "service-name", why: "--run-task runs the new revision of -d as a one-off task; with -n, ecs-deploy ignores it: drop -n to run the task, or --run-task to update the service"},
	{command: "ecs-deploy", flag: "tag-only-container-names", other: "tag-only", needs: true, why: "-toc names the containers whose images get the tag of -to"},
	{command: "ecs-deploy", flag: "tag-only", other: "tag-env-var", why: "-to gives every container's image its tag; -e gives the tag of -i's image"},
	{command: "ecs-deploy", flag: "aws-access-key", other: "aws-secret-key", needs: true, why: "an access key id is used with its secret key"},
	{command: "ecs-deploy", flag: "aws-secret-key", other: "aws-access-key", needs: true, why: "a secret key is used with its access key id"},
	{command: "ecs-deploy", flag: "aws-access-key", other: "profile", why: "both give the credentials"},
	{command: "ecs-deploy", flag: "aws-instance-profile", other: "aws-access-key", why: "both give the credentials"},
	{command: "ecs-deploy", flag: "aws-instance-profile", other: "profile", why: "both give the credentials"},
	{command: "ecs-deploy", flag: "no-wait", other: "skip-deployments-check", why: "--no-wait does not wait for the rollout, so there is no check to skip"},
	{command: "ecs-deploy", flag: "no-wait", other: "run-task", why: "--no-wait does not wait for a service's rollout; --run-task waits for its task only with --wait-for-success"},
}

// forcedIgnores are the flags --force-new-deployment, which redeploys
// the service's task definition as it is, would ignore.
var forcedIgnores = []string{"image", "tag-only", "tag-env-var", "task-definition", "use-latest-task-def", "run-task", "max-definitions"}

// check refuses, before any AWS call, what cannot be done, what would be
// ignored, numbers that ECS would take to mean something else or refuse
// only after a revision was registered, and a timeout that would
// silently become 30 minutes.
func (cfg ecsDeployConfig) check(changed func(string) bool) error {
	if cfg.output != "text" && cfg.output != "json" {
		return flagErrorf("--output must be text or json, not %q", cfg.output)
	}
	if cfg.taskDefFile != "" {
		return flagErrorf("--task-definition-file is not supported: register the file with `aws ecs register-task-definition --cli-input-json file://%s`, then pass its family with -d", cfg.taskDefFile)
	}
	if err := cfg.checkWhat(changed); err != nil {
		return err
	}
	if cfg.creds.assumeRole != "" && awsconfig.AccountOfRole(cfg.creds.assumeRole) == "" {
		return flagErrorf("-a/--aws-assume-role %q is not a role ARN: write it like arn:aws:iam::123456789012:role/deploy", cfg.creds.assumeRole)
	}
	if lt := strings.ToUpper(cfg.launchType); lt != "" && !slices.Contains([]string{"EC2", "FARGATE", "EXTERNAL"}, lt) {
		return flagErrorf("--launch-type must be EC2, FARGATE or EXTERNAL, not %q", cfg.launchType)
	}
	return cfg.checkNumbers(changed)
}

// checkWhat checks that the flags name one thing to deploy, where.
func (cfg ecsDeployConfig) checkWhat(changed func(string) bool) error {
	if cfg.forceNew {
		for _, name := range forcedIgnores {
			if changed(name) {
				return flagErrorf("--force-new-deployment redeploys the task definition the service runs, as it is, so it takes no --%s (ecs-deploy ignores it): drop --%s, or drop --force-new-deployment to deploy a new revision", name, name)
			}
		}
		if cfg.service == "" {
			return flagErrorf("--force-new-deployment needs -n/--service-name: the service to redeploy")
		}
	}
	switch {
	case cfg.service == "" && cfg.taskDefinition == "":
		return flagErrorf("missing -n/--service-name (or -d/--task-definition)")
	case cfg.service != "" && cfg.cluster == "":
		return flagErrorf("missing -c/--cluster")
	case cfg.runTask && cfg.cluster == "":
		return flagErrorf("--run-task needs -c/--cluster: the cluster to run the task in")
	case cfg.image == "" && cfg.tagOnly == "" && !cfg.forceNew:
		return flagErrorf("missing -i/--image (or -to/--tag-only to give every container's image a tag, or --force-new-deployment to redeploy as it is)")
	}
	return nil
}

// checkNumbers refuses numbers that ECS would take to mean something
// else or that would silently become a default.
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
	case cfg.logLines < 0 || cfg.logLines > 10000:
		return flagErrorf("--log-lines must be from 0 to 10000, got %d", cfg.logLines)
	}
	return nil
}
