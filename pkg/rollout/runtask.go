package rollout

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// TaskInput says which one-off task StartTask runs: a revision of a task
// definition, where, and how this run differs from the definition (a
// migration's command, its environment). It is what the classic
// `ecs-deploy --run-task` needs and what a deployment needs to run a task
// before it updates its services.
type TaskInput struct {
	// Cluster is the cluster to run the task in, by name or ARN.
	Cluster string
	// TaskDefinition is what to run: an ARN, family:revision, or a
	// family (its latest ACTIVE revision).
	TaskDefinition string
	// LaunchType is EC2, FARGATE or EXTERNAL; "" uses
	// CapacityProviderStrategy, else the cluster's default capacity
	// provider strategy.
	LaunchType string
	// CapacityProviderStrategy, when set, places the task (instead of a
	// launch type).
	CapacityProviderStrategy []CapacityProviderItem
	// PlatformVersion is the Fargate platform version; "" means LATEST.
	PlatformVersion string
	// Network is the awsvpc configuration, which task definitions of the
	// awsvpc network mode (every Fargate one) need.
	Network *NetworkConfiguration
	// Overrides change containers for this run only.
	Overrides []ContainerOverride
	// StartedBy is recorded on the task (ECS takes at most 36
	// characters); default "buoy".
	StartedBy string
}

// NetworkConfiguration is a task's awsvpc network configuration.
type NetworkConfiguration struct {
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is ENABLED or DISABLED; "" leaves ECS's default.
	AssignPublicIP string
}

// ContainerOverride changes one container for one run.
type ContainerOverride struct {
	// Name is the container's name in the task definition.
	Name string
	// Command, when set, replaces the container's command.
	Command []string
	// Environment adds variables (or replaces those of the same name).
	Environment map[string]string
}

// Task is a one-off task that StartTask started.
type Task struct {
	ARN     string
	Cluster string
	// TaskDefinition is the ARN of the revision ECS runs.
	TaskDefinition string
	// StartedAt is when ECS accepted it, by the Rollout's clock.
	StartedAt time.Time
}

// ID returns the task's id, the last part of its ARN.
func (t Task) ID() string { return shortARN(t.ARN) }

// TaskNotStartedError says that ECS did not start the task it was asked
// to run, with ECS's reasons (e.g. "RESOURCE:MEMORY").
type TaskNotStartedError struct {
	TaskDefinition string
	Reasons        []string
}

func (e *TaskNotStartedError) Error() string {
	return fmt.Sprintf("ECS did not start a task of %s: %s", shortARN(e.TaskDefinition), strings.Join(e.Reasons, "; "))
}

// StartTask asks ECS to run one task (RunTask, with a client token so
// that a retried call cannot start a second one) and returns it without
// waiting. ECS refusing to place it is a *TaskNotStartedError.
func (r *Rollout) StartTask(ctx context.Context, in TaskInput) (Task, error) {
	req, err := runTaskInput(in)
	if err != nil {
		return Task{}, err
	}
	if err := r.budget.Wait(ctx, "RunTask"); err != nil {
		return Task{}, err
	}
	out, err := r.api.RunTask(ctx, req)
	r.budget.Observe("RunTask", err)
	if err != nil {
		return Task{}, fmt.Errorf("run a task of %s in cluster %s: %w", shortARN(in.TaskDefinition), in.Cluster, err)
	}
	if len(out.Tasks) == 0 {
		nse := &TaskNotStartedError{TaskDefinition: in.TaskDefinition}
		for _, f := range out.Failures {
			why := aws.ToString(f.Reason)
			if d := aws.ToString(f.Detail); d != "" {
				why += " (" + d + ")"
			}
			nse.Reasons = append(nse.Reasons, why)
		}
		if len(nse.Reasons) == 0 {
			nse.Reasons = []string{"ECS returned neither a task nor a reason"}
		}
		return Task{}, nse
	}
	t := out.Tasks[0]
	task := Task{ARN: aws.ToString(t.TaskArn), Cluster: cmp.Or(aws.ToString(t.ClusterArn), in.Cluster),
		TaskDefinition: cmp.Or(aws.ToString(t.TaskDefinitionArn), in.TaskDefinition), StartedAt: r.clock.Now()}
	r.log.DebugContext(ctx, "task started", "task", task.ARN, "taskDefinition", task.TaskDefinition)
	return task, nil
}

// runTaskInput builds the RunTask request of in.
func runTaskInput(in TaskInput) (*ecs.RunTaskInput, error) {
	if in.TaskDefinition == "" {
		return nil, fmt.Errorf("run a task: no task definition given")
	}
	token := make([]byte, 16)
	if _, err := rand.Read(token); err != nil {
		return nil, fmt.Errorf("run a task: make a client token: %w", err)
	}
	req := &ecs.RunTaskInput{
		TaskDefinition: aws.String(in.TaskDefinition),
		Count:          aws.Int32(1),
		StartedBy:      aws.String(cmp.Or(in.StartedBy, "buoy")),
		ClientToken:    aws.String(hex.EncodeToString(token)),
	}
	if in.Cluster != "" {
		req.Cluster = aws.String(in.Cluster)
	}
	if in.LaunchType != "" {
		req.LaunchType = types.LaunchType(in.LaunchType)
	}
	for _, c := range in.CapacityProviderStrategy {
		req.CapacityProviderStrategy = append(req.CapacityProviderStrategy, types.CapacityProviderStrategyItem{
			CapacityProvider: aws.String(c.CapacityProvider), Weight: c.Weight, Base: c.Base})
	}
	if in.PlatformVersion != "" {
		req.PlatformVersion = aws.String(in.PlatformVersion)
	}
	if n := in.Network; n != nil {
		req.NetworkConfiguration = &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: n.Subnets, SecurityGroups: n.SecurityGroups, AssignPublicIp: types.AssignPublicIp(n.AssignPublicIP)}}
	}
	if len(in.Overrides) > 0 {
		req.Overrides = &types.TaskOverride{}
		for _, o := range in.Overrides {
			co := types.ContainerOverride{Name: aws.String(o.Name), Command: o.Command}
			for _, k := range slices.Sorted(maps.Keys(o.Environment)) {
				co.Environment = append(co.Environment, types.KeyValuePair{Name: aws.String(k), Value: aws.String(o.Environment[k])})
			}
			req.Overrides.ContainerOverrides = append(req.Overrides.ContainerOverrides, co)
		}
	}
	return req, nil
}
