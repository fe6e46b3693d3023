package deploy

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/notify"
)

// WithNotifySecrets gives the Deployer the values of the environment
// variables its project's notify targets name
// (manifest.Project.NotifyVariables), by variable name. The library reads
// no environment: the caller does, and passes what it found. A
// deployment to an environment one of whose targets reads a variable
// that is not given fails before it changes anything, naming it.
func WithNotifySecrets(values map[string]string) Option {
	return func(d *Deployer) { d.notifySecrets = values }
}

// WithNotifier sends the notifications with n (default: notify.New with
// the Deployer's clock and logger).
func WithNotifier(n *notify.Notifier) Option { return func(d *Deployer) { d.notifier = n } }

// notifyTarget is one of the manifest's notify targets, its secrets
// resolved.
type notifyTarget struct {
	manifest.NotifyTarget
	to notify.Target
}

// notifyTargets returns the targets told about env's deployments, their
// URLs and secrets taken from the variables they name. A variable that
// was not given, or a URL one holds that buoy cannot post to, is
// ErrInvalidInput naming the variable (never quoting its value).
func (d *Deployer) notifyTargets(env *manifest.Environment) ([]notifyTarget, error) {
	var out []notifyTarget
	var problems []string
	for _, t := range d.project.NotifyTargets(env) {
		nt := notifyTarget{NotifyTarget: t, to: notify.Target{Name: t.Name(), Kind: notify.Kind(t.Kind), URL: t.URL}}
		at := ""
		if t.Pos.Line > 0 {
			at = fmt.Sprintf(" (%s:%d:%d)", t.Pos.File, t.Pos.Line, t.Pos.Column)
		}
		if t.URLEnv != "" {
			v := d.notifySecrets[t.URLEnv]
			switch {
			case v == "":
				problems = append(problems, fmt.Sprintf("environment variable %s, the URL of notify target %s%s, is not set", t.URLEnv, t.Name(), at))
			case !postable(v):
				problems = append(problems, fmt.Sprintf("environment variable %s, the URL of notify target %s%s, does not hold an http(s) URL", t.URLEnv, t.Name(), at))
			}
			nt.to.URL = v
		}
		if t.SecretEnv != "" {
			v := d.notifySecrets[t.SecretEnv]
			if v == "" {
				problems = append(problems, fmt.Sprintf("environment variable %s, the signing secret of notify target %s%s, is not set", t.SecretEnv, t.Name(), at))
			}
			nt.to.Secret = v
		}
		out = append(out, nt)
	}
	if len(problems) > 0 {
		return nil, invalid("%s: set it in the environment buoy runs in (in CI, from a secret), or remove the target from the manifest; nothing was changed",
			strings.Join(problems, "; "))
	}
	return out, nil
}

