package rollout

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Outcome says how the rollout of one service ended.
type Outcome string

// The outcomes of a rollout. Only Succeeded is a success.
const (
	Succeeded Outcome = "succeeded"
	// RolledBack: ECS (its circuit breaker or an alarm) rolled our
	// deployment back.
	RolledBack Outcome = "rolled-back"
	// Failed: ECS marked our deployment as failed or stopped it.
	Failed Outcome = "failed"
	// Replaced: another deployment of the service replaced ours.
	Replaced Outcome = "replaced"
	// Vanished: the service or our deployment disappeared.
	Vanished Outcome = "vanished"
	// TasksStopped: tasks of our deployment failed to start or exited.
	TasksStopped Outcome = "tasks-stopped"
	// Unplaceable: ECS says it cannot place the tasks.
	Unplaceable Outcome = "unplaceable"
	// TimedOut: the wait ran out of time.
	TimedOut Outcome = "timed-out"
	// Canceled: the caller's context ended the wait.
	Canceled Outcome = "canceled"
)

// verdict is what one observation of a service says about our deployment.
type verdict struct {
	done      bool
	outcome   Outcome
	diagnosis string
	state     string // a one-line summary of where the rollout is
	// explain asks for the stopped tasks of our deployment to be read.
	explain bool
}

func fail(o Outcome, explain bool, format string, args ...any) verdict {
	return verdict{done: true, outcome: o, explain: explain, diagnosis: fmt.Sprintf(format, args...)}
}

// rules are what judge needs besides the observation: how many failed
// tasks end the wait, and whether success waits for older deployments
// to drain (WaitInput.SkipDrain).
type rules struct {
	threshold int32
	skipDrain bool
}

// judge applies the success and fail-fast rules to one observation of the
// service (and of our service deployment, with what its lifecycle showed
// so far, when that API is available).
func judge(h Handle, s types.Service, sd *types.ServiceDeployment, lc *lifecycle, rl rules) verdict {
	if st := aws.ToString(s.Status); st == "INACTIVE" || st == "DRAINING" {
		return fail(Vanished, false, "the service is %s: it was deleted while deploying", st)
	}
	if h.RollingBack {
		return judgeRollback(h, s, sd)
	}
	ours := deploymentByID(s.Deployments, h.DeploymentID)
	prim := primary(s.Deployments)
	if v, ok := judgeServiceDeployment(h, sd, prim, lc); ok {
		v.explain = v.explain && ours != nil && ours.FailedTasks > 0
		return v
	}
	if ours == nil {
		return judgeGone(h, prim)
	}
	state := fmt.Sprintf("deployment %s %s %s: %d/%d running, %d pending, %d failed tasks",
		h.DeploymentID, aws.ToString(ours.Status), ours.RolloutState, ours.RunningCount, ours.DesiredCount, ours.PendingCount, ours.FailedTasks)
	v := judgeOurs(h, s, ours, prim, sd, rl)
	v.state = state
	return v
}

func judgeServiceDeployment(h Handle, sd *types.ServiceDeployment, prim *types.Deployment, lc *lifecycle) (verdict, bool) {
	if sd == nil {
		return verdict{}, false
	}
	why := orNone(aws.ToString(sd.StatusReason))
	if cause := lc.cause(sd); cause != "" {
		why = cause
		if r := aws.ToString(sd.StatusReason); r != "" {
			why += "; ECS says: " + r
		}
	}
	back := shortARN(h.PreviousTaskDefinition)
	switch sd.Status {
	case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress,
		types.ServiceDeploymentStatusRollbackSuccessful:
		return fail(RolledBack, true, "ECS rolled back deployment %s (%s) to task definition %s: %s",
			h.DeploymentID, sd.Status, back, why), true
	case types.ServiceDeploymentStatusRollbackFailed:
		return fail(Failed, true, "deployment %s failed and so did ECS's rollback (%s): the service may run neither version, look at it now", h.DeploymentID, why), true
	case types.ServiceDeploymentStatusStopped, types.ServiceDeploymentStatusStopRequested:
		if prim != nil && aws.ToString(prim.Id) != h.DeploymentID && aws.ToString(prim.Id) != h.PreviousDeploymentID {
			return replaced(h, prim), true
		}
		return fail(Failed, true, "ECS stopped deployment %s: %s", h.DeploymentID, why), true
	}
	if !forward(sd.Status) {
		return verdict{}, false
	}
	// ECS has not acted yet on what fails the deployment: say so now.
	if alarms := triggeredAlarms(sd); len(alarms) > 0 {
		if alarmsRollBack(sd) {
			return fail(RolledBack, false, "deployment %s: %s; ECS rolls it back to task definition %s", h.DeploymentID, lc.cause(sd), back), true
		}
		return fail(Failed, false, "deployment %s: %s; ECS fails the deployment (its alarms do not roll back)", h.DeploymentID, lc.cause(sd)), true
	}
	for _, hd := range sd.LifecycleHookDetails {
		if hookFailed(hd) {
			return fail(RolledBack, false, "deployment %s: %s; ECS rolls it back to task definition %s", h.DeploymentID, lc.cause(sd), back), true
		}
	}
	return verdict{}, false
}

