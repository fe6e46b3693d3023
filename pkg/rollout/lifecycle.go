package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// The bake times ECS documents as defaults when a CANARY or LINEAR
// deployment configuration does not say.
const (
	defaultCanaryBake = 10 * time.Minute
	defaultStepBake   = 6 * time.Minute
)

// lifecycle is what Wait last reported of the lifecycle of one service
// deployment, so that it reports only what changed, and what it
// remembers to name the cause of a failure when ECS no longer shows it.
type lifecycle struct {
	stage      types.ServiceDeploymentLifecycleStage
	prod, test *float64
	bake       bakeRun
	hooks      map[string]types.DeploymentLifecycleHookStatus // by hook id
	alarms     []string                                       // in ALARM, as last reported

	// failedHook names the last hook seen FAILED (or TIMED_OUT with a
	// rollback), with its stage; "" if none.
	failedHook string
	// forwardStage and forwardBake are where the deployment was at the
	// last poll that saw it rolling forward (PENDING or IN_PROGRESS).
	forwardStage types.ServiceDeploymentLifecycleStage
	forwardBake  string
}

// bakeRun is a bake time Wait follows.
type bakeRun struct {
	key   string // which bake, and at what share of traffic; "" if none runs
	what  string // e.g. "the canary bake at 10% of production traffic"
	kind  string // event.Lifecycle.Bake
	start time.Time
	total time.Duration
	said  time.Duration // remaining, as last reported
}

// follow reports what changed in the lifecycle of w's service deployment
// since the last poll: its stage, its share of traffic, the bake time
// left, lifecycle hooks and alarms in ALARM.
func (r *Rollout) follow(w *watch) {
	sd := w.sd
	if sd == nil {
		return
	}
	lc := &w.lc
	now := r.clock.Now()
	base := event.Lifecycle{ServiceDeployment: aws.ToString(sd.ServiceDeploymentArn), Strategy: string(strategyOf(sd)),
		Stage: string(sd.LifecycleStage)}
	if t := sd.TargetServiceRevision; t != nil {
		base.ProductionTraffic, base.TestTraffic = t.RequestedProductionTrafficWeight, t.RequestedTestTrafficWeight
	}
	emit := func(k event.Kind, l event.Lifecycle, msg string) {
		r.emit(event.Event{Kind: k, Service: w.h.Service, Cluster: w.h.Cluster, Lifecycle: &l, Message: msg})
	}
	if sd.LifecycleStage != "" && sd.LifecycleStage != lc.stage {
		lc.stage = sd.LifecycleStage
		msg := fmt.Sprintf("%s deployment %s: stage %s (%s)", base.Strategy, w.h.DeploymentID, sd.LifecycleStage, stageMeaning(sd.LifecycleStage))
		if strings.HasPrefix(string(sd.Status), "ROLLBACK_") {
			// The stages' meanings are those of rolling forward: say
			// where the rollback is instead.
			msg = fmt.Sprintf("%s deployment %s, %s: stage %s", base.Strategy, w.h.DeploymentID, sd.Status, sd.LifecycleStage)
		}
		emit(event.Stage, base, msg)
	}
	if (base.ProductionTraffic != nil || base.TestTraffic != nil) && (changed(lc.prod, base.ProductionTraffic) || changed(lc.test, base.TestTraffic)) {
		lc.prod, lc.test = base.ProductionTraffic, base.TestTraffic
		emit(event.Traffic, base, trafficLine(base.ProductionTraffic, base.TestTraffic))
	}
	r.followHooks(sd, lc, base, emit)
	r.followBake(sd, lc, base, now, emit)
	if names := triggeredAlarms(sd); len(names) > 0 && !slices.Equal(names, lc.alarms) {
		lc.alarms = names
		l := base
		l.Alarms = names
		emit(event.Alarm, l, fmt.Sprintf("CloudWatch %s in ALARM: %s", plural(len(names), "alarm", "alarms"), strings.Join(names, ", ")))
	}
	if forward(sd.Status) {
		lc.forwardStage, lc.forwardBake = sd.LifecycleStage, ""
		if lc.bake.key != "" {
			lc.forwardBake = lc.bake.what
		}
	}
}

