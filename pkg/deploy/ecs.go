package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/eventrules"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

var (
	_ Adopter       = (*ecsCluster)(nil)
	_ ECSRollbacker = (*ecsCluster)(nil)
)

// ecsCluster is the default Cluster: pkg/rollout for finding, redeploying
// and waiting, and ListTasks/DescribeTasks for what tasks really run.
//
// A target with no cluster (find_by_tags) spans the clusters its services
// are found in: each ServiceRef carries its own cluster, which every
// later call (redeploy, adopt, wait, tasks, rollback) addresses, through
// the one Rollout and request budget of the target's account and Region.
type ecsCluster struct {
	r       *rollout.Rollout
	cluster string // "" searches every cluster of the account
	region  string
	account string // the role's account, "" for the default credentials'
	clock   clock.Clock
	// rules reads the EventBridge rules of the target's account and
	// Region (CleanupRevisions); nil when they cannot be read.
	rules rulesReader

	// taskRollout makes the Rollout a one-off task is run and followed
	// with: the target's, telling its progress as the task id's.
	taskRollout func(id string) *rollout.Rollout

	mu    sync.Mutex
	found map[string]rollout.Service // by ARN
	// searches holds the services found across clusters, by environment
	// and names: a Cluster lives for one operation, which searches once.
	searches map[string]*search
}

// search is one search across clusters, made once.
type search struct {
	once sync.Once
	svcs []rollout.Service
	err  error
}

// NewECSCluster returns the default Cluster for a target, calling ECS
// through api (an *ecs.Client, or a scripted server's client in tests).
// opts are added to its Rollout's, e.g. rollout.WithTaggingAPI, with which
// a target with no cluster finds its services through the Resource Groups
// Tagging API rather than by listing every cluster.
func NewECSCluster(api rollout.ECSAPI, p ClusterParams, opts ...rollout.Option) Cluster {
	return newECSCluster(p, func(own ...rollout.Option) *rollout.Rollout { return rollout.New(api, append(own, opts...)...) })
}

// defaultCluster is the default Cluster: pkg/rollout with the ECS and
// tagging API clients made from the target's configuration.
func defaultCluster(p ClusterParams) (Cluster, error) {
	return newECSCluster(p, func(own ...rollout.Option) *rollout.Rollout { return rollout.NewFromConfig(p.Config, own...) }), nil
}

// newECSCluster makes the Cluster of target p with the Rollout newRollout
// makes from the options the Deployer sets.
func newECSCluster(p ClusterParams, newRollout func(...rollout.Option) *rollout.Rollout) Cluster {
	if p.Clock == nil {
		p.Clock = clock.System{}
	}
	budget := p.Budget
	if budget == nil {
		budget = rollout.NewBudget(p.Clock, rollout.DefaultQuotaShare, p.RequestRate, p.RequestBurst)
	}
	own := []rollout.Option{rollout.WithClock(p.Clock), rollout.WithBudget(budget)}
	if p.PollInterval > 0 {
		// Polls start at once, then come at growing intervals up to the
		// Deployer's poll interval, so that buoy notices ECS is done at
		// most about that long (plus jitter) after it is.
		pol := rollout.DefaultPolling()
		pol.Max = p.PollInterval
		pol.Min = min(pol.Min, p.PollInterval)
		own = append(own, rollout.WithPolling(pol))
	}
	if p.Sink != nil {
		// The Deployer reports service updates and outcomes itself;
		// rollout adds what only it sees while waiting.
		sink := p.Sink
		own = append(own, rollout.WithSink(event.Func(func(e event.Event) {
			if e.Kind == event.Progress || e.Kind == event.Heartbeat || e.Kind == event.Warning || event.IsLifecycle(e.Kind) {
				sink.Emit(e)
			}
		})))
	}
	if p.Logger != nil {
		own = append(own, rollout.WithLogger(p.Logger))
	}
	c := &ecsCluster{r: newRollout(own...), cluster: p.Target.Cluster,
		region: p.Config.Region, account: awsconfig.AccountOfRole(p.Target.RoleARN), clock: p.Clock,
		rules: eventrules.NewFromConfig(p.Config),
		found: map[string]rollout.Service{}, searches: map[string]*search{}}
	c.taskRollout = func(id string) *rollout.Rollout {
		// A later sink replaces the one own sets: the task's events are
		// told as the task's.
		return newRollout(append(slices.Clone(own), rollout.WithSink(taskSink(p.Sink, id)))...)
	}
	return c
}

// findConcurrency bounds how many task definitions Find reads at once.
const findConcurrency = 8

