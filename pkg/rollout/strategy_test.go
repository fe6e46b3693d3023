package rollout_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// These scenarios play ECS's deployment strategies (ROLLING, BLUE_GREEN,
// LINEAR, CANARY) on the scripted ECS server, with the service
// deployments API: each poll (every 30 s of the fake clock) sees the next
// frame, whose service deployment has a lifecycle stage, a share of
// traffic, hooks and alarms in ECS's JSON shapes.

const (
	revNew   = "arn:aws:ecs:eu-west-1:123456789012:service-revision/test-cluster/app/2"
	smokeARN = "arn:aws:lambda:eu-west-1:123456789012:function:smoke-test"
	alarm5xx = "app-5xx"
)

var (
	blueGreen = &ecsfake.DeploymentConfiguration{Strategy: "BLUE_GREEN", BakeTimeInMinutes: ecsfake.Minutes(2),
		LifecycleHooks: []ecsfake.DeploymentLifecycleHook{{HookTargetArn: smokeARN, TargetType: "AWS_LAMBDA", LifecycleStages: []string{"POST_TEST_TRAFFIC_SHIFT"}}}}
	linear = &ecsfake.DeploymentConfiguration{Strategy: "LINEAR", BakeTimeInMinutes: ecsfake.Minutes(1),
		LinearConfiguration: &ecsfake.LinearConfiguration{StepPercent: 25, StepBakeTimeInMinutes: 1}}
	linearNoRollback = &ecsfake.DeploymentConfiguration{Strategy: "LINEAR",
		LinearConfiguration: &ecsfake.LinearConfiguration{StepPercent: 25, StepBakeTimeInMinutes: 1},
		Alarms:              &ecsfake.DeploymentAlarms{AlarmNames: []string{alarm5xx}, Enable: true, Rollback: false}}
	canary = &ecsfake.DeploymentConfiguration{Strategy: "CANARY", BakeTimeInMinutes: ecsfake.Minutes(1),
		CanaryConfiguration: &ecsfake.CanaryConfiguration{CanaryPercent: 10, CanaryBakeTimeInMinutes: 2},
		Alarms:              &ecsfake.DeploymentAlarms{AlarmNames: []string{alarm5xx, "app-latency"}, Enable: true, Rollback: true}}
)

// weight is a traffic weight, or with a negative p none.
func weight(p float64) *float64 {
	if p < 0 {
		return nil
	}
	return ecsfake.Percent(p)
}

// stage is our deployment rolling out, its service deployment
// IN_PROGRESS at stage with prod and test percent of the traffic (none
// when negative).
func stage(cfg *ecsfake.DeploymentConfiguration, name string, prod, test float64) ecsfake.Frame {
	f := progress(1)
	f.Deployment = &ecsfake.ServiceDeployment{Status: "IN_PROGRESS", LifecycleStage: name, DeploymentConfiguration: cfg,
		TargetServiceRevision: &ecsfake.ServiceRevisionSummary{Arn: revNew, RequestedTaskCount: 2, RunningTaskCount: 1,
			RequestedProductionTrafficWeight: weight(prod), RequestedTestTrafficWeight: weight(test)},
		Alarms: &ecsfake.ServiceDeploymentAlarms{Status: "MONITORING"}}
	return f
}

// finished is our deployment completed: SUCCESSFUL, the new revision
// serving all traffic.
func finished(cfg *ecsfake.DeploymentConfiguration) ecsfake.Frame {
	f := completed()
	f.Deployment = &ecsfake.ServiceDeployment{Status: "SUCCESSFUL", LifecycleStage: "CLEAN_UP", DeploymentConfiguration: cfg,
		TargetServiceRevision: &ecsfake.ServiceRevisionSummary{Arn: revNew, RequestedTaskCount: 2, RunningTaskCount: 2,
			RequestedProductionTrafficWeight: weight(100), RequestedTestTrafficWeight: weight(100)}}
	return f
}

// edit returns f with its service deployment changed by change.
func edit(f ecsfake.Frame, change func(*ecsfake.ServiceDeployment)) ecsfake.Frame {
	d := *f.Deployment
	change(&d)
	f.Deployment = &d
	return f
}

