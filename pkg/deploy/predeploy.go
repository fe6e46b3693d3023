package deploy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/rollout"
	"github.com/buoy-deploy/buoy/pkg/tasklogs"
)

// TaskLogLines is how many of its last lines each essential container of
// a failed pre_deploy task shows (as event.TaskLog events).
const TaskLogLines = 25

// defaultTaskLogs reads CloudWatch Logs with pkg/tasklogs.
func defaultTaskLogs(p ClusterParams) (TaskLogs, error) { return tasklogs.NewFromConfig(p.Config), nil }

// PreDeployError says that a pre_deploy task did not succeed, so the
// deployment moved no tag and updated no service. errors.Is(err,
// ErrTimeout) is true when the task was still running at its timeout,
// else errors.Is(err, ErrDeploymentFailed).
type PreDeployError struct {
	// Task is the task's id in the manifest's pre_deploy.
	Task string
	// Outcome is how the task ended; nil when it never started (Err says
	// why: its revision could not be registered, or ECS did not start it).
	Outcome *TaskOutcome
	Err     error
}

func (e *PreDeployError) Error() string {
	if e.Outcome == nil {
		return fmt.Sprintf("pre_deploy task %s did not start: %v", e.Task, e.Err)
	}
	return fmt.Sprintf("pre_deploy task %s failed: %s", e.Task, e.Outcome.Reason)
}

// Is makes errors.Is(err, ErrTimeout) true for a task that timed out,
// errors.Is(err, ErrDeploymentFailed) for any other.
func (e *PreDeployError) Is(target error) bool {
	if e.Outcome != nil && e.Outcome.TimedOut {
		return target == ErrTimeout
	}
	return target == ErrDeploymentFailed
}

func (e *PreDeployError) Unwrap() error { return e.Err }

// runTasks runs the plan's pre_deploy tasks one after another, each to
// its end, reporting to t; it stops at the first that does not succeed.
// Every call that changes something (registering a revision, RunTask) is
// made through the session's lease.
func (d *Deployer) runTasks(ctx context.Context, s *session, p *plan, depID string, t tracker) error {
	for _, pt := range p.tasks {
		if err := d.runTask(ctx, s, p, pt, depID, t); err != nil {
			return err
		}
	}
	return nil
}

func (d *Deployer) runTask(ctx context.Context, s *session, p *plan, pt *plannedTask, depID string, t tracker) error {
	runner, err := d.taskRunner(ctx, s, pt)
	if err != nil {
		return err
	}
	st, err := d.startTask(ctx, s, runner, pt, t)
	if err != nil {
		return err
	}
	d.emit(event.Event{Kind: event.TaskStarted, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
		Task: pt.task.ID, Cluster: pt.cluster, To: st.TaskDefinition,
		Message: fmt.Sprintf("started ECS task %s of %s", taskID(st.ARN), shortTD(st.TaskDefinition))})

	o, err := runner.WaitTask(ctx, st, pt.task.TaskTimeout())
	if err != nil && ctx.Err() != nil {
		o.Status = history.StatusCancelled
		o.Reason = fmt.Sprintf("%s; ECS task %s was left running: stop it with `aws ecs stop-task --cluster %s --task %s`, or let it finish",
			o.Reason, taskID(st.ARN), pt.cluster, taskID(st.ARN))
		t.note(ctx, true, func() { pt.outcome = &o })
		return ctx.Err()
	}
	t.note(ctx, true, func() { pt.outcome = &o })
	d.emit(event.Event{Kind: event.TaskDone, Environment: p.env.ID, Release: p.release.ID, Deployment: depID,
		Task: pt.task.ID, Cluster: pt.cluster, To: st.TaskDefinition, Outcome: string(o.Status),
		Message: fmt.Sprintf("%s after %s: %s", o.Status, o.Duration.Round(time.Second), o.Reason)})
	if o.Status == history.StatusSucceeded {
		return nil
	}
	d.showLogs(ctx, s, p, pt, o, depID)
	return &PreDeployError{Task: pt.task.ID, Outcome: &o, Err: err}
}

// startTask registers the task's revision pinning the release's images
// when it needs one, and asks ECS to start the task, each through the
// session's lease, reporting to t. When it cannot, the error is a
// *PreDeployError and the record says whether a task may have started.
func (d *Deployer) startTask(ctx context.Context, s *session, runner TaskRunner, pt *plannedTask, t tracker) (StartedTask, error) {
	fail := func(err error, sent bool) (StartedTask, error) {
		if ctx.Err() != nil {
			return StartedTask{}, ctx.Err()
		}
		var nse *rollout.TaskNotStartedError
		t.note(ctx, true, func() { pt.failure, pt.refused = err.Error(), !sent || refused(err) || errors.As(err, &nse) })
		return StartedTask{}, &PreDeployError{Task: pt.task.ID, Err: err}
	}
	if pt.run == "" {
		var run string
		err := s.lease.do(ctx, func(actx context.Context) (err error) {
			run, err = runner.PinTaskDefinition(actx, pt.source, pt.pins)
			return err
		})
		if err != nil {
			return fail(fmt.Errorf("register a revision of %s with the release's images: %w", shortTD(pt.source), err), false)
		}
		t.note(ctx, true, func() { pt.run = run })
	}
	in := TaskInput{ID: pt.task.ID, Cluster: pt.cluster, TaskDefinition: pt.run, Launch: pt.launch,
		Container: pt.task.Container, Command: pt.task.Command, Environment: pt.task.Environment}
	var st StartedTask
	err := s.lease.do(ctx, func(actx context.Context) (err error) {
		t.note(ctx, false, func() { pt.sent = true })
		st, err = runner.RunTask(actx, in)
		return err
	})
	if err != nil {
		return fail(err, pt.sent)
	}
	t.note(ctx, true, func() { pt.started = &st })
	return st, nil
}

