// Package notify tells people and systems about deployments: it posts a
// message to Slack incoming webhooks and to generic webhooks, the latter
// signed with HMAC-SHA256 so that a receiver can tell buoy's requests
// from forgeries (docs/notifications.md). Requests go through
// go-retryablehttp: 429 and 5xx answers and failed connections are
// retried, Retry-After honoured, within a short deadline, so that a dead
// endpoint never holds a deployment for more than a few seconds.
//
// It is the only package of buoy's library that makes plain HTTP
// requests. It never reads the environment: the caller gives each target
// its URL and secret, and no error or log line it makes holds either.
package notify

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock"
)

// Defaults of the Notifier's options.
const (
	// DefaultDeadline bounds everything one Send does, retries and
	// their waits included.
	DefaultDeadline = 5 * time.Second
	// DefaultRetries is how many times a request is tried again.
	DefaultRetries = 3
	// DefaultMinWait and DefaultMaxWait bound the wait before a retry
	// (doubling from the first), unless the answer says Retry-After.
	DefaultMinWait = 250 * time.Millisecond
	DefaultMaxWait = 2 * time.Second
)

// Kind says how a target is told.
type Kind string

// The kinds of target.
const (
	// Slack posts text and blocks to a Slack incoming webhook.
	Slack Kind = "slack"
	// Webhook posts the Message as JSON, signed (see Sign).
	Webhook Kind = "webhook"
)

// Target is where a notification goes, its secrets resolved.
type Target struct {
	// Name names the target in results, errors and logs; it must not
	// hold a secret (e.g. "slack (SLACK_WEBHOOK_URL)").
	Name string
	Kind Kind
	// URL is where to post. For Slack it is the credential: it appears
	// in no error or log.
	URL string
	// Secret is a webhook's signing key.
	Secret string
}

// Message is what a notification says about a deployment. It is the
// body of a webhook request, as JSON.
type Message struct {
	// Version is the body's format: 1.
	Version int `json:"version"`
	// Event is start, success, failure or rollback.
	Event        string    `json:"event"`
	Project      string    `json:"project"`
	Environment  string    `json:"environment"`
	ReleaseID    string    `json:"releaseId"`
	DeploymentID string    `json:"deploymentId"`
	Status       string    `json:"status"` // the deployment's: in-progress, succeeded, failed, rolled-back, cancelled
	Reason       string    `json:"reason,omitempty"`
	RequestedBy  string    `json:"requestedBy"`
	Description  string    `json:"description,omitempty"`
	RollbackOf   string    `json:"rollbackOf,omitempty"` // the deployment a `buoy rollback` undoes
	StartedAt    time.Time `json:"startedAt"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"`
	Services     []Service `json:"services"`
	CI           CI        `json:"ci,omitzero"`
}

// Service is one ECS service's part in a deployment.
type Service struct {
	Service string `json:"service"`
	Cluster string `json:"cluster"`
	Region  string `json:"region,omitempty"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
}

// CI is the build that asked for the deployment.
type CI struct {
	Provider string `json:"provider,omitempty"`
	BuildURL string `json:"buildUrl,omitempty"`
	Commit   string `json:"commit,omitempty"`
	Actor    string `json:"actor,omitempty"`
}

// Result is how telling one target went.
type Result struct {
	Target string
	// Attempts counts the requests made, retries included; 0 when none
	// could be made.
	Attempts int
	// Err says why the target was not told; nil when it was. It never
	// holds the target's URL or secret.
	Err error
}

// Notifier sends notifications. It is safe for concurrent use.
type Notifier struct {
	client           *http.Client
	clock            clock.Clock
	log              *slog.Logger
	deadline         time.Duration
	retries          int
	minWait, maxWait time.Duration
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithHTTPClient sends requests with c (default: a client that follows
// no redirect, since a redirected POST would be re-sent as a GET).
func WithHTTPClient(c *http.Client) Option { return func(n *Notifier) { n.client = c } }

// WithClock makes the waits between retries, and the deadline they are
// held to, take time from c (default: clock.System).
func WithClock(c clock.Clock) Option { return func(n *Notifier) { n.clock = c } }

// WithLogger sends debug logs to l (default: silent). They name targets,
// never their URLs.
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithDeadline bounds each Send (default DefaultDeadline).
func WithDeadline(d time.Duration) Option { return func(n *Notifier) { n.deadline = d } }

// WithRetries sets how many times a request is tried again, and the
// bounds of the wait before each try (default DefaultRetries,
// DefaultMinWait and DefaultMaxWait); an answer's Retry-After overrides
// the wait.
func WithRetries(retries int, minWait, maxWait time.Duration) Option {
	return func(n *Notifier) { n.retries, n.minWait, n.maxWait = retries, minWait, maxWait }
}

// New returns a Notifier.
func New(opts ...Option) *Notifier {
	n := &Notifier{
		clock:    clock.System{},
		log:      slog.New(slog.DiscardHandler),
		deadline: DefaultDeadline,
		retries:  DefaultRetries,
		minWait:  DefaultMinWait,
		maxWait:  DefaultMaxWait,
	}
	for _, o := range opts {
		o(n)
	}
	if n.client == nil {
		n.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return n
}

// Send tells every target about msg at once and returns one Result per
// target, in order, within the Notifier's deadline. A target that could
// not be told has its Result.Err set; Send itself never fails.
func (n *Notifier) Send(ctx context.Context, targets []Target, msg Message) []Result {
	msg.Version = 1
	if msg.Services == nil {
		msg.Services = []Service{}
	}
	results := make([]Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			attempts, err := n.post(ctx, t, msg)
			results[i] = Result{Target: t.Name, Attempts: attempts, Err: err}
			if err != nil {
				n.log.Debug("notification not sent", "target", t.Name, "event", msg.Event, "attempts", attempts, "error", err)
			} else {
				n.log.Debug("notification sent", "target", t.Name, "event", msg.Event, "attempts", attempts)
			}
		})
	}
	wg.Wait()
	return results
}
