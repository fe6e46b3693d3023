package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

var _ TaskRunner = (*ecsCluster)(nil)

// taskSink tells a one-off task's progress and warnings, from the
// Rollout that follows it, as the task id's; the Deployer reports its
// start and end itself.
func taskSink(sink event.Sink, id string) event.Sink {
	return event.Func(func(e event.Event) {
		switch {
		case sink == nil:
			return
		case e.Kind == event.Progress:
			e.Kind = event.TaskProgress
		case e.Kind != event.Warning:
			return
		}
		e.Task = id
		sink.Emit(e)
	})
}

// launchOf is how a service found by rollout launches its tasks.
func launchOf(l rollout.Launch) *TaskLaunch {
	out := &TaskLaunch{LaunchType: l.LaunchType, PlatformVersion: l.PlatformVersion}
	for _, c := range l.CapacityProviderStrategy {
		out.CapacityProviders = append(out.CapacityProviders, manifest.CapacityProvider{Name: c.CapacityProvider, Weight: int(c.Weight), Base: int(c.Base)})
	}
	if n := l.Network; n != nil {
		out.Subnets, out.SecurityGroups, out.AssignPublicIP = n.Subnets, n.SecurityGroups, n.AssignPublicIP
	}
	return out
}

func (c *ecsCluster) TaskDefinition(ctx context.Context, ref string) (TaskDefinition, error) {
	out, err := c.r.TaskDefinition(ctx, ref)
	if err != nil {
		return TaskDefinition{}, err
	}
	if out.TaskDefinition == nil {
		return TaskDefinition{}, fmt.Errorf("describe task definition %s: ECS returned none", ref)
	}
	td := out.TaskDefinition
	info := TaskDefinition{ARN: aws.ToString(td.TaskDefinitionArn), NetworkMode: string(td.NetworkMode), Containers: map[string]string{}}
	for _, cd := range td.ContainerDefinitions {
		info.Containers[aws.ToString(cd.Name)] = aws.ToString(cd.Image)
	}
	return info, nil
}

func (c *ecsCluster) PinTaskDefinition(ctx context.Context, arn string, pins []history.ImageRef) (string, error) {
	images, err := pinned(pins)
	if err != nil {
		return "", err
	}
	return c.r.RegisterImages(ctx, arn, images)
}

// taskHandle is the default TaskRunner's handle on a started task: the
// Rollout that follows it.
type taskHandle struct {
	r    *rollout.Rollout
	task rollout.Task
}

func (c *ecsCluster) RunTask(ctx context.Context, in TaskInput) (StartedTask, error) {
	r := c.taskRollout(in.ID)
	ti := rollout.TaskInput{Cluster: in.Cluster, TaskDefinition: in.TaskDefinition, LaunchType: in.Launch.LaunchType,
		PlatformVersion: in.Launch.PlatformVersion, StartedBy: "buoy"}
	for _, cp := range in.Launch.CapacityProviders {
		ti.CapacityProviderStrategy = append(ti.CapacityProviderStrategy,
			rollout.CapacityProviderItem{CapacityProvider: cp.Name, Weight: int32(cp.Weight), Base: int32(cp.Base)})
	}
	if l := in.Launch; len(l.Subnets) > 0 {
		ti.Network = &rollout.NetworkConfiguration{Subnets: l.Subnets, SecurityGroups: l.SecurityGroups, AssignPublicIP: l.AssignPublicIP}
	}
	if in.Container != "" && (in.Command != nil || in.Environment != nil) {
		ti.Overrides = []rollout.ContainerOverride{{Name: in.Container, Command: in.Command, Environment: in.Environment}}
	}
	t, err := r.StartTask(ctx, ti)
	if err != nil {
		return StartedTask{}, err
	}
	return StartedTask{ID: in.ID, ARN: t.ARN, Cluster: t.Cluster, TaskDefinition: t.TaskDefinition, At: t.StartedAt,
		Handle: taskHandle{r: r, task: t}}, nil
}

func (c *ecsCluster) WaitTask(ctx context.Context, st StartedTask, timeout time.Duration) (TaskOutcome, error) {
	h, ok := st.Handle.(taskHandle)
	if !ok {
		return TaskOutcome{}, fmt.Errorf("wait for task %s: not started by this cluster", st.ARN)
	}
	res, _ := h.r.WaitTask(ctx, h.task, timeout)
	o := TaskOutcome{Task: st, Reason: res.Diagnosis, StopCode: res.StopCode, StoppedReason: res.StoppedReason}
	end := res.Finished
	if end.IsZero() {
		end = c.clock.Now()
	}
	if !st.At.IsZero() {
		o.Duration = end.Sub(st.At)
	}
	o.Status, o.TimedOut = statusOf(res.Outcome)
	for _, rc := range res.Containers {
		tc := TaskContainer{Name: rc.Name, Essential: rc.Essential, ExitCode: rc.ExitCode, Reason: rc.Reason}
		if l := rc.Logs; l != nil {
			tc.Logs = &tasklogs.Stream{Group: l.Group, Name: l.Stream, Region: l.Region}
		}
		o.Containers = append(o.Containers, tc)
	}
	if ctx.Err() != nil {
		return o, ctx.Err()
	}
	return o, nil
}