// followHooks reports each lifecycle hook ECS invoked and each change of
// its status, and remembers a hook that failed.
func (r *Rollout) followHooks(sd *types.ServiceDeployment, lc *lifecycle, base event.Lifecycle, emit func(event.Kind, event.Lifecycle, string)) {
	for _, hd := range sd.LifecycleHookDetails {
		id := cmp.Or(aws.ToString(hd.HookId), aws.ToString(hd.TargetArn))
		if lc.hooks == nil {
			lc.hooks = map[string]types.DeploymentLifecycleHookStatus{}
		}
		if prev, ok := lc.hooks[id]; ok && prev == hd.Status {
			continue
		}
		lc.hooks[id] = hd.Status
		name := hookName(hd)
		msg := fmt.Sprintf("lifecycle %s %s at stage %s", name, hd.Status, sd.LifecycleStage)
		switch {
		case hd.Status == types.DeploymentLifecycleHookStatusAwaitingAction:
			msg += fmt.Sprintf(": continue or roll back with ContinueServiceDeployment (hook id %s)", aws.ToString(hd.HookId))
			if hd.ExpiresAt != nil {
				msg += " by " + hd.ExpiresAt.UTC().Format(time.RFC3339)
			}
			switch hd.TimeoutAction {
			case types.DeploymentLifecycleHookActionContinue:
				msg += ", else ECS goes on"
			case types.DeploymentLifecycleHookActionRollback:
				msg += ", else ECS rolls back"
			}
		case hookFailed(hd):
			lc.failedHook = fmt.Sprintf("lifecycle %s %s at stage %s", name, hd.Status, sd.LifecycleStage)
			msg += ": ECS rolls the deployment back"
		}
		l := base
		l.HookID, l.HookTarget, l.HookType, l.HookStatus = aws.ToString(hd.HookId), aws.ToString(hd.TargetArn), string(hd.TargetType), string(hd.Status)
		emit(event.Hook, l, msg)
	}
}

// followBake reports a bake time when it starts and then as each minute
// of it passes, by the waiter's clock: it starts at the first poll that
// shows it.
func (r *Rollout) followBake(sd *types.ServiceDeployment, lc *lifecycle, base event.Lifecycle, now time.Time, emit func(event.Kind, event.Lifecycle, string)) {
	kind, what, total, ok := bakeOf(sd, base.ProductionTraffic)
	if !ok {
		lc.bake = bakeRun{}
		return
	}
	key := kind + " " + what
	b := &lc.bake
	if b.key != key {
		*b = bakeRun{key: key, what: what, kind: kind, start: now, total: total, said: -1}
	}
	left := max(total-now.Sub(b.start), 0)
	if b.said >= 0 && b.said-left < time.Minute && (left > 0 || b.said == 0) {
		return
	}
	b.said = left
	l := base
	l.Bake, l.BakeRemaining, l.BakeTotal = kind, left, total
	msg := fmt.Sprintf("%s: %s left of %s", what, shortDuration(left), shortDuration(total))
	if left == 0 {
		msg = fmt.Sprintf("%s: its %s are over; waiting for ECS to go on", what, shortDuration(total))
	}
	emit(event.Bake, l, msg)
}

// bakeOf says which bake time runs now, if any: the deployment's (stage
// BAKE_TIME), a CANARY's canary bake or a LINEAR's bake between steps
// (the new revision takes part of the production traffic).
func bakeOf(sd *types.ServiceDeployment, prod *float64) (kind, what string, total time.Duration, ok bool) {
	if !forward(sd.Status) {
		return "", "", 0, false
	}
	cfg := sd.DeploymentConfiguration
	if cfg == nil {
		cfg = &types.DeploymentConfiguration{}
	}
	partial := prod != nil && *prod > 0 && *prod < 100
	switch {
	case sd.LifecycleStage == types.ServiceDeploymentLifecycleStageBakeTime && cfg.BakeTimeInMinutes != nil:
		return "deployment", "the deployment's bake time", time.Duration(*cfg.BakeTimeInMinutes) * time.Minute, true
	case sd.LifecycleStage != types.ServiceDeploymentLifecycleStageProductionTrafficShift || !partial:
		return "", "", 0, false
	case strategyOf(sd) == types.DeploymentStrategyCanary:
		total = defaultCanaryBake
		if c := cfg.CanaryConfiguration; c != nil && c.CanaryBakeTimeInMinutes != nil {
			total = time.Duration(*c.CanaryBakeTimeInMinutes) * time.Minute
		}
		return "canary", "the canary bake at " + percent(*prod) + " of production traffic", total, true
	case strategyOf(sd) == types.DeploymentStrategyLinear:
		total = defaultStepBake
		if c := cfg.LinearConfiguration; c != nil && c.StepBakeTimeInMinutes != nil {
			total = time.Duration(*c.StepBakeTimeInMinutes) * time.Minute
		}
		return "step", "the bake of the step at " + percent(*prod) + " of production traffic", total, true
	}
	return "", "", 0, false
}

// cause names in plain words what made ECS fail or roll back the
// deployment, as far as its lifecycle says: alarms in ALARM, a failed
// lifecycle hook, and when, by stage and bake time. "" when it says
// nothing.
func (lc *lifecycle) cause(sd *types.ServiceDeployment) string {
	var parts []string
	alarms := lc.alarms
	if sd != nil {
		if names := triggeredAlarms(sd); len(names) > 0 {
			alarms = names
		}
	}
	if len(alarms) > 0 {
		parts = append(parts, fmt.Sprintf("CloudWatch %s %s went into ALARM", plural(len(alarms), "alarm", "alarms"), strings.Join(alarms, ", ")))
	}
	if lc.failedHook != "" {
		parts = append(parts, lc.failedHook)
	}
	when := ""
	switch {
	case lc.forwardBake != "":
		when = fmt.Sprintf("during %s (stage %s)", lc.forwardBake, lc.forwardStage)
	case lc.forwardStage != "":
		when = fmt.Sprintf("during stage %s", lc.forwardStage)
	}
	if len(parts) == 0 {
		return when
	}
	out := strings.Join(parts, "; ")
	if when != "" && len(alarms) > 0 {
		out += " " + when
	}
	return out
}

