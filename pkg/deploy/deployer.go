package deploy

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/notify"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

// Defaults of the Deployer's options.
const (
	DefaultTimeout      = 30 * time.Minute
	DefaultConcurrency  = 8
	DefaultLockTTL      = 2 * time.Minute
	DefaultLockWait     = 5 * time.Minute
	DefaultPollInterval = 5 * time.Second
	DefaultHistoryLimit = 20
	// MaxLockTTL is the longest lease of the environment lock. The lease
	// is renewed every third of it, so it never needs to be long, and a
	// killed run's lock is taken over one lease (and a margin) after
	// another run first sees it: a long lease only locks an environment
	// out for longer.
	MaxLockTTL = 10 * time.Minute
)

// Deployer deploys one project's releases and reports on them. It is safe
// for concurrent use; each operation counts its own AWS calls.
type Deployer struct {
	project *manifest.Project
	store   history.Store

	sink         event.Sink
	log          *slog.Logger
	clock        clock.Clock
	awsConfig    func(ctx context.Context, t manifest.Target) (aws.Config, error)
	newRegistry  func(RegistryParams) (Registry, error)
	newCluster   func(ClusterParams) (Cluster, error)
	newSSM       func(ClusterParams) (ssmparam.SSMAPI, error)
	newTaskLogs  func(ClusterParams) (TaskLogs, error)
	concurrency  int
	lockTTL      time.Duration
	lockWait     time.Duration
	pollInterval time.Duration
	ecsRate      float64 // cap on each ECS category's requests a second
	ecsBurst     int
	ecsShare     float64 // share of AWS's quota of each ECS category
	owner        func() string
	// storeCalls counts the history store's AWS calls, when it makes any.
	storeCalls *awsconfig.Counter
	// weco is weco-deploy's table of the project's past, if any.
	weco *history.WecoTable
	// confirmer is asked to confirm a protected environment, if set.
	confirmer Confirmer
	// notifySecrets are the values of the variables the notify targets
	// name; notifier sends the notifications.
	notifySecrets map[string]string
	notifier      *notify.Notifier
}

// Option configures a Deployer.
type Option func(*Deployer)

// WithSink sends the Deployer's events to s (default: dropped). s must be
// safe for concurrent use.
func WithSink(s event.Sink) Option { return func(d *Deployer) { d.sink = s } }

// WithLogger sends debug logs to l (default: silent).
func WithLogger(l *slog.Logger) Option { return func(d *Deployer) { d.log = l } }

// WithClock makes the Deployer take time from c and wait with it
// (default: clock.System). The targets' rollouts get it too, so one clock
// drives the orchestration and the rollout waiter alike.
func WithClock(c clock.Clock) Option { return func(d *Deployer) { d.clock = c } }

// WithAWSConfig sets how the aws.Config of each target (and each image
// registry, as a target with its region and role) is made. The default
// assumes the target's role from an empty base config; Open passes the
// caller's base config.
func WithAWSConfig(f func(ctx context.Context, t manifest.Target) (aws.Config, error)) Option {
	return func(d *Deployer) { d.awsConfig = f }
}

// WithRegistry replaces the ECR client (default: pkg/registry).
func WithRegistry(f func(RegistryParams) (Registry, error)) Option {
	return func(d *Deployer) { d.newRegistry = f }
}

// WithCluster replaces the ECS client of each target (default:
// pkg/rollout).
func WithCluster(f func(ClusterParams) (Cluster, error)) Option {
	return func(d *Deployer) { d.newCluster = f }
}

// WithTaskLogs replaces the CloudWatch Logs reader of each target, which
// shows the last lines a failed pre_deploy task's containers wrote
// (default: pkg/tasklogs).
func WithTaskLogs(f func(ClusterParams) (TaskLogs, error)) Option {
	return func(d *Deployer) { d.newTaskLogs = f }
}

// WithStoreCounter adds the AWS calls counted by c (installed on the
// history store's client) to each operation's Result.Stats. Operations
// running at once on one Deployer may see each other's store calls. Open
// does not need it: its store counts each call in the operation that made
// it (awsconfig.CountFromContext); neither should be used with the other.
func WithStoreCounter(c *awsconfig.Counter) Option { return func(d *Deployer) { d.storeCalls = c } }

// WithConcurrency bounds how many tag moves or service updates run at
// once (default 8).
func WithConcurrency(n int) Option { return func(d *Deployer) { d.concurrency = n } }

// WithLockTTL sets the lease of the environment lock (default 2 minutes,
// at least MinLockTTL, at most MaxLockTTL); it is renewed every third of it while the
// deployment runs, and the run stops acting as soon as no renewal has
// succeeded for a whole lease.
func WithLockTTL(ttl time.Duration) Option { return func(d *Deployer) { d.lockTTL = ttl } }

// WithLockWait sets how long to wait for a lock held by another run before
// failing with a *history.LockedError naming the holder (default 5
// minutes; 0 fails at once).
func WithLockWait(w time.Duration) Option { return func(d *Deployer) { d.lockWait = w } }

