package deployfixture

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// MigrationContainer is the container of RegisterMigration's family that
// runs the project's image.
const MigrationContainer = "app"

// MigrationLogPrefix is the awslogs-stream-prefix of RegisterMigration's
// family: its container app logs to the stream <prefix>/app/<task id>.
const MigrationLogPrefix = "ecs"

// RegisterMigration registers, with cfg, the first revision of a task
// definition family for a pre_deploy task: its container app runs img
// through env's floating tag and logs to logGroup with the awslogs
// driver, and a log router that is not essential. The bridge network
// mode and the containers' memory let moto run it on FARGATE.
func RegisterMigration(ctx context.Context, cfg aws.Config, family string, img Image, env Env, logGroup string) (string, error) {
	out, err := ecs.NewFromConfig(cfg).RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(family), Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String(MigrationContainer), Image: aws.String(URI(img.Repository) + ":" + env.FloatingTag()), Essential: aws.Bool(true),
				Memory: aws.Int32(256), LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs,
					Options: map[string]string{"awslogs-group": logGroup, "awslogs-stream-prefix": MigrationLogPrefix}}},
			{Name: aws.String("log-router"), Image: aws.String("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"),
				Essential: aws.Bool(false), Memory: aws.Int32(64)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("register task definition %s: %w", family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn), nil
}

// PreDeployYAML is an environment's pre_deploy key (a line for
// Env.YAML) running one task, id, of family with app's command replaced
// by command, and the given keys added, e.g. "launch_type: FARGATE".
func PreDeployYAML(id, family string, command []string, keys ...string) string {
	fields := append([]string{"id: " + id, "task_definition: " + family, "container: " + MigrationContainer,
		"command: [" + strings.Join(command, ", ") + "]"}, keys...)
	return "pre_deploy: [{" + strings.Join(fields, ", ") + "}]"
}