// postable reports whether v is a URL a notification can be posted to.
func postable(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// checkNotify resolves the notify targets of op's environment once, for
// a deployment about to start: with a variable missing, a real run fails
// before it changes anything, and a dry run warns that it would.
func (d *Deployer) checkNotify(env *manifest.Environment, op *operation) error {
	if op.notifyChecked {
		return nil
	}
	targets, err := d.notifyTargets(env)
	if err != nil && op.req.DryRun {
		d.emit(event.Event{Kind: event.Warning, Environment: env.ID, Message: "a real run would fail: " + err.Error()})
		return nil
	}
	if err != nil {
		return err
	}
	op.notify, op.notifyChecked = targets, true
	return nil
}

// notifyEvent is the event that tells how a deployment of status ended.
func notifyEvent(status history.Status) manifest.NotifyEvent {
	switch status {
	case history.StatusSucceeded:
		return manifest.NotifySuccess
	case history.StatusRolledBack:
		return manifest.NotifyRollback
	default:
		return manifest.NotifyFailure
	}
}

// message says what a notification of ev tells about dep.
func message(ev manifest.NotifyEvent, dep *history.Deployment) notify.Message {
	msg := notify.Message{Event: string(ev), Project: dep.Project, Environment: dep.Environment, ReleaseID: dep.ReleaseID,
		DeploymentID: dep.ID, Status: string(dep.Status), Reason: dep.Reason, RequestedBy: dep.RequestedBy,
		Description: dep.Description, RollbackOf: dep.RollbackOf, StartedAt: dep.StartedAt, FinishedAt: dep.FinishedAt,
		CI: notify.CI{Provider: dep.CI.Provider, BuildURL: dep.CI.BuildURL, Commit: dep.CI.Commit, Actor: dep.CI.Actor}}
	for _, s := range dep.Services {
		msg.Services = append(msg.Services, notify.Service{Service: s.Service, Cluster: s.Cluster, Region: s.Region,
			Outcome: string(s.Outcome), Reason: s.Reason})
	}
	return msg
}

// sendNotifications tells the targets that want ev, and returns how each
// went, for the record. A target that could not be told is a warning:
// it never fails the deployment.
func (d *Deployer) sendNotifications(ctx context.Context, targets []notifyTarget, ev manifest.NotifyEvent, msg notify.Message) []history.Notification {
	var to []notify.Target
	for _, t := range targets {
		if t.Wants(ev) {
			to = append(to, t.to)
		}
	}
	if len(to) == 0 {
		return nil
	}
	results := d.notifier.Send(ctx, to, msg)
	now := d.now()
	out := make([]history.Notification, len(results))
	for i, r := range results {
		out[i] = history.Notification{Target: r.Target, Event: string(ev), Outcome: history.NotificationSent, Attempts: r.Attempts, At: now}
		if r.Err != nil {
			out[i].Outcome, out[i].Error = history.NotificationFailed, r.Err.Error()
			d.emit(event.Event{Kind: event.Warning, Environment: msg.Environment, Release: msg.ReleaseID, Deployment: msg.DeploymentID,
				Message: fmt.Sprintf("could not notify %s of the deployment's %s: %v; the deployment goes on as if it had", r.Target, ev, r.Err)})
		}
	}
	return out
}

// notifyStart tells the targets that the deployment started, in the
// background: the deployment does not wait for it, but its record is not
// closed before the outcomes are in it (awaitNotifyStart). They are
// added to the record without a write of their own: the next progress
// write carries them, the closing one at the latest. (A write of their
// own could run while the waiter records the services' outcomes, which
// only the run's goroutine touches.)
func (r *recordKeeper) notifyStart(ctx context.Context, targets []notifyTarget) {
	if len(targets) == 0 {
		return
	}
	msg := message(manifest.NotifyStart, r.rec) // nothing else writes it yet
	r.notifying = make(chan struct{})
	go func() {
		defer close(r.notifying)
		if sent := r.d.sendNotifications(ctx, targets, manifest.NotifyStart, msg); len(sent) > 0 {
			r.note(ctx, false, func() { r.rec.Notifications = append(r.rec.Notifications, sent...) })
		}
	}()
}

// awaitNotifyStart waits until the start notifications are sent, or
// given up (within the notifier's deadline, or when ctx ends).
func (r *recordKeeper) awaitNotifyStart() {
	if r.notifying != nil {
		<-r.notifying
	}
}

// notifyEnd tells the targets how the closed deployment ended, and adds
// how that went to its record. It sends even when the run was cancelled
// or lost its lock (people are told of a cancelled run too), within the
// notifier's deadline. It writes the record only when the closing write
// succeeded (written is set); a write that fails is a warning.
func (d *Deployer) notifyEnd(ctx context.Context, r *recordKeeper, targets []notifyTarget, written bool) {
	ev := notifyEvent(r.rec.Status)
	sent := d.sendNotifications(context.WithoutCancel(ctx), targets, ev, message(ev, r.rec))
	if len(sent) == 0 {
		return
	}
	r.mu.Lock()
	r.rec.Notifications = append(r.rec.Notifications, sent...)
	r.mu.Unlock()
	if !written {
		return
	}
	if err := d.store.UpdateDeployment(ctx, r.rec); err != nil {
		d.emit(event.Event{Kind: event.Warning, Environment: r.rec.Environment, Deployment: r.rec.ID,
			Message: fmt.Sprintf("could not add how the notifications went to the deployment record: %v", err)})
	}
}
