package rollout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// DefaultTimeout is how long Wait waits when WaitInput.Timeout is zero.
// It is generous because the fail-fast rules end typical failures early.
const DefaultTimeout = 30 * time.Minute

// WaitInput names the deployments to follow.
type WaitInput struct {
	Handles []Handle
	// Timeout bounds the whole wait (default DefaultTimeout).
	Timeout time.Duration
	// SkipDrain ends a service's wait with success as soon as our
	// deployment is PRIMARY and runs all its tasks of our task
	// definition, without waiting for the older deployments' tasks to
	// drain or for ECS to call the rollout complete (the classic
	// ecs-deploy's --skip-deployments-check). The fail-fast rules apply
	// until then.
	SkipDrain bool
}

// Result is how the rollout of one service ended.
type Result struct {
	Handle  Handle
	Outcome Outcome
	// Diagnosis says in plain words what happened and, on failure, what
	// to look at.
	Diagnosis string
	// Polls counts the times Wait saw the service.
	Polls int
	// LastState is the last progress Wait saw.
	LastState string
	// Finished is when Wait decided the outcome (by its clock): when it
	// saw the service succeed or fail, or when the wait timed out or was
	// cancelled.
	Finished time.Time
}

// watch is Wait's state for one service.
type watch struct {
	h       Handle
	res     Result
	done    bool
	seen    bool // observed this round
	svc     types.Service
	sdARN   string
	sdTries int
	sd      *types.ServiceDeployment
	lc      lifecycle
	// skipDrain is WaitInput.SkipDrain.
	skipDrain bool
}

// Wait follows the deployments in in.Handles, all together, until each has
// succeeded or failed, or the timeout passes. Every HeartbeatInterval it
// emits an event.Heartbeat saying how long it has waited, how many
// rollouts ended and the last thing ECS said. It returns one Result per
// handle, in order. The error is nil only when every rollout succeeded;
// otherwise it joins a *ServiceError per failed service (and wraps the
// context's error when ctx ended the wait).
func (r *Rollout) Wait(ctx context.Context, in WaitInput) ([]Result, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := r.clock.Now()
	deadline := start.Add(timeout)
	beat := newHeartbeat(start)
	ws := make([]*watch, len(in.Handles))
	for i, h := range in.Handles {
		ws[i] = &watch{h: h, res: Result{Handle: h}, sdARN: h.ServiceDeploymentARN, skipDrain: in.SkipDrain}
	}
	rng := rand.New(rand.NewPCG(uint64(r.clock.Now().UnixNano()), 0x6275_6f79))
	interval := r.polling.Min
	errRounds := 0
	for {
		// On time, whatever the poll that follows takes: it says what
		// the polls before saw.
		if now := r.clock.Now(); beat.due(now) {
			r.heartbeat(ws, now.Sub(start))
		}
		throttled, err := r.poll(ctx, active(ws))
		switch {
		case ctx.Err() != nil:
			return r.finish(ws, Canceled, "the wait was cancelled: "+ctx.Err().Error(), ctx.Err())
		case err != nil:
			if errRounds++; errRounds >= 3 {
				return r.finish(ws, Failed, "buoy could not read the services' state: "+err.Error(), err)
			}
			r.log.DebugContext(ctx, "poll failed", "err", err)
		default:
			errRounds = 0
		}
		if len(active(ws)) == 0 {
			return r.finish(ws, "", "", nil)
		}
		now := r.clock.Now()
		if !now.Before(deadline) {
			return r.finish(ws, TimedOut, fmt.Sprintf("still not done after %s", timeout), nil)
		}
		if throttled {
			interval = min(2*interval, r.polling.ThrottledMax)
		}
		// Wake for the next heartbeat at the latest.
		sleep := min(jitter(interval, r.polling.Jitter, rng), deadline.Sub(now), beat.until(now))
		if !throttled {
			interval = min(time.Duration(float64(interval)*r.polling.Growth), r.polling.Max)
		}
		select {
		case <-ctx.Done():
			return r.finish(ws, Canceled, "the wait was cancelled: "+ctx.Err().Error(), ctx.Err())
		case <-r.clock.After(sleep):
		}
	}
}

func jitter(d time.Duration, frac float64, rng *rand.Rand) time.Duration {
	if frac <= 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + frac*(2*rng.Float64()-1)))
}

func active(ws []*watch) []*watch {
	var out []*watch
	for _, w := range ws {
		if !w.done {
			out = append(out, w)
		}
	}
	return out
}

// finish ends every rollout still open with outcome o and builds Wait's
// result.
func (r *Rollout) finish(ws []*watch, o Outcome, why string, cause error) ([]Result, error) {
	var errs []error
	for _, w := range ws {
		if !w.done {
			d := why
			if w.res.LastState != "" {
				d += "; last seen: " + w.res.LastState
			} else {
				d += "; ECS has not answered about this service yet"
			}
			r.end(w, verdict{done: true, outcome: o, diagnosis: d})
		}
		if w.res.Outcome != Succeeded {
			errs = append(errs, &ServiceError{Result: w.res})
		}
	}
	out := make([]Result, len(ws))
	for i, w := range ws {
		out[i] = w.res
	}
	err := errors.Join(errs...)
	if cause != nil {
		err = fmt.Errorf("wait for ECS services: %w", errors.Join(cause, err))
	}
	return out, err
}

func (r *Rollout) end(w *watch, v verdict) {
	w.done = true
	w.res.Outcome = v.outcome
	w.res.Diagnosis = v.diagnosis
	w.res.Finished = r.clock.Now()
	r.emit(event.Event{Kind: event.ServiceDone, Service: w.h.Service, Cluster: w.h.Cluster,
		To: w.h.TaskDefinition, Outcome: string(v.outcome), Message: v.diagnosis})
}

// observe applies one round's observation to w.
func (r *Rollout) observe(ctx context.Context, w *watch) {
	r.follow(w)
	v := judge(w.h, w.svc, w.sd, &w.lc, rules{threshold: r.threshold, skipDrain: w.skipDrain})
	if v.state != "" && v.state != w.res.LastState {
		w.res.LastState = v.state
		r.emit(event.Event{Kind: event.Progress, Service: w.h.Service, Cluster: w.h.Cluster, Message: v.state})
	}
	if !v.done {
		return
	}
	if v.explain {
		if why, err := r.stoppedTasks(ctx, w.h); err != nil {
			r.log.DebugContext(ctx, "could not read stopped tasks", "service", w.h.Service, "err", err)
		} else if why != "" {
			v.diagnosis += "; " + why
		}
	}
	r.end(w, v)
}

// missing ends a watch whose service DescribeServices no longer finds.
func (r *Rollout) missing(w *watch, reason string) {
	r.end(w, verdict{done: true, outcome: Vanished,
		diagnosis: fmt.Sprintf("ECS no longer finds service %s in cluster %s (%s): it was deleted while deploying", w.h.Service, w.h.Cluster, reason)})
}

func serviceKey(cluster string, s types.Service) []string {
	return []string{aws.ToString(s.ServiceArn), cluster + "/" + aws.ToString(s.ServiceName)}
}
