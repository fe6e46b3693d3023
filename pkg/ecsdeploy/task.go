package ecsdeploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/rollout"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// TaskResult says how a one-off task (Input.RunTask) went.
type TaskResult struct {
	ARN string `json:"arn"`
	// Outcome is started (not waited for), succeeded (every essential
	// container exited 0), tasks-stopped, vanished, timed-out (left
	// running) or canceled.
	Outcome       string            `json:"outcome"`
	LastStatus    string            `json:"lastStatus,omitempty"`
	StopCode      string            `json:"stopCode,omitempty"`
	StoppedReason string            `json:"stoppedReason,omitempty"`
	Diagnosis     string            `json:"diagnosis,omitempty"`
	Containers    []ContainerResult `json:"containers,omitempty"`
}

// ContainerResult is one container of a stopped one-off task.
type ContainerResult struct {
	Name      string `json:"name"`
	Essential bool   `json:"essential"`
	// ExitCode is nil when the container never exited (or never ran).
	ExitCode *int32 `json:"exitCode"`
	Reason   string `json:"reason,omitempty"`
	// LogGroup and LogStream are where it logs with awslogs; Logs are
	// the last lines there, oldest first, and LogError why they could
	// not be read.
	LogGroup  string   `json:"logGroup,omitempty"`
	LogStream string   `json:"logStream,omitempty"`
	Logs      []string `json:"logs,omitempty"`
	LogError  string   `json:"logError,omitempty"`
}

// taskOnly ends a run of a task definition alone: run the new revision
// as a one-off task when asked, then clean up after a success.
func (d *run) taskOnly(ctx context.Context, base string) error {
	if d.in.RunTask != nil {
		if err := d.runTask(ctx, *d.in.RunTask); err != nil {
			return err
		}
	} else {
		d.res.Outcome = history.StatusSucceeded
	}
	d.cleanup(ctx, base, d.res.TaskDefinition, base)
	return nil
}

// runTask runs the new revision as a one-off task and, when asked, waits
// for it and reads its containers' last log lines.
func (d *run) runTask(ctx context.Context, rt RunTaskInput) error {
	ti := rollout.TaskInput{Cluster: d.in.Cluster, TaskDefinition: d.res.TaskDefinition, LaunchType: rt.LaunchType,
		PlatformVersion: rt.PlatformVersion, StartedBy: "buoy ecs-deploy"}
	if n := rt.Network; n != nil {
		ti.Network = &rollout.NetworkConfiguration{Subnets: n.Subnets, SecurityGroups: n.SecurityGroups, AssignPublicIP: n.AssignPublicIP}
	}
	task, err := d.r.StartTask(ctx, ti)
	if err != nil {
		d.res.Outcome, d.res.Reason = history.StatusFailed, err.Error()
		return classed(deploy.ErrDeploymentFailed, err)
	}
	d.res.Task = &TaskResult{ARN: task.ARN, Outcome: "started"}
	if !rt.Wait {
		d.res.Outcome, d.res.Reason = history.StatusSucceeded, "task "+task.ID()+" started; not waited for"
		return nil
	}
	tr, werr := d.r.WaitTask(ctx, task, d.in.Timeout)
	d.res.Task = d.taskResult(ctx, tr, rt.LogLines)
	d.res.Reason = tr.Diagnosis
	if werr == nil {
		d.res.Outcome = history.StatusSucceeded
		return nil
	}
	d.res.Outcome = history.StatusFailed
	if ctx.Err() != nil {
		return ctx.Err()
	}
	class := deploy.ErrDeploymentFailed
	if tr.Outcome == rollout.TimedOut {
		class = deploy.ErrTimeout
	}
	return fmt.Errorf("%w: %w", class, werr)
}

// taskResult turns a one-off task's end into the result, with the last
// lines of each container's awslogs stream.
func (d *run) taskResult(ctx context.Context, tr rollout.TaskResult, lines int) *TaskResult {
	out := &TaskResult{ARN: tr.Task.ARN, Outcome: string(tr.Outcome), LastStatus: tr.LastStatus, StopCode: tr.StopCode,
		StoppedReason: tr.StoppedReason, Diagnosis: tr.Diagnosis}
	if lines == 0 {
		lines = DefaultLogLines
	}
	var logs *tasklogs.Reader
	for _, c := range tr.Containers {
		cr := ContainerResult{Name: c.Name, Essential: c.Essential, ExitCode: c.ExitCode, Reason: c.Reason}
		if c.Logs != nil && lines > 0 {
			if logs == nil {
				logs = tasklogs.NewFromConfig(d.cfg)
			}
			cr.LogGroup, cr.LogStream = c.Logs.Group, c.Logs.Stream
			got, err := logs.Tail(ctx, tasklogs.Stream{Group: c.Logs.Group, Name: c.Logs.Stream, Region: c.Logs.Region}, lines)
			switch {
			case errors.Is(err, tasklogs.ErrNoStream):
				cr.LogError = "no log stream: the container wrote nothing"
			case err != nil:
				cr.LogError = err.Error()
				d.opts.log.DebugContext(ctx, "could not read the container's logs", "container", c.Name, "err", err)
			}
			for _, l := range got {
				cr.Logs = append(cr.Logs, l.Message)
			}
		}
		out.Containers = append(out.Containers, cr)
	}
	return out
}