// judgeRollback follows ECS rolling our deployment back
// (StopServiceDeployment with stopType ROLLBACK): done when the service
// deployment is ROLLBACK_SUCCESSFUL or, without that API, when the
// service runs a completed deployment of what ran before.
func judgeRollback(h Handle, s types.Service, sd *types.ServiceDeployment) verdict {
	back := shortARN(h.PreviousTaskDefinition)
	if sd != nil {
		reason := orNone(aws.ToString(sd.StatusReason))
		switch sd.Status {
		case types.ServiceDeploymentStatusRollbackSuccessful:
			return verdict{done: true, outcome: Succeeded, diagnosis: fmt.Sprintf("ECS rolled deployment %s back (ROLLBACK_SUCCESSFUL): the service runs task definition %s again", h.DeploymentID, back)}
		case types.ServiceDeploymentStatusRollbackFailed:
			return fail(Failed, false, "ECS could not roll deployment %s back (ROLLBACK_FAILED): %s; the service may run neither version, look at it now", h.DeploymentID, reason)
		case types.ServiceDeploymentStatusSuccessful:
			return fail(Failed, false, "deployment %s completed before ECS could roll it back: the service runs its task definition %s", h.DeploymentID, shortARN(h.TaskDefinition))
		case types.ServiceDeploymentStatusStopped:
			return fail(Failed, false, "ECS stopped deployment %s without rolling it back: %s", h.DeploymentID, reason)
		}
		state := fmt.Sprintf("ECS rolls deployment %s back to task definition %s: %s", h.DeploymentID, back, sd.Status)
		if sd.LifecycleStage != "" {
			state += ", stage " + string(sd.LifecycleStage)
		}
		return verdict{state: state}
	}
	prim := primary(s.Deployments)
	if prim == nil {
		return verdict{state: fmt.Sprintf("ECS rolls deployment %s back: the service has no PRIMARY deployment yet", h.DeploymentID)}
	}
	state := fmt.Sprintf("ECS rolls deployment %s back: deployment %s of task definition %s %s, %d/%d running",
		h.DeploymentID, aws.ToString(prim.Id), shortARN(aws.ToString(prim.TaskDefinition)), prim.RolloutState, prim.RunningCount, prim.DesiredCount)
	if aws.ToString(prim.Id) != h.DeploymentID && aws.ToString(prim.TaskDefinition) == h.PreviousTaskDefinition &&
		prim.RolloutState == types.DeploymentRolloutStateCompleted && s.RunningCount == s.DesiredCount {
		return verdict{done: true, outcome: Succeeded, state: state,
			diagnosis: fmt.Sprintf("ECS rolled deployment %s back: deployment %s runs task definition %s again", h.DeploymentID, aws.ToString(prim.Id), back)}
	}
	return verdict{state: state}
}

func judgeGone(h Handle, prim *types.Deployment) verdict {
	if prim == nil {
		return fail(Vanished, false, "deployment %s is gone and the service has no PRIMARY deployment", h.DeploymentID)
	}
	ptd := aws.ToString(prim.TaskDefinition)
	if h.PreviousTaskDefinition != "" && ptd == h.PreviousTaskDefinition && ptd != h.TaskDefinition {
		return fail(RolledBack, false, "deployment %s is gone and the service runs the previous task definition %s again (deployment %s): ECS rolled it back; see the service's events",
			h.DeploymentID, shortARN(ptd), aws.ToString(prim.Id))
	}
	return fail(Vanished, false, "deployment %s is gone: the service now runs deployment %s (task definition %s); another deploy replaced it, or ECS rolled it back; see the service's events",
		h.DeploymentID, aws.ToString(prim.Id), shortARN(ptd))
}

