package entrytest

import (
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// LifecycleEvents are the events of a CANARY rollout of service api whose
// CloudWatch alarm fires during the canary bake, as pkg/rollout sends
// them, for the entrypoints' golden files: a stage, a traffic shift, the
// bake time left, a lifecycle hook that fails, the alarm in ALARM and the
// outcome. The hook's target carries what a host could read as a
// command or a log section ("::", "##[", "--- "): each entrypoint shows
// it as text.
func LifecycleEvents() []event.Event {
	const sd = "arn:aws:ecs:eu-west-1:123456789012:service-deployment/main/api/sd-1"
	pct := func(p float64) *float64 { return &p }
	base := event.Lifecycle{ServiceDeployment: sd, Strategy: "CANARY", Stage: "PRODUCTION_TRAFFIC_SHIFT", ProductionTraffic: pct(10)}
	with := func(change func(*event.Lifecycle)) *event.Lifecycle {
		l := base
		change(&l)
		return &l
	}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	evs := []event.Event{
		{Kind: event.Stage, Lifecycle: with(func(*event.Lifecycle) {}),
			Message: "CANARY deployment ecs-svc/1111: stage PRODUCTION_TRAFFIC_SHIFT (production traffic moves to the new revision)"},
		{Kind: event.Traffic, Lifecycle: with(func(*event.Lifecycle) {}), Message: "the new revision serves 10% of production traffic"},
		{Kind: event.Bake, Lifecycle: with(func(l *event.Lifecycle) {
			l.Bake, l.BakeRemaining, l.BakeTotal = "canary", 10*time.Minute, 10*time.Minute
		}),
			Message: "the canary bake at 10% of production traffic: 10m left of 10m"},
		{Kind: event.Hook, Lifecycle: with(func(l *event.Lifecycle) {
			l.HookID, l.HookTarget, l.HookType, l.HookStatus = "hook-1", "arn:aws:lambda:eu-west-1:123456789012:function:smoke::error::##[x]--- ", "AWS_LAMBDA", "FAILED"
		}),
			Message: "lifecycle hook arn:aws:lambda:eu-west-1:123456789012:function:smoke::error::##[x]--- FAILED at stage PRODUCTION_TRAFFIC_SHIFT: ECS rolls the deployment back"},
		{Kind: event.Bake, Lifecycle: with(func(l *event.Lifecycle) {
			l.Bake, l.BakeRemaining, l.BakeTotal = "canary", 9*time.Minute, 10*time.Minute
		}),
			Message: "the canary bake at 10% of production traffic: 9m left of 10m"},
		{Kind: event.Alarm, Lifecycle: with(func(l *event.Lifecycle) { l.Alarms = []string{"api-5xx"} }), Message: "CloudWatch alarm in ALARM: api-5xx"},
		{Kind: event.ServiceDone, Outcome: "failed",
			Message: "api failed after 1m30s: deployment ecs-svc/1111: CloudWatch alarm api-5xx went into ALARM during the canary bake at 10% of production traffic (stage PRODUCTION_TRAFFIC_SHIFT); ECS rolls it back to task definition api:1"},
	}
	for i := range evs {
		evs[i].Service, evs[i].Cluster, evs[i].Environment = "api", "main", "stage"
		evs[i].Time = t0.Add(time.Duration(i*30) * time.Second)
	}
	return evs
}
