package rollout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// TaskResult says how a one-off task ended, or where it was when the
// wait for it ended.
type TaskResult struct {
	Task Task
	// Outcome is Succeeded when the task stopped and every essential
	// container exited 0; TasksStopped when it stopped otherwise
	// (an essential container exited with another code, or never ran);
	// Vanished when ECS no longer knows it; TimedOut or Canceled when
	// the wait ended first (the task is left running).
	Outcome Outcome
	// LastStatus is ECS's last status of the task, e.g. STOPPED.
	LastStatus    string
	StopCode      string
	StoppedReason string
	Containers    []ContainerResult
	// Diagnosis says in plain words what happened.
	Diagnosis string
	// Polls counts the DescribeTasks calls the wait made.
	Polls int
	// Finished is when the wait decided the outcome, by its clock.
	Finished time.Time
}

// ContainerResult is one container of a one-off task.
type ContainerResult struct {
	Name string
	// Essential is the task definition's say (true when it is silent):
	// the task succeeds only if every essential container exits 0.
	Essential bool
	// ExitCode is nil while the container runs, and when it never
	// started.
	ExitCode *int32
	// Reason is ECS's reason for the container's stop, if any.
	Reason string
	// Logs is where the container's output goes, when it logs with the
	// awslogs driver; nil otherwise.
	Logs *LogStream
}

// LogStream is a CloudWatch Logs stream a container writes to.
type LogStream struct {
	Group  string
	Stream string
	// Region is the awslogs-region option; "" when the task definition
	// does not set it (the task's own Region).
	Region string
}

// TaskError says that a one-off task did not succeed.
type TaskError struct {
	Result TaskResult
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("task %s: %s: %s", e.Result.Task.ID(), e.Result.Outcome, e.Result.Diagnosis)
}

// WaitTask follows t with DescribeTasks, at the Rollout's polling
// intervals on its clock, until it stops or timeout passes (0:
// DefaultTimeout). The error is nil only when the task succeeded (every
// essential container exited 0); otherwise it is a *TaskError, wrapping
// the context's error when ctx ended the wait. A task still running at
// the timeout is left to run.
func (r *Rollout) WaitTask(ctx context.Context, t Task, timeout time.Duration) (TaskResult, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	res := TaskResult{Task: t}
	deadline := r.clock.Now().Add(timeout)
	rng := rand.New(rand.NewPCG(uint64(r.clock.Now().UnixNano()), 0x7461_736b))
	interval := r.polling.Min
	errRounds := 0
	var last types.Task // as DescribeTasks last showed it
	for {
		task, err := r.describeTask(ctx, t)
		res.Polls++
		switch {
		case ctx.Err() != nil:
			return r.endTask(res, Canceled, fmt.Sprintf("the wait was cancelled while the task was %s: %v", orUnknown(res.LastStatus), ctx.Err()), ctx.Err())
		case errors.Is(err, errTaskMissing):
			return r.endTask(res, Vanished, fmt.Sprintf("ECS no longer knows task %s (last seen %s)", t.ID(), orUnknown(res.LastStatus)), nil)
		case err != nil:
			if errRounds++; errRounds >= 3 {
				return r.endTask(res, Failed, "buoy could not read the task's state: "+err.Error(), err)
			}
			r.log.DebugContext(ctx, "describe task failed", "task", t.ARN, "err", err)
		default:
			errRounds, last = 0, task
			if st := aws.ToString(task.LastStatus); st != res.LastStatus {
				res.LastStatus = st
				r.emit(event.Event{Kind: event.Progress, Cluster: t.Cluster, To: t.TaskDefinition,
					Message: fmt.Sprintf("task %s %s", t.ID(), st)})
			}
			if res.LastStatus == "STOPPED" {
				return r.stopped(ctx, res, task)
			}
		}
		now := r.clock.Now()
		if !now.Before(deadline) {
			res.Containers = r.containerResults(ctx, t, last)
			return r.endTask(res, TimedOut, fmt.Sprintf("task %s is still %s after %s; it was left running: stop it with `aws ecs stop-task --cluster %s --task %s`, or let it finish",
				t.ID(), orUnknown(res.LastStatus), timeout, clusterName(t.Cluster), t.ID()), nil)
		}
		sleep := min(jitter(interval, r.polling.Jitter, rng), deadline.Sub(now))
		interval = min(time.Duration(float64(interval)*r.polling.Growth), r.polling.Max)
		select {
		case <-ctx.Done():
			return r.endTask(res, Canceled, fmt.Sprintf("the wait was cancelled while the task was %s: %v", orUnknown(res.LastStatus), ctx.Err()), ctx.Err())
		case <-r.clock.After(sleep):
		}
	}
}

