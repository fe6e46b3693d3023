package entrytest

import (
	"fmt"
	"time"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// StuckEvent is the last ECS event of StuckRollout's service: text from
// outside buoy, written to try each host's log commands (GitHub's
// "::name::" and "##[name]", Buildkite's "--- " on a line of its own).
const StuckEvent = "(service api) has started 1 tasks: (task 7f3c). ::warning::not from buoy ##[error]nor this\n--- nor this"

// StuckRollout returns the events of a rollout of two services, one done
// at once, the other stuck for 3 minutes until the wait times out, as
// pkg/rollout emits them from start on: a heartbeat every 30 s saying 1
// done, 1 pending and StuckEvent.
func StuckRollout(start time.Time) []event.Event {
	const cluster = "shop-stage"
	at := start.Add
	evs := []event.Event{
		{Kind: event.ServiceUpdated, Time: at(0), Service: "api", Cluster: cluster, Message: "api: new ECS deployment ecs-svc/1111"},
		{Kind: event.ServiceUpdated, Time: at(0), Service: "web", Cluster: cluster, Message: "web: new ECS deployment ecs-svc/2222"},
		{Kind: event.Progress, Time: at(2 * time.Second), Service: "api", Cluster: cluster,
			Message: "deployment ecs-svc/1111 PRIMARY IN_PROGRESS: 1/2 running, 0 pending, 0 failed tasks"},
		{Kind: event.ServiceDone, Time: at(2 * time.Second), Service: "web", Cluster: cluster, Outcome: "succeeded",
			Message: "deployment ecs-svc/2222 completed: 2/2 tasks running task definition web:8"},
	}
	lastAt := at(20 * time.Second)
	for i := 1; i <= 6; i++ {
		elapsed := time.Duration(i) * 30 * time.Second
		evs = append(evs, event.Event{Kind: event.Heartbeat, Time: at(elapsed), Cluster: cluster,
			Message: fmt.Sprintf("still waiting for ECS in cluster shop-stage after %s: 1 of 2 services done, 1 pending; last ECS event (api, %s): %s",
				elapsed, lastAt.UTC().Format("15:04:05 UTC"), StuckEvent),
			Waiting: &event.Waiting{Elapsed: elapsed, Done: 1, Pending: 1, LastEvent: StuckEvent, LastEventService: "api", LastEventAt: lastAt}})
	}
	return append(evs,
		event.Event{Kind: event.ServiceDone, Time: at(3 * time.Minute), Service: "api", Cluster: cluster, Outcome: "timed-out",
			Message: "still not done after 3m0s; last seen: deployment ecs-svc/1111 PRIMARY IN_PROGRESS: 1/2 running, 0 pending, 0 failed tasks"},
		event.Event{Kind: event.Finished, Time: at(3 * time.Minute), Outcome: "failed", Message: "deployment failed: api timed out"})
}