// WithPollInterval sets how often ECS and a held lock are polled (default
// 5 seconds).
func WithPollInterval(p time.Duration) Option { return func(d *Deployer) { d.pollInterval = p } }

// WithECSRequestBudget caps the ECS request budget: no category of ECS
// actions (rollout.Category) gets bursts of more than burst calls or more
// than rate calls a second, in each account and Region. The budget is
// shared by all the targets of an operation in one account and Region, as
// AWS throttles them, and slows down while ECS throttles
// (rollout.Budget). The default caps, DefaultECSRate and
// DefaultECSBurst, do not bind at the default share
// (WithECSQuotaShare); lower ones slow every category down.
func WithECSRequestBudget(rate float64, burst int) Option {
	return func(d *Deployer) { d.ecsRate, d.ecsBurst = rate, burst }
}

// WithECSQuotaShare caps the share of AWS's documented quota of each
// category of ECS actions that the budget uses (default
// DefaultECSQuotaShare, all of it; above 0). The budget starts at the cap,
// backs off at the first ThrottlingException and recovers slowly, never
// above it (rollout.Limiter). 0.5 leaves half of the quota to the
// account's other tools for good; an account whose quotas AWS raised may
// take more than 1 (with WithECSRequestBudget's caps raised to match).
func WithECSQuotaShare(share float64) Option { return func(d *Deployer) { d.ecsShare = share } }

// New returns a Deployer of project whose history is kept in store.
func New(project *manifest.Project, store history.Store, opts ...Option) (*Deployer, error) {
	if project == nil {
		return nil, invalid("no project given")
	}
	if store == nil {
		return nil, errors.New("deploy.New: no history store given")
	}
	d := &Deployer{
		project:      project,
		store:        store,
		sink:         event.Discard{},
		log:          slog.New(slog.DiscardHandler),
		clock:        clock.System{},
		concurrency:  DefaultConcurrency,
		lockTTL:      DefaultLockTTL,
		lockWait:     DefaultLockWait,
		pollInterval: DefaultPollInterval,
		ecsRate:      DefaultECSRate,
		ecsBurst:     DefaultECSBurst,
		ecsShare:     DefaultECSQuotaShare,
		owner:        newOwner,
	}
	for _, opt := range opts {
		opt(d)
	}
	if d.awsConfig == nil {
		d.awsConfig = TargetConfig(aws.Config{})
	}
	if d.newRegistry == nil {
		d.newRegistry = defaultRegistry
	}
	if d.newCluster == nil {
		d.newCluster = defaultCluster
	}
	if d.newSSM == nil {
		d.newSSM = defaultSSM
	}
	if d.notifier == nil {
		d.notifier = notify.New(notify.WithClock(d.clock), notify.WithLogger(d.log))
	}
	if d.newTaskLogs == nil {
		d.newTaskLogs = defaultTaskLogs
	}
	if d.concurrency < 1 {
		return nil, invalid("concurrency must be at least 1, got %d", d.concurrency)
	}
	if d.lockTTL <= 0 || d.pollInterval <= 0 || d.lockWait < 0 {
		return nil, invalid("lock TTL and poll interval must be positive, lock wait not negative")
	}
	if d.lockTTL < MinLockTTL {
		return nil, invalid("lock TTL %s is below the minimum, %s: the lease is renewed every third of it, so a shorter one lapses whenever one renewal is slow; use the default %s", d.lockTTL, MinLockTTL, DefaultLockTTL)
	}
	if d.lockTTL > MaxLockTTL {
		return nil, invalid("lock TTL %s is above the maximum, %s: the lease is renewed every third of it, so it never needs to be long; use the default %s", d.lockTTL, MaxLockTTL, DefaultLockTTL)
	}
	if !(d.ecsRate > 0) || math.IsInf(d.ecsRate, 0) || d.ecsBurst < 1 {
		return nil, invalid("the ECS request budget must be above 0 requests a second with bursts of at least 1, got %v a second, bursts of %d", d.ecsRate, d.ecsBurst)
	}
	if !(d.ecsShare > 0) || math.IsInf(d.ecsShare, 0) {
		return nil, invalid("the share of AWS's ECS quota must be above 0, got %v", d.ecsShare)
	}
	return d, nil
}

// Project returns the project the Deployer deploys.
func (d *Deployer) Project() *manifest.Project { return d.project }

func (d *Deployer) emit(e event.Event) {
	if e.Time.IsZero() {
		e.Time = d.clock.Now().UTC()
	}
	if e.Project == "" {
		e.Project = d.project.ID
	}
	d.sink.Emit(e)
}

func (d *Deployer) now() time.Time { return d.clock.Now().UTC() }

// sleep waits for dur or until ctx ends.
func (d *Deployer) sleep(ctx context.Context, dur time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.clock.After(dur):
		return nil
	}
}

// environment finds an environment of the project by id.
func (d *Deployer) environment(id string) (*manifest.Environment, error) {
	env, err := d.project.Environment(id)
	return env, classError(ErrInvalidInput, err)
}
