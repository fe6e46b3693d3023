package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// withEvents is f with ECS's service events (newest first).
func withEvents(f ecsfake.Frame, evs ...ecsfake.Event) ecsfake.Frame {
	f.Events = evs
	return f
}

// withReason is f with our deployment's rollout state reason.
func withReason(f ecsfake.Frame, reason string) ecsfake.Frame {
	f.Deployments = append([]ecsfake.Deployment(nil), f.Deployments...)
	f.Deployments[0].RolloutStateReason = reason
	return f
}

// repeat returns n frames, alternating between the frames given.
func repeat(n int, fs ...ecsfake.Frame) []ecsfake.Frame {
	out := make([]ecsfake.Frame, n)
	for i := range out {
		out[i] = fs[i%len(fs)]
	}
	return out
}

// TestWaitHeartbeats: while Wait waits, a Heartbeat comes at least every
// 30 s of the injected clock, whatever the polling and whether or not the
// rollouts change, and says how many services are done and pending and
// the newest thing ECS said about a pending one.
func TestWaitHeartbeats(t *testing.T) {
	t.Parallel()
	started := ecsfake.Event{ID: "e3", CreatedAt: ecsfake.At(20 * time.Second), Message: "(service api) has started 1 tasks: (task 7f3c)."}
	earlier := ecsfake.Event{ID: "e2", CreatedAt: ecsfake.At(5 * time.Second), Message: "(service api) registered 1 targets in (target-group tg-api)"}
	stale := ecsfake.Event{ID: "e1", CreatedAt: ecsfake.At(-time.Hour), Message: "(service api) has reached a steady state."}
	webStale := ecsfake.Event{ID: "w1", CreatedAt: ecsfake.At(50 * time.Second), Message: "(service web) has reached a steady state."}
	fixed := rollout.Polling{Min: 10 * time.Second, Max: 10 * time.Second, Growth: 1, ThrottledMax: 30 * time.Second}
	tests := []struct {
		name      string
		api, web  []ecsfake.Frame // web nil: api alone
		polling   rollout.Polling
		throttles int
		timeout   time.Duration
		want      rollout.Outcome
		minBeats  int
		// minChanges is the least number of Progress events (state
		// changes) the wait must have seen.
		minChanges int
		// what every heartbeat says
		done, pending int
		last, service string
		lastAt        time.Time
	}{
		{name: "stuck for 3 minutes", api: []ecsfake.Frame{withEvents(progress(1), started, earlier, stale)},
			web: []ecsfake.Frame{withEvents(completed(), webStale)}, polling: fixed, timeout: 3 * time.Minute,
			want: rollout.TimedOut, minBeats: 6, done: 1, pending: 1,
			last: started.Message, service: "api", lastAt: ecsfake.T0.Add(20 * time.Second)},
		{name: "stuck for 3 minutes, default polling", api: []ecsfake.Frame{withEvents(progress(1), started, stale)},
			web: []ecsfake.Frame{completed()}, polling: rollout.DefaultPolling(), timeout: 3 * time.Minute,
			want: rollout.TimedOut, minBeats: 6, done: 1, pending: 1,
			last: started.Message, service: "api", lastAt: ecsfake.T0.Add(20 * time.Second)},
		{name: "changes at every poll, then completes", api: append(repeat(120, progress(0), progress(1)), completed()),
			polling: rollout.DefaultPolling(), timeout: time.Hour, want: rollout.Succeeded, minBeats: 40, minChanges: 100, pending: 1,
			last: "ECS has logged no event about them yet"},
		// Every poll is throttled, so ECS never says anything, and
		// throttled polls are 30 s and more apart.
		{name: "throttled", api: []ecsfake.Frame{withEvents(progress(0), earlier)}, throttles: 1000,
			polling: rollout.Polling{Min: 20 * time.Second, Max: 20 * time.Second, Growth: 1, Jitter: 0.2, ThrottledMax: 30 * time.Second},
			timeout: 5 * time.Minute, want: rollout.TimedOut, minBeats: 10, pending: 1,
			last: "ECS has logged no event about them yet"},
		{name: "only events from before: the rollout state reason", api: []ecsfake.Frame{withReason(withEvents(progress(1), stale), "ECS deployment ecs-svc/1111 in progress.")},
			polling: fixed, timeout: 2 * time.Minute, want: rollout.TimedOut, minBeats: 4, pending: 1,
			last: "ECS deployment ecs-svc/1111 in progress.", service: "api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			services := []ecsfake.Service{{Name: "api", TaskDefinition: tdOld, DesiredCount: 2, Before: before, Update: updateResp, Frames: tt.api}}
			names := []string{"api"}
			if tt.web != nil {
				services = append(services, ecsfake.Service{Name: "web", TaskDefinition: tdOld, DesiredCount: 2, Before: before, Update: updateResp, Frames: tt.web})
				names = append(names, "web")
			}
			srv := ecsfake.New(t, ecsfake.Unsupported, services...)
			clock := clocktest.NewAuto(ecsfake.T0)
			var rec event.Recorder
			r := rollout.New(srv.Client(), rollout.WithClock(clock), rollout.WithSink(&rec), rollout.WithPolling(tt.polling))
			ctx := context.Background()
			svcs, err := r.Find(ctx, rollout.FindInput{Cluster: ecsfake.Cluster, Names: names})
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			var hs []rollout.Handle
			for _, s := range svcs {
				h, err := r.Redeploy(ctx, s, rollout.RedeployInput{TaskDefinition: tdNew})
				if err != nil {
					t.Fatalf("Redeploy %s: %v", s.Name, err)
				}
				hs = append(hs, h)
			}
			srv.Throttle("DescribeServices", tt.throttles)
			start := clock.Now()
			res, _ := r.Wait(ctx, rollout.WaitInput{Handles: hs, Timeout: tt.timeout})
			end := clock.Now()
			for _, got := range res {
				if got.Handle.Service == "api" && got.Outcome != tt.want {
					t.Fatalf("api's outcome: got %s (%s), want %s", got.Outcome, got.Diagnosis, tt.want)
				}
			}
			beats := rec.OfKind(event.Heartbeat)
			if want := max(tt.minBeats, int(end.Sub(start)/rollout.HeartbeatInterval)); len(beats) < want {
				t.Fatalf("heartbeats over %s: got %d, want at least %d", end.Sub(start), len(beats), want)
			}
			if n := len(rec.OfKind(event.Progress)); n < tt.minChanges {
				t.Errorf("state changes: got %d, want at least %d", n, tt.minChanges)
			}
			prev := start
			for i, b := range beats {
				w := b.Waiting
				if w == nil {
					t.Fatalf("heartbeat %d has no Waiting: %+v", i, b)
				}
				if gap := b.Time.Sub(prev); gap > rollout.HeartbeatInterval || gap <= 0 {
					t.Errorf("heartbeat %d came %s after the one before (or the start), want within %s", i, gap, rollout.HeartbeatInterval)
				}
				if got := b.Time.Sub(start); w.Elapsed != got {
					t.Errorf("heartbeat %d: elapsed %s, want %s (its time since the wait started)", i, w.Elapsed, got)
				}
				prev = b.Time
				if w.Done != tt.done || w.Pending != tt.pending {
					t.Errorf("heartbeat %d: %d done, %d pending; want %d and %d", i, w.Done, w.Pending, tt.done, tt.pending)
				}
				if w.LastEventService != tt.service || !w.LastEventAt.Equal(tt.lastAt) {
					t.Errorf("heartbeat %d: last event of %q at %s, want of %q at %s", i, w.LastEventService, w.LastEventAt, tt.service, tt.lastAt)
				}
				if tt.service != "" && w.LastEvent != tt.last {
					t.Errorf("heartbeat %d: last event %q, want %q", i, w.LastEvent, tt.last)
				}
				if !strings.Contains(b.Message, tt.last) || !strings.Contains(b.Message, w.Elapsed.String()) {
					t.Errorf("heartbeat %d says %q, want it to name %q and %s", i, b.Message, tt.last, w.Elapsed)
				}
				if b.Cluster != hs[0].Cluster {
					t.Errorf("heartbeat %d: cluster %q, want %q", i, b.Cluster, hs[0].Cluster)
				}
			}
			if tt.want == rollout.TimedOut && end.Sub(prev) > rollout.HeartbeatInterval {
				t.Errorf("the last heartbeat came %s before the wait ended, want within %s", end.Sub(prev), rollout.HeartbeatInterval)
			}
		})
	}
}

