package rollout

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/event"
)

// Rollout redeploys the ECS services of one cluster target and waits for
// them. It is safe for concurrent use. Create it with New.
type Rollout struct {
	api       ECSAPI
	clock     clock.Clock
	sink      event.Sink
	log       *slog.Logger
	budget    *Budget
	polling   Polling
	threshold int32

	// deploymentsAPI remembers whether ListServiceDeployments and
	// DescribeServiceDeployments are allowed and supported here (apiUnknown
	// until the first call says).
	deploymentsAPI atomic.Int32

	// tagging, when set, finds services by tags across clusters;
	// taggingAPI remembers whether it answers (apiUnknown until the
	// first call says; apiUnavailable once denied or unsupported).
	tagging    TaggingAPI
	taggingAPI atomic.Int32

	tdMu sync.Mutex
	tds  map[string]*taskDefinitionEntry
}

// Polling shapes how often Wait asks ECS about the services it follows.
// The interval starts at Min, grows by Growth after each poll up to Max,
// and each sleep is moved at random by up to Jitter (a fraction) of it.
type Polling struct {
	Min, Max time.Duration
	Growth   float64
	Jitter   float64
	// ThrottledMax caps the interval while ECS throttles requests.
	ThrottledMax time.Duration
}

// DefaultPolling returns the polling Wait uses unless told otherwise: the
// first interval is 2 s, growing to 15 s, with 20% jitter; up to 30 s while
// ECS throttles.
func DefaultPolling() Polling {
	return Polling{Min: 2 * time.Second, Max: 15 * time.Second, Growth: 1.5, Jitter: 0.2, ThrottledMax: 30 * time.Second}
}

// Option changes a Rollout made by New.
type Option func(*Rollout)

// WithClock sets the clock Wait sleeps on (default: the system clock).
func WithClock(c clock.Clock) Option { return func(r *Rollout) { r.clock = c } }

// WithSink sets where events go (default: discarded).
func WithSink(s event.Sink) Option { return func(r *Rollout) { r.sink = s } }

// WithLogger sets the debug logger (default: silent).
func WithLogger(l *slog.Logger) Option { return func(r *Rollout) { r.log = l } }

// WithBudget sets the ECS request budget, one bucket per category of
// actions; share one among the Rollouts of an account and Region, as AWS
// throttles them. By default each Rollout has its own NewBudget at
// DefaultQuotaShare.
func WithBudget(b *Budget) Option { return func(r *Rollout) { r.budget = b } }

// WithPolling sets the poll intervals (default: DefaultPolling).
func WithPolling(p Polling) Option { return func(r *Rollout) { r.polling = p } }

// WithFailedTaskThreshold sets how many failed tasks of our deployment end
// the wait (default 1: the first task that fails to start or exits).
func WithFailedTaskThreshold(n int) Option {
	return func(r *Rollout) { r.threshold = int32(max(n, 1)) }
}

// WithoutServiceDeploymentsAPI makes Wait follow deployments through
// DescribeServices only, without trying ListServiceDeployments.
func WithoutServiceDeploymentsAPI() Option {
	return func(r *Rollout) { r.deploymentsAPI.Store(apiUnavailable) }
}

// WithTaggingAPI makes FindByTags with no cluster find the services
// through the Resource Groups Tagging API (GetResources), in a few calls
// whatever else the account holds. Without it, or where the API is
// denied or unsupported, FindByTags lists every cluster and service.
func WithTaggingAPI(t TaggingAPI) Option { return func(r *Rollout) { r.tagging = t } }

// New returns a Rollout that calls api.
func New(api ECSAPI, opts ...Option) *Rollout {
	r := &Rollout{
		api:       api,
		clock:     clock.System{},
		sink:      event.Discard{},
		log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		polling:   DefaultPolling(),
		threshold: 1,
		tds:       map[string]*taskDefinitionEntry{},
	}
	for _, o := range opts {
		o(r)
	}
	if r.budget == nil {
		r.budget = NewBudget(r.clock, DefaultQuotaShare, 0, 0)
	}
	return r
}

func (r *Rollout) emit(e event.Event) {
	e.Time = r.clock.Now().UTC()
	r.sink.Emit(e)
}