// findServices finds the services of in: by name or tags in the target's
// cluster, or by tags across every cluster once per environment and names.
func (c *ecsCluster) findServices(ctx context.Context, in FindInput) ([]rollout.Service, error) {
	switch {
	case !in.ByTags:
		return c.r.Find(ctx, rollout.FindInput{Cluster: c.cluster, Names: in.Names})
	case c.cluster != "":
		return c.r.FindByTags(ctx, rollout.FindByTagsInput{Cluster: c.cluster, Env: in.Environment, Names: in.Names})
	}
	key := in.Environment + "\x00" + strings.Join(in.Names, "\x00")
	c.mu.Lock()
	s, ok := c.searches[key]
	if !ok {
		s = &search{}
		c.searches[key] = s
	}
	c.mu.Unlock()
	s.once.Do(func() {
		s.svcs, s.err = c.r.FindByTags(ctx, rollout.FindByTagsInput{Env: in.Environment, Names: in.Names})
	})
	if s.err != nil {
		// Not kept: a cancelled or throttled search may succeed later.
		c.mu.Lock()
		if c.searches[key] == s {
			delete(c.searches, key)
		}
		c.mu.Unlock()
	}
	return s.svcs, s.err
}

func (c *ecsCluster) Find(ctx context.Context, in FindInput) ([]ServiceRef, error) {
	svcs, err := c.findServices(ctx, in)
	var nf *rollout.NotFoundError
	var amb *rollout.AmbiguousError
	switch {
	case errors.As(err, &amb):
		// err names every ambiguous name, and any missing ones.
		return nil, classError(ErrInvalidInput, err)
	case errors.As(err, &nf):
		return nil, &MissingError{What: "service", Names: nf.Services, Where: targetWhere(c.cluster, c.region, c.account)}
	case err != nil:
		return nil, err
	}
	// Read the task definitions a few at a time; the loop below finds
	// them in the rollout's cache.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(findConcurrency)
	for _, s := range svcs {
		g.Go(func() error {
			if _, err := c.r.TaskDefinition(gctx, s.TaskDefinition); err != nil {
				return fmt.Errorf("read the task definition of %s: %w", s.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]ServiceRef, 0, len(svcs))
	for i, s := range svcs {
		key := s.Name
		if in.ByTags {
			key = s.Tags[rollout.TagService]
			if key == "" && i < len(in.Names) {
				key = in.Names[i]
			}
		}
		td, err := c.r.TaskDefinition(ctx, s.TaskDefinition)
		if err != nil {
			return nil, fmt.Errorf("read the task definition of %s: %w", s.Name, err)
		}
		containers := map[string]string{}
		if td.TaskDefinition != nil {
			for _, cd := range td.TaskDefinition.ContainerDefinitions {
				containers[aws.ToString(cd.Name)] = aws.ToString(cd.Image)
			}
		}
		c.mu.Lock()
		c.found[s.ARN] = s
		c.mu.Unlock()
		cluster := c.cluster
		if cluster == "" {
			cluster = clusterName(s.Cluster)
		}
		out = append(out, ServiceRef{Name: s.Name, Key: key, Cluster: cluster, Region: c.region, ARN: s.ARN,
			TaskDefinition: s.TaskDefinition, Containers: containers,
			Running: int(s.RunningCount), Desired: int(s.DesiredCount), Launch: launchOf(s.Launch)})
	}
	return out, nil
}

func (c *ecsCluster) service(svc ServiceRef) rollout.Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.found[svc.ARN]; ok {
		return s
	}
	return rollout.Service{ARN: svc.ARN, Name: svc.Name, Cluster: c.clusterOf(svc), TaskDefinition: svc.TaskDefinition,
		DesiredCount: int32(svc.Desired), RunningCount: int32(svc.Running)}
}

// clusterOf returns the cluster svc runs in: its own, found by a search
// across clusters, else the target's.
func (c *ecsCluster) clusterOf(svc ServiceRef) string {
	if svc.Cluster != "" {
		return svc.Cluster
	}
	return c.cluster
}

func (c *ecsCluster) PinImages(ctx context.Context, svc ServiceRef, pins []history.ImageRef) (string, error) {
	images, err := pinned(pins)
	if err != nil {
		return "", err
	}
	return c.r.RegisterImages(ctx, svc.TaskDefinition, images)
}

// pinned returns each pin's repository pinned by its digest.
func pinned(pins []history.ImageRef) ([]imageref.Reference, error) {
	images := make([]imageref.Reference, len(pins))
	for i, p := range pins {
		repo, err := imageref.Parse(p.Repository)
		if err == nil {
			images[i], err = repo.WithDigest(p.Digest)
		}
		if err != nil {
			return nil, fmt.Errorf("pin %s@%s: %w", p.Repository, p.Digest, err)
		}
	}
	return images, nil
}

func (c *ecsCluster) Redeploy(ctx context.Context, svc ServiceRef, taskDefinition string) (Started, error) {
	h, err := c.r.Redeploy(ctx, c.service(svc), rollout.RedeployInput{TaskDefinition: taskDefinition})
	if err != nil {
		return Started{}, err
	}
	return Started{Service: svc, ECSDeployment: h.DeploymentID, TaskDefinition: h.TaskDefinition,
		PreviousTaskDefinition: h.PreviousTaskDefinition, At: h.StartedAt, Handle: h}, nil
}

func (c *ecsCluster) Adopt(ctx context.Context, svc ServiceRef, a Adoption) (Started, error) {
	h, err := c.r.Adopt(ctx, c.service(svc), rollout.AdoptInput{DeploymentID: a.ECSDeployment,
		TaskDefinition: a.TaskDefinition, PreviousTaskDefinition: a.PreviousTaskDefinition})
	var na *rollout.NotAdoptableError
	if errors.As(err, &na) {
		return Started{}, &NotAdoptableError{Service: svc.Name, ECSDeployment: a.ECSDeployment, Failed: na.Failed, Reason: na.Reason}
	}
	if err != nil {
		return Started{}, err
	}
	return Started{Service: svc, ECSDeployment: h.DeploymentID, TaskDefinition: h.TaskDefinition,
		PreviousTaskDefinition: h.PreviousTaskDefinition, At: h.StartedAt, AdoptedFrom: a.From, Handle: h}, nil
}

func (c *ecsCluster) Wait(ctx context.Context, started []Started, timeout time.Duration) ([]Outcome, error) {
	handles := make([]rollout.Handle, len(started))
	for i, st := range started {
		h, ok := st.Handle.(rollout.Handle)
		if !ok {
			return nil, fmt.Errorf("wait for %s: not started by this cluster", st.Service.Name)
		}
		handles[i] = h
	}
	results, err := c.r.Wait(ctx, rollout.WaitInput{Handles: handles, Timeout: timeout})
	if len(results) != len(started) {
		if err == nil {
			err = fmt.Errorf("got %d results for %d services", len(results), len(started))
		}
		return nil, err
	}
	out := make([]Outcome, len(started))
	for i, res := range results {
		o := Outcome{Started: started[i], Reason: res.Diagnosis}
		o.Started.Handle = res.Handle // with the service deployment Wait found
		if !started[i].At.IsZero() {
			// Each service's own time: until the wait saw its outcome,
			// not until the slowest service's.
			end := res.Finished
			if end.IsZero() {
				end = c.clock.Now()
			}
			o.Duration = end.Sub(started[i].At)
		}
		o.Status, o.TimedOut = statusOf(res.Outcome)
		if o.Status == history.StatusFailed && !o.TimedOut && o.Reason == "" {
			o.Reason = string(res.Outcome)
		}
		out[i] = o
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
}

func (c *ecsCluster) RollBackWithECS(ctx context.Context, st Started) (Started, error) {
	h, ok := st.Handle.(rollout.Handle)
	if !ok {
		return Started{}, fmt.Errorf("roll back %s: not started by this cluster", st.Service.Name)
	}
	back, err := c.r.RollBackWithECS(ctx, h)
	if err != nil {
		return Started{}, err
	}
	return Started{Service: st.Service, ECSDeployment: back.DeploymentID, TaskDefinition: back.PreviousTaskDefinition,
		PreviousTaskDefinition: back.TaskDefinition, At: c.clock.Now(), Handle: back}, nil
}

func (c *ecsCluster) Tasks(ctx context.Context, svc ServiceRef) (map[string][]string, error) {
	return c.r.RunningDigests(ctx, c.clusterOf(svc), svc.Name)
}

// clusterName returns the name of a cluster given by name or ARN.
func clusterName(cluster string) string {
	if _, name, ok := strings.Cut(cluster, ":cluster/"); ok {
		return name
	}
	return cluster
}

// targetWhere says where a target's services are looked for: its cluster,
// or with none, every cluster of its account and Region ("" for the
// credentials' own).
func targetWhere(cluster, region, account string) string {
	if cluster != "" {
		return "cluster " + cluster
	}
	acct, reg := "the credentials' account", "the default region"
	if account != "" {
		acct = "account " + account
	}
	if region != "" {
		reg = "region " + region
	}
	return fmt.Sprintf("any cluster of %s in %s", acct, reg)
}

// where says where t's services are looked for.
func where(t manifest.Target) string {
	return targetWhere(t.Cluster, t.Region, awsconfig.AccountOfRole(t.RoleARN))
}

// statusOf is the record's status for what a wait of ECS (a rollout or a
// one-off task) ended with, and whether it timed out.
func statusOf(o rollout.Outcome) (history.Status, bool) {
	switch o {
	case rollout.Succeeded:
		return history.StatusSucceeded, false
	case rollout.TimedOut:
		return history.StatusFailed, true
	case rollout.Canceled:
		return history.StatusCancelled, false
	default:
		return history.StatusFailed, false
	}
}