// errTaskMissing says that DescribeTasks no longer finds a task.
var errTaskMissing = errors.New("task missing")

// describeTask reads one task.
func (r *Rollout) describeTask(ctx context.Context, t Task) (types.Task, error) {
	if err := r.budget.Wait(ctx, "DescribeTasks"); err != nil {
		return types.Task{}, err
	}
	out, err := r.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(t.Cluster), Tasks: []string{t.ARN}})
	r.budget.Observe("DescribeTasks", err)
	if err != nil {
		return types.Task{}, fmt.Errorf("describe task %s: %w", t.ID(), err)
	}
	for _, task := range out.Tasks {
		if aws.ToString(task.TaskArn) == t.ARN {
			return task, nil
		}
	}
	return types.Task{}, errTaskMissing
}

// stopped judges a task that stopped: it succeeded when every essential
// container exited 0.
func (r *Rollout) stopped(ctx context.Context, res TaskResult, task types.Task) (TaskResult, error) {
	res.StopCode, res.StoppedReason = string(task.StopCode), aws.ToString(task.StoppedReason)
	res.Containers = r.containerResults(ctx, res.Task, task)
	var failed, ok []string
	for _, cr := range res.Containers {
		name := cr.Name
		if !cr.Essential {
			continue
		}
		switch {
		case cr.ExitCode == nil:
			failed = append(failed, fmt.Sprintf("essential container %s never exited%s", name, also(cr.Reason)))
		case *cr.ExitCode != 0:
			failed = append(failed, fmt.Sprintf("essential container %s exited with code %d%s", name, *cr.ExitCode, also(cr.Reason)))
		default:
			ok = append(ok, name)
		}
	}
	why := res.StoppedReason
	if res.StopCode != "" {
		why = strings.TrimSuffix(res.StopCode+": "+why, ": ")
	}
	switch {
	case len(failed) > 0:
		return r.endTask(res, TasksStopped, fmt.Sprintf("task %s stopped (%s): %s", res.Task.ID(), orNone(why), strings.Join(failed, "; ")), nil)
	case len(ok) == 0:
		return r.endTask(res, TasksStopped, fmt.Sprintf("task %s stopped (%s) and ECS reports no essential container's exit", res.Task.ID(), orNone(why)), nil)
	}
	return r.endTask(res, Succeeded, fmt.Sprintf("task %s stopped (%s); essential containers exited 0: %s", res.Task.ID(), orNone(why), strings.Join(ok, ", ")), nil)
}

// endTask closes a wait with outcome o and emits it.
func (r *Rollout) endTask(res TaskResult, o Outcome, diagnosis string, cause error) (TaskResult, error) {
	res.Outcome, res.Diagnosis, res.Finished = o, diagnosis, r.clock.Now()
	r.emit(event.Event{Kind: event.ServiceDone, Cluster: res.Task.Cluster, To: res.Task.TaskDefinition,
		Outcome: string(o), Message: diagnosis})
	if o == Succeeded {
		return res, nil
	}
	var err error = &TaskError{Result: res}
	if cause != nil {
		err = fmt.Errorf("wait for task %s: %w", res.Task.ID(), errors.Join(cause, err))
	}
	return res, err
}

// logStream returns where a container of a task writes with the awslogs
// driver: the stream is prefix/container/task id with a stream prefix,
// else the container's runtime id (EC2 without a prefix).
func logStream(def types.ContainerDefinition, t Task, c types.Container) *LogStream {
	lc := def.LogConfiguration
	if lc == nil || lc.LogDriver != types.LogDriverAwslogs || lc.Options["awslogs-group"] == "" {
		return nil
	}
	s := &LogStream{Group: lc.Options["awslogs-group"], Region: lc.Options["awslogs-region"]}
	switch prefix := lc.Options["awslogs-stream-prefix"]; {
	case prefix != "":
		s.Stream = prefix + "/" + aws.ToString(c.Name) + "/" + t.ID()
	case aws.ToString(c.RuntimeId) != "":
		s.Stream = aws.ToString(c.RuntimeId)
	default:
		return nil
	}
	return s
}

func also(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func orUnknown(status string) string {
	if status == "" {
		return "not yet described"
	}
	return status
}
