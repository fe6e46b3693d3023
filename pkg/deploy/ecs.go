package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"golang.org/x/sync/errgroup"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

var _ Adopter = (*ecsCluster)(nil)

// ecsCluster is the default Cluster: pkg/rollout for finding, redeploying
// and waiting, and ListTasks/DescribeTasks for what tasks really run.
type ecsCluster struct {
	api     rollout.ECSAPI
	budget  *rollout.Budget
	r       *rollout.Rollout
	cluster string
	region  string
	clock   Clock

	mu    sync.Mutex
	found map[string]rollout.Service // by ARN
}

// NewECSCluster returns the default Cluster for a target, calling ECS
// through api (an *ecs.Client, or a scripted server's client in tests).
func NewECSCluster(api rollout.ECSAPI, p ClusterParams) Cluster {
	if p.Clock == nil {
		p.Clock = rollout.SystemClock{}
	}
	budget := p.Budget
	if budget == nil {
		budget = rollout.NewBudget(p.Clock, rollout.DefaultQuotaShare, p.RequestRate, p.RequestBurst)
	}
	opts := []rollout.Option{rollout.WithClock(p.Clock), rollout.WithBudget(budget)}
	if p.PollInterval > 0 {
		// Polls start at once, then come at growing intervals up to the
		// Deployer's poll interval, so that buoy notices ECS is done at
		// most about that long (plus jitter) after it is.
		pol := rollout.DefaultPolling()
		pol.Max = p.PollInterval
		pol.Min = min(pol.Min, p.PollInterval)
		opts = append(opts, rollout.WithPolling(pol))
	}
	if p.Sink != nil {
		// The Deployer reports service updates and outcomes itself;
		// rollout adds what only it sees while waiting.
		sink := p.Sink
		opts = append(opts, rollout.WithSink(event.Func(func(e event.Event) {
			if e.Kind == event.Progress || e.Kind == event.Warning {
				sink.Emit(e)
			}
		})))
	}
	if p.Logger != nil {
		opts = append(opts, rollout.WithLogger(p.Logger))
	}
	return &ecsCluster{api: api, budget: budget, r: rollout.New(api, opts...), cluster: p.Target.Cluster,
		region: p.Config.Region, clock: p.Clock, found: map[string]rollout.Service{}}
}

// findConcurrency bounds how many task definitions Find reads at once.
const findConcurrency = 8

func defaultCluster(p ClusterParams) (Cluster, error) {
	return NewECSCluster(ecs.NewFromConfig(p.Config), p), nil
}

func (c *ecsCluster) Find(ctx context.Context, in FindInput) ([]ServiceRef, error) {
	var svcs []rollout.Service
	var err error
	if in.ByTags {
		svcs, err = c.r.FindByTags(ctx, rollout.FindByTagsInput{Cluster: c.cluster, Env: in.Environment, Names: in.Names})
	} else {
		svcs, err = c.r.Find(ctx, rollout.FindInput{Cluster: c.cluster, Names: in.Names})
	}
	var nf *rollout.NotFoundError
	var amb *rollout.AmbiguousError
	switch {
	case errors.As(err, &nf):
		return nil, &MissingError{What: "service", Names: nf.Services, Where: "cluster " + c.cluster}
	case errors.As(err, &amb):
		return nil, classError(ErrInvalidInput, err)
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
		out = append(out, ServiceRef{Name: s.Name, Key: key, Cluster: c.cluster, Region: c.region, ARN: s.ARN,
			TaskDefinition: s.TaskDefinition, Containers: containers,
			Running: int(s.RunningCount), Desired: int(s.DesiredCount)})
	}
	return out, nil
}

func (c *ecsCluster) service(svc ServiceRef) rollout.Service {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.found[svc.ARN]; ok {
		return s
	}
	return rollout.Service{ARN: svc.ARN, Name: svc.Name, Cluster: c.cluster, TaskDefinition: svc.TaskDefinition,
		DesiredCount: int32(svc.Desired), RunningCount: int32(svc.Running)}
}

func (c *ecsCluster) PinImages(ctx context.Context, svc ServiceRef, pins []history.ImageRef) (string, error) {
	ps := make([]rollout.Pin, len(pins))
	for i, p := range pins {
		ps[i] = rollout.Pin{Repository: p.Repository, Digest: p.Digest}
	}
	return c.r.RegisterPinned(ctx, svc.TaskDefinition, ps)
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
		if !started[i].At.IsZero() {
			// Each service's own time: until the wait saw its outcome,
			// not until the slowest service's.
			end := res.Finished
			if end.IsZero() {
				end = c.clock.Now()
			}
			o.Duration = end.Sub(started[i].At)
		}
		switch res.Outcome {
		case rollout.Succeeded:
			o.Status = history.StatusSucceeded
		case rollout.TimedOut:
			o.Status, o.TimedOut = history.StatusFailed, true
		case rollout.Canceled:
			o.Status = history.StatusCancelled
		default:
			o.Status = history.StatusFailed
			if o.Reason == "" {
				o.Reason = string(res.Outcome)
			}
		}
		out[i] = o
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	return out, nil
}

func (c *ecsCluster) Tasks(ctx context.Context, svc ServiceRef) (map[string][]string, error) {
	return c.r.RunningDigests(ctx, c.cluster, svc.Name)
}