func hook(f ecsfake.Frame, id, target, typ, status string) ecsfake.Frame {
	return edit(f, func(d *ecsfake.ServiceDeployment) {
		d.LifecycleHookDetails = []ecsfake.LifecycleHookDetail{{HookID: id, TargetArn: target, TargetType: typ, Status: status,
			ExpiresAt: ecsfake.At(time.Hour), TimeoutAction: "ROLLBACK"}}
	})
}

func alarmed(f ecsfake.Frame, status string) ecsfake.Frame {
	return edit(f, func(d *ecsfake.ServiceDeployment) {
		d.Status = status
		d.Alarms = &ecsfake.ServiceDeploymentAlarms{Status: "TRIGGERED", AlarmNames: []string{alarm5xx, "app-latency"}, TriggeredAlarmNames: []string{alarm5xx}}
		if status != "IN_PROGRESS" {
			d.StatusReason = "Service deployment rolled back because alarms were triggered."
		}
	})
}

func times(n int, f ecsfake.Frame) []ecsfake.Frame {
	out := make([]ecsfake.Frame, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func frames(parts ...any) []ecsfake.Frame {
	var out []ecsfake.Frame
	for _, p := range parts {
		switch v := p.(type) {
		case ecsfake.Frame:
			out = append(out, v)
		case []ecsfake.Frame:
			out = append(out, v...)
		}
	}
	return out
}

// lifeLine is a lifecycle event as the tables below write it.
func lifeLine(e event.Event) string {
	l := e.Lifecycle
	pct := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	switch e.Kind {
	case event.Stage:
		return "stage " + l.Stage
	case event.Traffic:
		return fmt.Sprintf("traffic %s/%s", pct(l.ProductionTraffic), pct(l.TestTraffic))
	case event.Bake:
		return fmt.Sprintf("bake %s %s of %s", l.Bake, l.BakeRemaining, l.BakeTotal)
	case event.Hook:
		return fmt.Sprintf("hook %s %s", cmp.Or(l.HookTarget, l.HookID), l.HookStatus)
	case event.Alarm:
		return "alarm " + strings.Join(l.Alarms, ",")
	}
	return string(e.Kind)
}

type strategyScenario struct {
	name      string
	frames    []ecsfake.Frame
	want      rollout.Outcome
	polls     int      // the poll that ends the wait
	diagnosis []string // substrings of the diagnosis
	lifecycle []string // the lifecycle events, as lifeLine writes them
	messages  []string // substrings of some lifecycle event's message
}

func strategyScenarios() []strategyScenario {
	bg := func(name string, prod, test float64) ecsfake.Frame { return stage(blueGreen, name, prod, test) }
	lin := func(name string, prod float64) ecsfake.Frame { return stage(linear, name, prod, -1) }
	can := func(name string, prod float64) ecsfake.Frame { return stage(canary, name, prod, -1) }
	canaryStart := frames(can("SCALE_UP", 0), times(2, can("PRODUCTION_TRAFFIC_SHIFT", 10)))
	return []strategyScenario{
		{name: "rolling, unchanged", frames: frames(inProgressSD(progress(0)), inProgressSD(progress(1)), completed()),
			want: rollout.Succeeded, polls: 3, diagnosis: []string{"completed", "app:2"}},
		{name: "blue/green completes", frames: frames(
			bg("PRE_SCALE_UP", 0, 0), bg("SCALE_UP", 0, 0),
			hook(bg("POST_SCALE_UP", 0, 0), "hook-pause", "", "PAUSE", "AWAITING_ACTION"),
			hook(bg("POST_SCALE_UP", 0, 0), "hook-pause", "", "PAUSE", "SUCCEEDED"),
			bg("TEST_TRAFFIC_SHIFT", 0, 100),
			hook(bg("POST_TEST_TRAFFIC_SHIFT", 0, 100), "hook-smoke", smokeARN, "AWS_LAMBDA", "IN_PROGRESS"),
			hook(bg("POST_TEST_TRAFFIC_SHIFT", 0, 100), "hook-smoke", smokeARN, "AWS_LAMBDA", "SUCCEEDED"),
			bg("PRODUCTION_TRAFFIC_SHIFT", 100, 100), bg("POST_PRODUCTION_TRAFFIC_SHIFT", 100, 100),
			times(5, bg("BAKE_TIME", 100, 100)), bg("CLEAN_UP", 100, 100), finished(blueGreen)),
			want: rollout.Succeeded, polls: 16, diagnosis: []string{"completed", "app:2"},
			lifecycle: []string{
				"stage PRE_SCALE_UP", "traffic 0/0", "stage SCALE_UP",
				"stage POST_SCALE_UP", "hook hook-pause AWAITING_ACTION", "hook hook-pause SUCCEEDED",
				"stage TEST_TRAFFIC_SHIFT", "traffic 0/100",
				"stage POST_TEST_TRAFFIC_SHIFT", "hook " + smokeARN + " IN_PROGRESS", "hook " + smokeARN + " SUCCEEDED",
				"stage PRODUCTION_TRAFFIC_SHIFT", "traffic 100/100", "stage POST_PRODUCTION_TRAFFIC_SHIFT",
				"stage BAKE_TIME", "bake deployment 2m0s of 2m0s", "bake deployment 1m0s of 2m0s", "bake deployment 0s of 2m0s",
				"stage CLEAN_UP",
			},
			messages: []string{"lifecycle PAUSE hook hook-pause AWAITING_ACTION at stage POST_SCALE_UP: continue or roll back with ContinueServiceDeployment (hook id hook-pause) by 2026-01-02T11:00:00Z, else ECS rolls back",
				"the deployment's bake time: 2m left of 2m", "the deployment's bake time: its 2m are over; waiting for ECS to go on"}},
		{name: "linear in 4 steps completes", frames: frames(
			lin("SCALE_UP", 0), times(3, lin("PRODUCTION_TRAFFIC_SHIFT", 25)), times(3, lin("PRODUCTION_TRAFFIC_SHIFT", 50)),
			times(3, lin("PRODUCTION_TRAFFIC_SHIFT", 75)), lin("PRODUCTION_TRAFFIC_SHIFT", 100),
			times(3, lin("BAKE_TIME", 100)), finished(linear)),
			want: rollout.Succeeded, polls: 15, diagnosis: []string{"completed"},
			lifecycle: []string{
				"stage SCALE_UP", "traffic 0/-",
				"stage PRODUCTION_TRAFFIC_SHIFT", "traffic 25/-", "bake step 1m0s of 1m0s", "bake step 0s of 1m0s",
				"traffic 50/-", "bake step 1m0s of 1m0s", "bake step 0s of 1m0s",
				"traffic 75/-", "bake step 1m0s of 1m0s", "bake step 0s of 1m0s",
				"traffic 100/-", "stage BAKE_TIME", "bake deployment 1m0s of 1m0s", "bake deployment 0s of 1m0s",
				"stage CLEAN_UP", "traffic 100/100",
			}},
		{name: "canary completes", frames: frames(
			can("SCALE_UP", 0), times(5, can("PRODUCTION_TRAFFIC_SHIFT", 10)), can("PRODUCTION_TRAFFIC_SHIFT", 100),
			times(3, can("BAKE_TIME", 100)), finished(canary)),
			want: rollout.Succeeded, polls: 11, diagnosis: []string{"completed"},
			lifecycle: []string{
				"stage SCALE_UP", "traffic 0/-",
				"stage PRODUCTION_TRAFFIC_SHIFT", "traffic 10/-", "bake canary 2m0s of 2m0s", "bake canary 1m0s of 2m0s", "bake canary 0s of 2m0s",
				"traffic 100/-", "stage BAKE_TIME", "bake deployment 1m0s of 1m0s", "bake deployment 0s of 1m0s",
				"stage CLEAN_UP", "traffic 100/100",
			}},
		// The alarm fires during the canary bake: the first poll that
		// shows it ends the wait, naming the alarm, whether ECS has begun
		// to roll back or not yet.
		{name: "canary alarm during the bake, before ECS acts", frames: frames(canaryStart, alarmed(can("PRODUCTION_TRAFFIC_SHIFT", 10), "IN_PROGRESS"),
			can("PRODUCTION_TRAFFIC_SHIFT", 10)),
			want: rollout.RolledBack, polls: 4,
			diagnosis: []string{"CloudWatch alarm app-5xx went into ALARM during the canary bake at 10% of production traffic (stage PRODUCTION_TRAFFIC_SHIFT)", "ECS rolls it back to task definition app:1"},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/-", "stage PRODUCTION_TRAFFIC_SHIFT", "traffic 10/-", "bake canary 2m0s of 2m0s",
				"bake canary 1m0s of 2m0s", "alarm app-5xx"}},
		{name: "canary alarm during the bake, ECS rolling back", frames: frames(canaryStart, times(2, can("PRODUCTION_TRAFFIC_SHIFT", 10)),
			alarmed(can("PRODUCTION_TRAFFIC_SHIFT", 0), "ROLLBACK_IN_PROGRESS")),
			want: rollout.RolledBack, polls: 6,
			diagnosis: []string{"ECS rolled back deployment ecs-svc/1111 (ROLLBACK_IN_PROGRESS) to task definition app:1",
				"CloudWatch alarm app-5xx went into ALARM during the canary bake at 10% of production traffic (stage PRODUCTION_TRAFFIC_SHIFT)",
				"ECS says: Service deployment rolled back because alarms were triggered."},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/-", "stage PRODUCTION_TRAFFIC_SHIFT", "traffic 10/-",
				"bake canary 2m0s of 2m0s", "bake canary 1m0s of 2m0s", "traffic 0/-", "alarm app-5xx"}},
		// Alarms that do not roll back: ECS fails the deployment, and
		// buoy says the alarms do not roll it back.
		{name: "linear alarm without rollback", frames: frames(lin("SCALE_UP", 0), lin("PRODUCTION_TRAFFIC_SHIFT", 25),
			alarmed(stage(linearNoRollback, "PRODUCTION_TRAFFIC_SHIFT", 25, -1), "IN_PROGRESS")),
			want: rollout.Failed, polls: 3,
			diagnosis: []string{"CloudWatch alarm app-5xx went into ALARM during the bake of the step at 25% of production traffic (stage PRODUCTION_TRAFFIC_SHIFT)",
				"ECS fails the deployment (its alarms do not roll back)"},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/-", "stage PRODUCTION_TRAFFIC_SHIFT", "traffic 25/-", "bake step 1m0s of 1m0s", "alarm app-5xx"}},
		{name: "blue/green lifecycle hook fails", frames: frames(
			bg("SCALE_UP", 0, 0), bg("TEST_TRAFFIC_SHIFT", 0, 100),
			hook(bg("POST_TEST_TRAFFIC_SHIFT", 0, 100), "hook-smoke", smokeARN, "AWS_LAMBDA", "IN_PROGRESS"),
			hook(bg("POST_TEST_TRAFFIC_SHIFT", 0, 100), "hook-smoke", smokeARN, "AWS_LAMBDA", "FAILED"),
			bg("TEST_TRAFFIC_SHIFT", 0, 0)),
			want: rollout.RolledBack, polls: 4,
			diagnosis: []string{"lifecycle hook " + smokeARN + " FAILED at stage POST_TEST_TRAFFIC_SHIFT", "ECS rolls it back to task definition app:1"},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/0", "stage TEST_TRAFFIC_SHIFT", "traffic 0/100", "stage POST_TEST_TRAFFIC_SHIFT",
				"hook " + smokeARN + " IN_PROGRESS", "hook " + smokeARN + " FAILED"}},
		{name: "blue/green hook failed, seen once ECS rolls back", frames: frames(
			bg("SCALE_UP", 0, 0), hook(bg("POST_SCALE_UP", 0, 0), "hook-smoke", smokeARN, "AWS_LAMBDA", "IN_PROGRESS"),
			edit(hook(bg("POST_SCALE_UP", 0, 0), "hook-smoke", smokeARN, "AWS_LAMBDA", "FAILED"), func(d *ecsfake.ServiceDeployment) {
				d.Status, d.StatusReason = "ROLLBACK_REQUESTED", "A lifecycle hook failed."
			})),
			want: rollout.RolledBack, polls: 3,
			diagnosis: []string{"(ROLLBACK_REQUESTED)", "lifecycle hook " + smokeARN + " FAILED at stage POST_SCALE_UP", "ECS says: A lifecycle hook failed."},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/0", "stage POST_SCALE_UP", "hook " + smokeARN + " IN_PROGRESS", "hook " + smokeARN + " FAILED"}},
		{name: "rollback fails at a stage", frames: frames(bg("SCALE_UP", 0, 0), bg("PRODUCTION_TRAFFIC_SHIFT", 100, 100),
			edit(bg("PRODUCTION_TRAFFIC_SHIFT", 0, 0), func(d *ecsfake.ServiceDeployment) {
				d.Status, d.StatusReason = "ROLLBACK_FAILED", "Tasks of the old revision failed to start."
			})),
			want: rollout.Failed, polls: 3,
			diagnosis: []string{"so did ECS's rollback", "during stage PRODUCTION_TRAFFIC_SHIFT", "ECS says: Tasks of the old revision failed to start."},
			lifecycle: []string{"stage SCALE_UP", "traffic 0/0", "stage PRODUCTION_TRAFFIC_SHIFT", "traffic 100/100", "traffic 0/0"}},
	}
}

// TestWaitFollowsEachStrategy plays each strategy to its end and checks
// the outcome, the poll that decided it, the diagnosis and every
// lifecycle event Wait reported on the way.
func TestWaitFollowsEachStrategy(t *testing.T) {
	t.Parallel()
	for _, sc := range strategyScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, ecsfake.Supported, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: sc.frames})
			var rec event.Recorder
			r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)), rollout.WithSink(&rec),
				rollout.WithPolling(rollout.Polling{Min: 30 * time.Second, Max: 30 * time.Second, Growth: 1, ThrottledMax: time.Minute}))
			h := redeployed(t, r, "app", rollout.RedeployInput{TaskDefinition: tdNew})
			res, err := r.Wait(context.Background(), rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: time.Hour})
			if len(res) != 1 {
				t.Fatalf("Wait returned %d results, want 1", len(res))
			}
			got := res[0]
			if got.Outcome != sc.want || got.Polls != sc.polls || srv.Polls("app") != sc.polls {
				t.Errorf("got %q after %d polls (server: %d), want %q after %d: %s", got.Outcome, got.Polls, srv.Polls("app"), sc.want, sc.polls, got.Diagnosis)
			}
			for _, want := range sc.diagnosis {
				if !strings.Contains(got.Diagnosis, want) {
					t.Errorf("diagnosis: got %q, want it to contain %q", got.Diagnosis, want)
				}
			}
			var se *rollout.ServiceError
			if errors.As(err, &se) != (sc.want != rollout.Succeeded) {
				t.Errorf("error: got %v, want a *ServiceError: %v", err, sc.want != rollout.Succeeded)
			}
			var lines []string
			for _, e := range rec.Events() {
				if event.IsLifecycle(e.Kind) {
					lines = append(lines, lifeLine(e))
					if e.Service != "app" || e.Lifecycle.ServiceDeployment != ecsfake.DeploymentARN("app") || e.Message == "" {
						t.Errorf("event %+v: want service app, its service deployment and a message", e)
					}
				}
			}
			if !slices.Equal(lines, sc.lifecycle) {
				t.Errorf("lifecycle events:\n got %q\nwant %q", lines, sc.lifecycle)
			}
			for _, want := range sc.messages {
				if !slices.ContainsFunc(rec.Events(), func(e event.Event) bool { return event.IsLifecycle(e.Kind) && strings.Contains(e.Message, want) }) {
					t.Errorf("no lifecycle event says %q", want)
				}
			}
		})
	}
}
