package manifest

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// NotifyEvent is a moment of a deployment that a notification target can
// be told about.
type NotifyEvent string

// The events of a deployment: it starts (its record is written), then
// ends in exactly one of success, failure or rollback.
const (
	NotifyStart    NotifyEvent = "start"
	NotifySuccess  NotifyEvent = "success"
	NotifyFailure  NotifyEvent = "failure"  // failed, or cancelled
	NotifyRollback NotifyEvent = "rollback" // failed and rolled back to what ran before
)

// NotifyEvents returns every event, in the order a deployment sends them.
func NotifyEvents() []NotifyEvent {
	return []NotifyEvent{NotifyStart, NotifySuccess, NotifyFailure, NotifyRollback}
}

// NotifyKind says how a notification target is told.
type NotifyKind string

// The kinds of notification target.
const (
	// NotifySlack posts to a Slack incoming webhook.
	NotifySlack NotifyKind = "slack"
	// NotifyWebhook posts JSON to any URL, signed with HMAC-SHA256.
	NotifyWebhook NotifyKind = "webhook"
)

// NotifyTarget is where a project or environment tells about its
// deployments. Its secrets are never in the manifest: it names the
// environment variables that hold them, which the entrypoints read.
type NotifyTarget struct {
	Kind NotifyKind
	// URL is a webhook's URL, when written in the manifest.
	URL string
	// URLEnv names the environment variable that holds the URL: always
	// for Slack (the URL is the credential), for a webhook instead of URL.
	URLEnv string
	// SecretEnv names the environment variable that holds a webhook's
	// signing key.
	SecretEnv string
	// On lists the events the target is told about; never empty.
	On  []NotifyEvent
	Pos Position
}

// Name names the target for people and records, without any secret:
// "slack (SLACK_WEBHOOK_URL)", "webhook https://deploys.example.com/buoy"
// or "webhook (DEPLOY_HOOK_URL)".
func (t NotifyTarget) Name() string {
	if t.URL != "" {
		return string(t.Kind) + " " + t.URL
	}
	return string(t.Kind) + " (" + t.URLEnv + ")"
}

// Wants reports whether the target is told about e.
func (t NotifyTarget) Wants(e NotifyEvent) bool { return slices.Contains(t.On, e) }

// NotifyTargets returns the targets told about deployments to env: the
// project's, then the environment's own.
func (p *Project) NotifyTargets(env *Environment) []NotifyTarget {
	return append(slices.Clone(p.Notify), env.Notify...)
}

