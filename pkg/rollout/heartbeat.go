package rollout

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// HeartbeatInterval is how often Wait says, with an event.Heartbeat, that
// it is still waiting, whether or not any rollout changed: a rollout
// stuck at the same state is never silent for longer.
const HeartbeatInterval = 30 * time.Second

// heartbeat says when Wait's next heartbeat is due: every
// HeartbeatInterval after the wait started.
type heartbeat struct{ next time.Time }

func newHeartbeat(start time.Time) *heartbeat {
	return &heartbeat{next: start.Add(HeartbeatInterval)}
}

// until returns how long Wait may sleep before the next heartbeat is due.
func (b *heartbeat) until(now time.Time) time.Duration { return b.next.Sub(now) }

// due reports whether a heartbeat is due at now and, if so, schedules the
// next one.
func (b *heartbeat) due(now time.Time) bool {
	if now.Before(b.next) {
		return false
	}
	for !now.Before(b.next) {
		b.next = b.next.Add(HeartbeatInterval)
	}
	return true
}

// heartbeat emits where the wait on ws stands after elapsed: how many
// rollouts ended, how many go on, and the last thing ECS said about one
// that goes on.
func (r *Rollout) heartbeat(ws []*watch, elapsed time.Duration) {
	st := event.Waiting{Elapsed: elapsed}
	cluster := ""
	for i, w := range ws {
		if i == 0 || w.h.Cluster == cluster {
			cluster = w.h.Cluster
		} else {
			cluster = "" // services of several clusters: none names them all
		}
		if w.done {
			st.Done++
			continue
		}
		st.Pending++
		if msg, at, ok := lastEvent(w); ok && (st.LastEvent == "" || at.After(st.LastEventAt)) {
			st.LastEvent, st.LastEventAt, st.LastEventService = msg, at, w.h.Service
		}
	}
	if st.LastEvent == "" {
		for _, w := range active(ws) {
			if reason := rolloutReason(w); reason != "" {
				st.LastEvent, st.LastEventService = reason, w.h.Service
				break
			}
		}
	}
	where := ""
	if cluster != "" {
		where = " in cluster " + shortARN(cluster)
	}
	msg := fmt.Sprintf("still waiting for ECS%s after %s: %d of %d services done, %d pending; ",
		where, elapsed.Round(time.Second), st.Done, st.Done+st.Pending, st.Pending)
	switch {
	case !st.LastEventAt.IsZero():
		msg += fmt.Sprintf("last ECS event (%s, %s): %s", st.LastEventService, st.LastEventAt.UTC().Format("15:04:05 UTC"), st.LastEvent)
	case st.LastEvent != "":
		msg += fmt.Sprintf("%s's rollout: %s", st.LastEventService, st.LastEvent)
	default:
		msg += "ECS has logged no event about them yet"
	}
	r.emit(event.Event{Kind: event.Heartbeat, Cluster: cluster, Message: msg, Waiting: &st})
}

// lastEvent returns the newest service event ECS logged about w's
// service since our deployment started (ECS lists them newest first).
func lastEvent(w *watch) (string, time.Time, bool) {
	for _, e := range w.svc.Events {
		if e.CreatedAt == nil || e.CreatedAt.Before(w.h.StartedAt) {
			continue
		}
		return aws.ToString(e.Message), *e.CreatedAt, true
	}
	return "", time.Time{}, false
}

// rolloutReason returns why ECS says our deployment of w's service is
// where it is: its service deployment's status reason, else its rollout
// state reason; "" when ECS gave none.
func rolloutReason(w *watch) string {
	if w.sd != nil && aws.ToString(w.sd.StatusReason) != "" {
		return aws.ToString(w.sd.StatusReason)
	}
	if ours := deploymentByID(w.svc.Deployments, w.h.DeploymentID); ours != nil {
		return aws.ToString(ours.RolloutStateReason)
	}
	return ""
}