// showLogs emits the last lines each essential container of a task that
// did not succeed wrote, when it logs to CloudWatch Logs (awslogs); a
// container that did is passed over. Reading a log never fails the
// deployment: a denial or an error is a warning.
func (d *Deployer) showLogs(ctx context.Context, s *session, p *plan, pt *plannedTask, o TaskOutcome, depID string) {
	line := func(container, msg string) {
		d.emit(event.Event{Kind: event.TaskLog, Environment: p.env.ID, Deployment: depID, Task: pt.task.ID,
			Cluster: pt.cluster, Message: "[" + container + "] " + msg})
	}
	for _, c := range o.Containers {
		if !c.Essential || (c.ExitCode != nil && *c.ExitCode == 0) {
			continue
		}
		if c.Logs == nil {
			line(c.Name, "(its output does not go to CloudWatch Logs with the awslogs driver, so buoy cannot show it)")
			continue
		}
		logs, err := s.logs(ctx, pt.target)
		var lines []tasklogs.Line
		if err == nil {
			lines, err = logs.Tail(ctx, *c.Logs, TaskLogLines)
		}
		switch {
		case errors.Is(err, tasklogs.ErrNoStream):
			line(c.Name, fmt.Sprintf("(no log stream %s in group %s: the container wrote nothing)", c.Logs.Name, c.Logs.Group))
			continue
		case err != nil:
			d.emit(event.Event{Kind: event.Warning, Environment: p.env.ID, Deployment: depID, Task: pt.task.ID, Cluster: pt.cluster,
				Message: fmt.Sprintf("could not read the log of container %s of pre_deploy task %s (stream %s in group %s): %v", c.Name, pt.task.ID, c.Logs.Name, c.Logs.Group, err)})
			continue
		case len(lines) == 0:
			line(c.Name, fmt.Sprintf("(log stream %s in group %s is empty)", c.Logs.Name, c.Logs.Group))
		}
		for _, l := range lines {
			line(c.Name, oneLine(l.Message))
		}
	}
}

// csi matches a terminal's control sequences (colours, cursor moves).
var csi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// oneLine makes a line a container wrote safe to show as one line: its
// terminal control sequences (colours) are dropped, line breaks become
// spaces, and other control characters are dropped.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, csi.ReplaceAllString(s, ""))
}

// taskID returns a task's id, the last part of its ARN.
func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// fillTasks copies the tasks' progress into the record; r.mu is held.
func (r *recordKeeper) fillTasks(p *plan) {
	r.rec.PreDeploy = r.rec.PreDeploy[:0]
	for _, pt := range p.tasks {
		tr := history.TaskRun{ID: pt.task.ID, Cluster: pt.cluster, Region: pt.region, TaskDefinition: cmp.Or(pt.run, pt.source)}
		switch {
		case pt.outcome != nil:
			o := pt.outcome
			tr.Task, tr.Outcome, tr.Reason, tr.StopCode, tr.StoppedReason = o.Task.ARN, o.Status, o.Reason, o.StopCode, o.StoppedReason
			for _, c := range o.Containers {
				tr.Containers = append(tr.Containers, history.TaskContainer{Name: c.Name, Essential: c.Essential, ExitCode: c.ExitCode, Reason: c.Reason})
			}
		case pt.started != nil:
			tr.Task, tr.Outcome, tr.Reason = pt.started.ARN, history.StatusInProgress, "running; waiting for it to stop"
		case pt.sent && !pt.refused && r.unconfirmed(runningTasks, pt.sent, pt.refused):
			tr.Outcome, tr.Reason = history.StatusInProgress, "starting: outcome unknown (the run was starting it when it wrote this record)"
			if pt.failure != "" {
				tr.Reason = "outcome unknown: ECS's answer to RunTask never came (" + pt.failure + "); the task may be running"
			}
		case pt.failure != "":
			tr.Outcome, tr.Reason = history.StatusFailed, pt.failure
		case r.stage == closing:
			tr.Reason = "not run"
		default:
			tr.Outcome, tr.Reason = history.StatusInProgress, "to run before any tag moves"
		}
		r.rec.PreDeploy = append(r.rec.PreDeploy, tr)
	}
}

// taskResults says what happened to each pre_deploy task, for a Result
// whose status is status.
func taskResults(status history.Status, tasks []*plannedTask) []TaskResult {
	var out []TaskResult
	for _, pt := range tasks {
		tr := TaskResult{Task: pt.task.ID, Cluster: pt.cluster, Region: pt.region, TaskDefinition: cmp.Or(pt.run, pt.source)}
		switch {
		case status == StatusPlanned:
			tr.Outcome, tr.Reason = StatusPlanned, pt.describe()
		case pt.outcome != nil:
			tr.TaskARN, tr.Outcome, tr.Reason, tr.Duration = pt.outcome.Task.ARN, pt.outcome.Status, pt.outcome.Reason, pt.outcome.Duration
		case pt.started != nil:
			tr.TaskARN, tr.Outcome, tr.Reason = pt.started.ARN, history.StatusInProgress, "started; not finished"
		case pt.failure != "":
			tr.Outcome, tr.Reason = history.StatusFailed, pt.failure
		default:
			tr.Reason = "not run"
		}
		out = append(out, tr)
	}
	return out
}