// NotifyVariables returns the names of the environment variables the
// project's notification targets (its own and its environments') read,
// sorted, each once: what an entrypoint resolves and, in CI, masks.
func (p *Project) NotifyVariables() []string {
	var names []string
	add := func(ts []NotifyTarget) {
		for _, t := range ts {
			for _, n := range []string{t.URLEnv, t.SecretEnv} {
				if n != "" && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	add(p.Notify)
	for _, env := range p.Environments {
		add(env.Notify)
	}
	slices.Sort(names)
	return names
}

// The keys of a notification target.
var (
	v1Notify = schema{what: "notify target", known: []string{"slack", "webhook", "on"}}
	v1Slack  = schema{what: "slack", known: []string{"webhook_url_env"}, refused: map[string]refusal{
		"webhook_url": {"a Slack webhook URL is a secret (anyone who has it can post to the channel) and may not be written in the manifest",
			secretHint("webhook_url_env", "SLACK_WEBHOOK_URL")},
	}}
	v1Webhook = schema{what: "webhook", known: []string{"url", "url_env", "secret_env"}, refused: map[string]refusal{
		"secret": {"a webhook's signing secret may not be written in the manifest", secretHint("secret_env", "BUOY_WEBHOOK_SECRET")},
	}}
)

// secretHint says why a secret is not written in the manifest, and what
// to write instead.
func secretHint(key, example string) string {
	return "the manifest is kept in the repository and read by every build: put the value in a CI secret, give it to buoy in an environment variable and write " +
		key + ": " + example
}

// envNameRe is an environment variable name as POSIX shells write it.
var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// notify reads a notify: list.
func (d *decoder) notify(f field) []NotifyTarget {
	var out []NotifyTarget
	for _, item := range d.list(f) {
		if t, ok := d.notifyTarget(item); ok {
			out = append(out, t)
		}
	}
	return out
}

func (d *decoder) notifyTarget(n *yaml.Node) (NotifyTarget, bool) {
	fields, ok := d.mapping(n, v1Notify)
	if !ok {
		return NotifyTarget{}, false
	}
	t := NotifyTarget{Pos: d.pos(n), On: NotifyEvents()}
	slack, isSlack := fields["slack"]
	hook, isHook := fields["webhook"]
	switch {
	case isSlack && isHook:
		d.errorf(hook.key, "write one target per item: - slack: ... and - webhook: ...", "a notify target is either slack or webhook, not both")
		return t, false
	case isSlack:
		t.Kind = NotifySlack
		d.slackTarget(&t, slack)
	case isHook:
		t.Kind = NotifyWebhook
		d.webhookTarget(&t, hook)
	default:
		d.errorf(n, "write slack: {webhook_url_env: SLACK_WEBHOOK_URL} or webhook: {url: ..., secret_env: ...}", "the notify target says neither slack nor webhook")
		return t, false
	}
	if f, ok := fields["on"]; ok {
		t.On = d.notifyEvents(f)
	}
	return t, true
}

func (d *decoder) slackTarget(t *NotifyTarget, f field) {
	fields, ok := d.mapping(f.val, v1Slack)
	if !ok {
		return
	}
	if _, ok := fields["webhook_url_env"]; !ok {
		if _, literal := fields["webhook_url"]; !literal { // refused already
			d.errorf(f.val, "add webhook_url_env: SLACK_WEBHOOK_URL, the environment variable that holds the webhook's URL", "slack has no \"webhook_url_env\"")
		}
		return
	}
	t.URLEnv = d.envName(fields, "webhook_url_env")
}

func (d *decoder) webhookTarget(t *NotifyTarget, f field) {
	fields, ok := d.mapping(f.val, v1Webhook)
	if !ok {
		return
	}
	u, hasURL := fields["url"]
	_, hasURLEnv := fields["url_env"]
	switch {
	case hasURL && hasURLEnv:
		d.errorf(u.key, "keep url, or url_env when the URL carries a token", "webhook has both \"url\" and \"url_env\"")
	case hasURL:
		t.URL = d.str(u)
		d.checkWebhookURL(u.val, t.URL)
	case hasURLEnv:
		t.URLEnv = d.envName(fields, "url_env")
	default:
		d.errorf(f.val, "add url: https://..., or url_env: <variable> when the URL carries a token", "webhook has no \"url\"")
	}
	if _, ok := fields["secret_env"]; !ok {
		if _, literal := fields["secret"]; literal { // refused already
			return
		}
		d.errorf(f.val, "add secret_env: BUOY_WEBHOOK_SECRET, the environment variable that holds the key buoy signs each request with, so the receiver can tell buoy's requests from forgeries",
			"webhook has no \"secret_env\"")
		return
	}
	t.SecretEnv = d.envName(fields, "secret_env")
}

// envName returns the environment variable name in fields[key].
func (d *decoder) envName(fields map[string]field, key string) string {
	f := fields[key]
	v := d.str(f)
	if !envNameRe.MatchString(v) {
		// Not quoted: a URL or key pasted here is the secret itself.
		d.errorf(f.val, "write the name of the environment variable that holds the value (letters, digits and '_', not starting with a digit, e.g. SLACK_WEBHOOK_URL), not the value",
			"%s is not an environment variable name", key)
	}
	return v
}

// checkWebhookURL refuses a webhook URL buoy cannot post to, or one that
// carries a password (a secret, which belongs in url_env).
func (d *decoder) checkWebhookURL(n *yaml.Node, v string) {
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		d.errorf(n, "write an http or https URL, e.g. https://deploys.example.com/buoy", "webhook url is not an http(s) URL")
	case u.User != nil:
		d.errorf(n, "put the URL in an environment variable and write url_env: <variable>", "webhook url carries credentials (user:password@), which may not be written in the manifest")
	}
}

func (d *decoder) notifyEvents(f field) []NotifyEvent {
	names := make([]string, 0, len(NotifyEvents()))
	for _, e := range NotifyEvents() {
		names = append(names, string(e))
	}
	vals, nodes := d.strings(f)
	if len(vals) == 0 {
		d.errorf(f.val, "leave on: out to be told of every event, or list some of "+strings.Join(names, ", "), "\"on\" is empty")
		return nil
	}
	var out []NotifyEvent
	for i, v := range vals {
		switch {
		case !slices.Contains(names, v):
			d.errorf(nodes[i], didYouMean(v, names, "the events are"), "notify event %q is not known", v)
		case slices.Contains(out, NotifyEvent(v)):
			d.errorf(nodes[i], "remove one of them", "\"on\" lists %q twice", v)
		default:
			out = append(out, NotifyEvent(v))
		}
	}
	return out
}