func replaced(h Handle, prim *types.Deployment) verdict {
	return fail(Replaced, false, "deployment %s was replaced by deployment %s (task definition %s)%s: another deploy of this service ran at the same time; let one pipeline deploy an environment at a time",
		h.DeploymentID, aws.ToString(prim.Id), shortARN(aws.ToString(prim.TaskDefinition)), at(prim.CreatedAt))
}

func judgeOurs(h Handle, s types.Service, ours, prim *types.Deployment, sd *types.ServiceDeployment, rl rules) verdict {
	primID := ""
	if prim != nil {
		primID = aws.ToString(prim.Id)
	}
	if ours.RolloutState == types.DeploymentRolloutStateFailed {
		reason := orNone(aws.ToString(ours.RolloutStateReason))
		if prim != nil && primID != h.DeploymentID {
			return fail(RolledBack, true, "the circuit breaker stopped deployment %s and ECS is rolling back to deployment %s (task definition %s): %s",
				h.DeploymentID, primID, shortARN(aws.ToString(prim.TaskDefinition)), reason)
		}
		return fail(Failed, true, "ECS marked deployment %s as failed: %s", h.DeploymentID, reason)
	}
	if aws.ToString(ours.Status) != "PRIMARY" {
		if prim != nil {
			return replaced(h, prim)
		}
		return fail(Vanished, false, "deployment %s is %s and the service has no PRIMARY deployment", h.DeploymentID, aws.ToString(ours.Status))
	}
	if ours.FailedTasks >= rl.threshold {
		return fail(TasksStopped, true, "%d tasks of deployment %s failed to start or stopped", ours.FailedTasks, h.DeploymentID)
	}
	if msg := unplaceable(s.Events, h.StartedAt); msg != "" {
		return fail(Unplaceable, false, "ECS cannot place the new tasks: %q; add capacity or lower the task's CPU, memory or placement constraints", msg)
	}
	if h.TaskDefinition != "" && aws.ToString(ours.TaskDefinition) != h.TaskDefinition {
		return verdict{}
	}
	if rl.skipDrain && ours.RunningCount == ours.DesiredCount {
		return verdict{done: true, outcome: Succeeded, diagnosis: fmt.Sprintf("deployment %s runs %d/%d tasks of task definition %s; older deployments were not waited for (skip drain)",
			h.DeploymentID, ours.RunningCount, ours.DesiredCount, shortARN(aws.ToString(ours.TaskDefinition)))}
	}
	running := ours.RunningCount == ours.DesiredCount && s.RunningCount == s.DesiredCount
	if !running {
		return verdict{}
	}
	switch {
	case sd != nil && sd.Status == types.ServiceDeploymentStatusSuccessful,
		sd == nil && ours.RolloutState == types.DeploymentRolloutStateCompleted,
		sd == nil && ours.RolloutState == "" && len(s.Deployments) == 1:
		return verdict{done: true, outcome: Succeeded, diagnosis: fmt.Sprintf("deployment %s completed: %d/%d tasks running task definition %s",
			h.DeploymentID, ours.RunningCount, ours.DesiredCount, shortARN(aws.ToString(ours.TaskDefinition)))}
	}
	return verdict{}
}

// unplaceable returns the newest service event after since that says ECS
// cannot place tasks. Events only have text, so this reads it.
func unplaceable(evs []types.ServiceEvent, since time.Time) string {
	for _, e := range evs { // newest first
		if e.CreatedAt == nil || !e.CreatedAt.After(since) {
			continue
		}
		if strings.Contains(strings.ToLower(aws.ToString(e.Message)), "unable to place") {
			return aws.ToString(e.Message)
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "ECS gave no reason"
	}
	return s
}

func at(t *time.Time) string {
	if t == nil {
		return ""
	}
	return " at " + t.UTC().Format(time.RFC3339)
}

// shortARN turns arn:aws:ecs:...:task-definition/app:12 into app:12.
func shortARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
