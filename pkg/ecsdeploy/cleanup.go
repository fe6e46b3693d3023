package ecsdeploy

import (
	"context"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/eventrules"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// cleanup deregisters, when MaxDefinitions asks, the revisions of base's
// family beyond the newest MaxDefinitions that nothing uses: no service
// or running task of any cluster (rollout.Cleanup), no EventBridge rule,
// and not keep. It runs after a success only; what it cannot do is a
// warning, never a failure of the deployment.
func (d *run) cleanup(ctx context.Context, base string, keep ...string) {
	if d.in.MaxDefinitions <= 0 {
		return
	}
	warn := func(msg string) {
		d.emit(event.Event{Kind: event.Warning, Service: d.in.Service, Cluster: d.in.Cluster, Message: msg})
	}
	family, err := d.family(ctx, base)
	if err != nil {
		warn("old revisions not cleaned up: " + err.Error())
		return
	}
	scheduled, err := eventrules.NewFromConfig(d.cfg).TaskDefinitions(ctx)
	if err != nil {
		warn("old revisions of " + family + " not cleaned up: buoy could not read the EventBridge rules, which may run one of them: " + err.Error())
		return
	}
	d.opts.log.DebugContext(ctx, "task definitions EventBridge rules run", "count", len(scheduled), "taskDefinitions", scheduled)
	gone, err := d.r.Cleanup(ctx, rollout.CleanupInput{Family: family, Keep: d.in.MaxDefinitions, InUse: append(keep, scheduled...)})
	d.res.Deregistered = gone
	if err != nil {
		warn("clean up old revisions: " + err.Error())
	}
}