// TestWaitHeartbeatMessage: the heartbeat's line, as the entrypoints
// print it.
func TestWaitHeartbeatMessage(t *testing.T) {
	t.Parallel()
	ev := ecsfake.Event{ID: "e1", CreatedAt: ecsfake.At(20 * time.Second), Message: "(service api) has started 1 tasks: (task 7f3c)."}
	srv := ecsfake.New(t, ecsfake.Unsupported,
		ecsfake.Service{Name: "api", TaskDefinition: tdOld, DesiredCount: 2, Before: before, Update: updateResp, Frames: []ecsfake.Frame{withEvents(progress(1), ev)}})
	clock := clocktest.NewAuto(ecsfake.T0)
	var rec event.Recorder
	r := rollout.New(srv.Client(), rollout.WithClock(clock), rollout.WithSink(&rec),
		rollout.WithPolling(rollout.Polling{Min: 10 * time.Second, Max: 10 * time.Second, Growth: 1}))
	h := redeployed(t, r, "api", rollout.RedeployInput{TaskDefinition: tdNew})
	_, _ = r.Wait(context.Background(), rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: 40 * time.Second})
	beats := rec.OfKind(event.Heartbeat)
	if len(beats) != 1 {
		t.Fatalf("heartbeats in 40 s: got %d, want 1", len(beats))
	}
	want := "still waiting for ECS in cluster test-cluster after 30s: 0 of 1 services done, 1 pending; last ECS event (api, 10:00:20 UTC): (service api) has started 1 tasks: (task 7f3c)."
	if beats[0].Message != want {
		t.Errorf("message:\ngot  %q\nwant %q", beats[0].Message, want)
	}
}
