// Package event defines what the library reports while it works. The library
// never prints: it sends typed events to a Sink passed in by the caller, and
// each entrypoint (CLI, GitHub Action, Buildkite plugin) renders them its own
// way.
package event

import (
	"sync"
	"time"
)

// Kind names what happened.
type Kind string

// The kinds of event, in the order a deployment usually emits them.
const (
	// Plan: what a deployment will do (one event per image and service).
	Plan Kind = "plan"
	// TaskStarted: ECS started a one-off task: an environment's pre_deploy
	// task (Task names it), before any tag moves. The Task kinds' messages
	// leave out the task's id: renderers show it.
	TaskStarted Kind = "task-started"
	// TaskProgress: a one-off task changed state (PENDING, RUNNING, ...).
	TaskProgress Kind = "task-progress"
	// TaskDone: a one-off task ended (Outcome says how; Message names the
	// containers, exit codes and ECS's stopped reason).
	TaskDone Kind = "task-done"
	// TaskLog: one line a one-off task's container wrote to CloudWatch
	// Logs, from the tail shown when the task failed.
	TaskLog Kind = "task-log"
	// TagMoved: a floating tag now points at another digest (or already did).
	TagMoved Kind = "tag-moved"
	// ServiceUpdated: an ECS service was asked to redeploy.
	ServiceUpdated Kind = "service-updated"
	// Progress: a service's rollout changed state while waiting.
	Progress Kind = "progress"
	// Heartbeat: buoy is still waiting for ECS. It comes at regular
	// intervals while a wait lasts, whether or not anything changed;
	// Waiting says how long and how far, Message says it in one line.
	Heartbeat Kind = "heartbeat"
	// ServiceDone: a service's rollout ended (Outcome says how).
	ServiceDone Kind = "service-done"
	// Warning: something a person should look at; the work goes on.
	Warning Kind = "warning"
	// Retry: an AWS call failed and is about to be tried again (Message
	// says which call, which attempt and why); the work goes on.
	Retry Kind = "retry"
	// Failed: a step failed; Message says why and what to do.
	Failed Kind = "failed"
	// Finished: the whole operation ended (Outcome says how).
	Finished Kind = "finished"
)

// The kinds of event that follow the lifecycle of an ECS service
// deployment while waiting (every strategy: ROLLING, BLUE_GREEN, LINEAR,
// CANARY), each with its Lifecycle. They come only where ECS's service
// deployments API is allowed.
const (
	// Stage: the service deployment entered a lifecycle stage
	// (Lifecycle.Stage, e.g. PRODUCTION_TRAFFIC_SHIFT).
	Stage Kind = "stage"
	// Traffic: the share of traffic the new revision takes changed
	// (Lifecycle.ProductionTraffic, Lifecycle.TestTraffic).
	Traffic Kind = "traffic"
	// Bake: a bake time runs (Lifecycle.Bake says which; BakeRemaining
	// of BakeTotal is left). Sent when it starts, then about once a
	// minute.
	Bake Kind = "bake"
	// Hook: ECS invoked a lifecycle hook, or its status changed
	// (Lifecycle.HookTarget, HookStatus).
	Hook Kind = "hook"
	// Alarm: CloudWatch alarms of the deployment are in ALARM
	// (Lifecycle.Alarms); ECS fails the deployment, and rolls it back
	// when so configured.
	Alarm Kind = "alarm"
)

// IsLifecycle reports whether k is one of the lifecycle kinds (Stage,
// Traffic, Bake, Hook, Alarm).
func IsLifecycle(k Kind) bool {
	switch k {
	case Stage, Traffic, Bake, Hook, Alarm:
		return true
	}
	return false
}

// Lifecycle is where an ECS service deployment is, as ECS reports it
// (DescribeServiceDeployments). Fields that do not apply are empty.
type Lifecycle struct {
	// ServiceDeployment is the service deployment's ARN.
	ServiceDeployment string
	// Strategy is the deployment strategy: ROLLING, BLUE_GREEN, LINEAR
	// or CANARY.
	Strategy string
	// Stage is the lifecycle stage, e.g. BAKE_TIME.
	Stage string
	// ProductionTraffic and TestTraffic are the percentages (0 to 100)
	// of production and test traffic sent to the new revision; nil when
	// ECS does not say.
	ProductionTraffic *float64
	TestTraffic       *float64
	// Bake names the bake time that runs: "canary" (CANARY, before the
	// rest of the traffic shifts), "step" (LINEAR, between steps) or
	// "deployment" (after all traffic shifted, before the old revision
	// goes). BakeRemaining of BakeTotal is left, by the waiter's clock.
	Bake          string
	BakeRemaining time.Duration
	BakeTotal     time.Duration
	// HookID, HookTarget (a Lambda function's ARN; empty for a PAUSE
	// hook), HookType (AWS_LAMBDA or PAUSE) and HookStatus
	// (IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, AWAITING_ACTION)
	// describe a lifecycle hook.
	HookID     string
	HookTarget string
	HookType   string
	HookStatus string
	// Alarms are the CloudWatch alarms in ALARM.
	Alarms []string
}

// Event is one thing that happened. Fields that do not apply are empty.
type Event struct {
	Kind Kind
	Time time.Time

	Project     string
	Environment string
	Release     string // release id
	Deployment  string // deployment id
	Image       string // image id from the manifest
	Service     string // ECS service name
	Cluster     string // ECS cluster name or ARN
	Task        string // a one-off task: its id in the manifest's pre_deploy

	// From and To are what changed: digests for a tag move, task
	// definitions for a service update.
	From string
	To   string

	// Outcome is set on ServiceDone and Finished, e.g. "succeeded".
	Outcome string

	// Message is one line a person can read.
	Message string

	// Lifecycle is set on the lifecycle kinds (Stage, Traffic, Bake,
	// Hook, Alarm).
	Lifecycle *Lifecycle

	// File, Line and Column point at the manifest when it is at fault.
	File   string
	Line   int
	Column int

	// Waiting is set on Heartbeat events.
	Waiting *Waiting
}

// Waiting is where a wait for ECS stands, as a Heartbeat reports it.
type Waiting struct {
	// Elapsed is how long the wait has lasted, by the waiter's clock.
	Elapsed time.Duration
	// Done counts the services whose rollout has ended (either way),
	// Pending those still rolling out.
	Done, Pending int
	// LastEvent is the newest thing ECS said about a pending service's
	// rollout: its newest service event since our deployment started,
	// else our deployment's rollout state reason; "" when ECS has said
	// nothing yet.
	LastEvent string
	// LastEventService is the service LastEvent is about.
	LastEventService string
	// LastEventAt is when ECS logged LastEvent; zero for a rollout state
	// reason, which carries no time.
	LastEventAt time.Time
}

// Sink receives events. Implementations must be safe for concurrent use:
// the library emits from several goroutines at once.
type Sink interface {
	Emit(Event)
}

// Func adapts a function to a Sink. The function must be safe for
// concurrent use.
type Func func(Event)

// Emit calls f(e).
func (f Func) Emit(e Event) { f(e) }

// Discard is a Sink that drops every event.
type Discard struct{}

// Emit drops e.
func (Discard) Emit(Event) {}

// Recorder is a Sink that keeps every event, for tests and for callers that
// render after the fact. The zero value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Emit keeps e.
func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns a copy of the events kept so far, in order.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// OfKind returns the events kept so far of kind k, in order.
func (r *Recorder) OfKind(k Kind) []Event {
	var out []Event
	for _, e := range r.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