// triggeredAlarms returns the alarms ECS says are in ALARM: the triggered
// ones, or with none named while the alarms' status is TRIGGERED, all of
// the deployment's.
func triggeredAlarms(sd *types.ServiceDeployment) []string {
	a := sd.Alarms
	if a == nil {
		return nil
	}
	if len(a.TriggeredAlarmNames) > 0 {
		return a.TriggeredAlarmNames
	}
	if a.Status == types.ServiceDeploymentRollbackMonitorsStatusTriggered {
		return a.AlarmNames
	}
	return nil
}

// alarmsRollBack reports whether the deployment's configuration has ECS
// roll back when an alarm goes into ALARM.
func alarmsRollBack(sd *types.ServiceDeployment) bool {
	return sd.DeploymentConfiguration != nil && sd.DeploymentConfiguration.Alarms != nil && sd.DeploymentConfiguration.Alarms.Rollback
}

// hookFailed reports whether a hook failed in a way that makes ECS roll
// the deployment back: FAILED, or TIMED_OUT with the ROLLBACK action.
func hookFailed(hd types.DeploymentLifecycleHookDetail) bool {
	return hd.Status == types.DeploymentLifecycleHookStatusFailed ||
		(hd.Status == types.DeploymentLifecycleHookStatusTimedOut && hd.TimeoutAction != types.DeploymentLifecycleHookActionContinue)
}

// hookName names a hook: its target (a Lambda function's ARN), or a
// PAUSE hook by its id.
func hookName(hd types.DeploymentLifecycleHookDetail) string {
	if t := aws.ToString(hd.TargetArn); t != "" {
		return "hook " + t
	}
	return fmt.Sprintf("%s hook %s", cmp.Or(string(hd.TargetType), "PAUSE"), aws.ToString(hd.HookId))
}

// strategyOf returns the deployment's strategy, ROLLING when ECS does not
// say.
func strategyOf(sd *types.ServiceDeployment) types.DeploymentStrategy {
	if sd.DeploymentConfiguration != nil && sd.DeploymentConfiguration.Strategy != "" {
		return sd.DeploymentConfiguration.Strategy
	}
	return types.DeploymentStrategyRolling
}

// forward reports whether a service deployment still rolls forward.
func forward(s types.ServiceDeploymentStatus) bool {
	return s == types.ServiceDeploymentStatusPending || s == types.ServiceDeploymentStatusInProgress
}

// stageMeaning says what a lifecycle stage is, as ECS documents it.
func stageMeaning(s types.ServiceDeploymentLifecycleStage) string {
	switch s {
	case types.ServiceDeploymentLifecycleStageReconcileService:
		return "reconciling the service's active revisions"
	case types.ServiceDeploymentLifecycleStagePreScaleUp:
		return "the new revision has not started"
	case types.ServiceDeploymentLifecycleStageScaleUp:
		return "the new revision starts its tasks, serving no traffic"
	case types.ServiceDeploymentLifecycleStagePostScaleUp:
		return "the new revision runs, serving no traffic"
	case types.ServiceDeploymentLifecycleStageTestTrafficShift:
		return "test traffic moves to the new revision"
	case types.ServiceDeploymentLifecycleStagePostTestTrafficShift:
		return "the new revision serves all test traffic"
	case "PRE_PRODUCTION_TRAFFIC_SHIFT": // a hook stage ECS may also report
		return "before production traffic moves"
	case types.ServiceDeploymentLifecycleStageProductionTrafficShift:
		return "production traffic moves to the new revision"
	case types.ServiceDeploymentLifecycleStagePostProductionTrafficShift:
		return "the new revision serves all production traffic"
	case types.ServiceDeploymentLifecycleStageBakeTime:
		return "both revisions run while the new one bakes"
	case types.ServiceDeploymentLifecycleStageCleanUp:
		return "the old revision scales down"
	}
	return "a stage buoy does not know"
}

func trafficLine(prod, test *float64) string {
	var parts []string
	if prod != nil {
		parts = append(parts, percent(*prod)+" of production traffic")
	}
	if test != nil {
		parts = append(parts, percent(*test)+" of test traffic")
	}
	return "the new revision serves " + strings.Join(parts, " and ")
}

func changed(a, b *float64) bool {
	if a == nil || b == nil {
		return a != b
	}
	return *a != *b
}

func percent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) + "%" }

// shortDuration writes d as a person reads it: 10m, 4m30s, 45s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return d.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
