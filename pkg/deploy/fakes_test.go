package deploy

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// newFakeClock returns the tests' clock: at 10:30 on 22 November 2026,
// its waits end when the test advances it (or, after AutoAdvance, at
// once).
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
}

// newStore returns the tests' history store: history.Memory, timed by
// now, behind historytest's fault switches and write counts, so that the
// flow's tests run against the real store's rules.
func newStore(now func() time.Time) *historytest.Faulty {
	return historytest.NewFaulty(history.NewMemory(history.WithClock(now)))
}

// lockHeld reports whether the store holds env's lock.
func lockHeld(s history.Store, project, env string) bool {
	_, err := s.GetLock(context.Background(), project, env)
	return err == nil
}

// world is a fake AWS: ECR repositories with tags, ECS services, and a
// log of every call that changes something.
type world struct {
	mu sync.Mutex
	// tags maps repository -> tag -> digest; digests maps repository ->
	// the digests it holds.
	tags    map[string]map[string]string
	digests map[string]map[string]bool
	// services maps cluster/name -> service.
	services map[string]*ServiceRef
	// failRollout maps service name -> reason its rollout fails with.
	failRollout map[string]string
	// running maps "service|repository" -> the digests its tasks run.
	running map[string][]string
	// onRedeploy runs before each Redeploy (e.g. to kill the process).
	onRedeploy func(name string) error
	// onWait runs before each Wait (e.g. to kill the process).
	onWait func() error
	// onTag runs before each tag move (e.g. to hold it, or to kill the
	// process).
	onTag func(repo, tag string) error
	// ecs maps cluster/name -> the service's PRIMARY ECS deployment.
	ecs map[string]*fakeECSDeployment
	// pinned maps a registered task definition to its containers.
	pinned map[string]map[string]string
	// adopted lists the ECS deployments Adopt handed out.
	adopted []string
	// asked lists the registry's questions, "repository:tag" or
	// "repository@digest".
	asked []string
	// cleanups lists the CleanupRevisions calls, "family keep inUse...";
	// cleanupErr is what they return, with deregistered[family].
	cleanups     []string
	cleanupErr   error
	deregistered map[string][]string
	// pushedAt maps "repository@digest" -> when the image was pushed, as
	// the registry tells it (PushedAt).
	pushedAt map[string]time.Time
	// beforeChange runs before each call that changes something.
	beforeChange func(what string)
	calls        []string
	seq          int
}

func newWorld() *world {
	return &world{tags: map[string]map[string]string{}, digests: map[string]map[string]bool{},
		services: map[string]*ServiceRef{}, failRollout: map[string]string{}, running: map[string][]string{},
		ecs: map[string]*fakeECSDeployment{}, pinned: map[string]map[string]string{}, pushedAt: map[string]time.Time{}}
}

func (w *world) push(repo, digest string, tags ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tags[repo] == nil {
		w.tags[repo], w.digests[repo] = map[string]string{}, map[string]bool{}
	}
	w.digests[repo][digest] = true
	for _, t := range tags {
		w.tags[repo][t] = digest
	}
}

func (w *world) tagged(repo, tag string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tags[repo][tag]
}

func (w *world) addService(cluster, name string, containers map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.services[cluster+"/"+name] = &ServiceRef{Name: name, Key: name, Cluster: cluster, Region: "eu-west-1",
		ARN:            "arn:aws:ecs:eu-west-1:123456789012:service/" + cluster + "/" + name,
		TaskDefinition: name + ":1", Containers: containers, Running: 2, Desired: 2}
}

func (w *world) log(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, fmt.Sprintf(format, args...))
}

// sideEffects returns the calls that changed something, in order.
func (w *world) sideEffects() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.calls)
}

// fakeECSDeployment is a service's PRIMARY ECS deployment.
type fakeECSDeployment struct {
	id, taskDefinition string
	state              string // IN_PROGRESS, COMPLETED or FAILED
}

// ecsDeployment returns the PRIMARY ECS deployment of cluster/name.
func (w *world) ecsDeployment(cluster, name string) *fakeECSDeployment {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ecs[cluster+"/"+name]
}

func (w *world) adoptions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.adopted)
}

type fakeRegistry struct{ w *world }

func (r fakeRegistry) Resolve(_ context.Context, qs []ImageQuery) ([]*history.ImageRef, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	out := make([]*history.ImageRef, len(qs))
	for i, q := range qs {
		repo := q.Image.Repository
		if q.Digest != "" {
			r.w.asked = append(r.w.asked, repo+"@"+q.Digest)
		} else {
			r.w.asked = append(r.w.asked, repo+":"+q.Tag)
		}
		digest := q.Digest
		if digest == "" {
			digest = r.w.tags[repo][q.Tag]
		} else if !r.w.digests[repo][digest] {
			digest = ""
		}
		if digest != "" {
			out[i] = &history.ImageRef{Repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/" + repo,
				Tag: q.Tag, Digest: digest, MediaType: "application/vnd.docker.distribution.manifest.v2+json"}
		}
	}
	return out, nil
}

// PushedAt tells the push times the world knows of.
func (r fakeRegistry) PushedAt(_ context.Context, img *manifest.Image, digests []string) (map[string]time.Time, error) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	r.w.asked = append(r.w.asked, "pushed "+img.Repository)
	out := map[string]time.Time{}
	for _, d := range digests {
		if at, ok := r.w.pushedAt[img.Repository+"@"+d]; ok {
			out[d] = at
		}
	}
	return out, nil
}

func (r fakeRegistry) Tag(ctx context.Context, img *manifest.Image, ref history.ImageRef, tag string) (bool, error) {
	if r.w.onTag != nil {
		if err := r.w.onTag(img.Repository, tag); err != nil {
			return false, err
		}
	}
	if err := ctx.Err(); err != nil { // as the SDK: a call whose context ended is not sent
		return false, err
	}
	r.w.mu.Lock()
	if r.w.tags[img.Repository][tag] == ref.Digest {
		r.w.mu.Unlock()
		return false, nil
	}
	r.w.tags[img.Repository][tag] = ref.Digest
	hook := r.w.beforeChange
	r.w.mu.Unlock()
	if hook != nil {
		hook("PutImage")
	}
	r.w.log("PutImage %s:%s %s", img.Repository, tag, ref.Digest)
	return true, nil
}

type fakeCluster struct {
	w       *world
	cluster string
}

func (c fakeCluster) Find(_ context.Context, in FindInput) ([]ServiceRef, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	var out []ServiceRef
	var missing []string
	for _, n := range in.Names {
		s, ok := c.w.services[c.cluster+"/"+n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		out = append(out, *s)
	}
	if len(missing) > 0 {
		return nil, &MissingError{What: "service", Names: missing, Where: "cluster " + c.cluster}
	}
	return out, nil
}

func (c fakeCluster) PinImages(ctx context.Context, svc ServiceRef, pins []history.ImageRef) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c.w.mu.Lock()
	c.w.seq++
	td := fmt.Sprintf("%s:%d", svc.Name, c.w.seq+1)
	containers := maps.Clone(svc.Containers)
	for name, img := range containers {
		for _, pin := range pins {
			if ref, err := imageref.Parse(img); err == nil && ref.NameAsWritten() == pin.Repository {
				containers[name] = pin.Repository + "@" + pin.Digest
			}
		}
	}
	c.w.pinned[td] = containers
	c.w.mu.Unlock()
	c.w.log("RegisterTaskDefinition %s", td)
	return td, nil
}

func (c fakeCluster) Redeploy(ctx context.Context, svc ServiceRef, td string) (Started, error) {
	if c.w.onRedeploy != nil {
		if err := c.w.onRedeploy(svc.Name); err != nil {
			return Started{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return Started{}, err
	}
	if c.w.beforeChange != nil {
		c.w.beforeChange("UpdateService")
	}
	c.w.log("UpdateService %s %s", svc.Name, td)
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	key := c.cluster + "/" + svc.Name
	if td == "" {
		td = svc.TaskDefinition
	} else if s := c.w.services[key]; s != nil {
		s.TaskDefinition = td
		if pinned, ok := c.w.pinned[td]; ok {
			s.Containers = pinned
		}
	}
	c.w.seq++
	id := fmt.Sprintf("ecs-svc/%s-%d", svc.Name, c.w.seq)
	c.w.ecs[key] = &fakeECSDeployment{id: id, taskDefinition: td, state: "IN_PROGRESS"}
	return Started{Service: svc, ECSDeployment: id, TaskDefinition: td, PreviousTaskDefinition: svc.TaskDefinition}, nil
}

// Adopt follows the service's PRIMARY ECS deployment when it is a's,
// in progress or completed, and runs a's task definition.
func (c fakeCluster) Adopt(_ context.Context, svc ServiceRef, a Adoption) (Started, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	dep := c.w.ecs[c.cluster+"/"+svc.Name]
	no := func(failed bool, why string) (Started, error) {
		return Started{}, &NotAdoptableError{Service: svc.Name, ECSDeployment: a.ECSDeployment, Failed: failed, Reason: why}
	}
	switch {
	case dep == nil || dep.id != a.ECSDeployment:
		return no(false, "it is gone or was replaced")
	case dep.state == "FAILED":
		return no(true, "ECS marked it as failed (circuit breaker)")
	case dep.taskDefinition != a.TaskDefinition:
		return no(false, "it runs another task definition")
	}
	c.w.adopted = append(c.w.adopted, dep.id)
	return Started{Service: svc, ECSDeployment: dep.id, TaskDefinition: dep.taskDefinition,
		PreviousTaskDefinition: a.PreviousTaskDefinition, AdoptedFrom: a.From}, nil
}

func (c fakeCluster) Wait(_ context.Context, started []Started, _ time.Duration) ([]Outcome, error) {
	if c.w.onWait != nil {
		if err := c.w.onWait(); err != nil {
			return nil, err
		}
	}
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	out := make([]Outcome, len(started))
	for i, st := range started {
		out[i] = Outcome{Started: st, Status: history.StatusSucceeded, Duration: 42 * time.Second}
		if reason, ok := c.w.failRollout[st.Service.Name]; ok {
			out[i].Status, out[i].Reason = history.StatusFailed, reason
			delete(c.w.failRollout, st.Service.Name) // a rollback then succeeds
		}
	}
	return out, nil
}

// CleanupRevisions records the call and answers as the world says.
func (c fakeCluster) CleanupRevisions(_ context.Context, family string, keep int, inUse []string) ([]string, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	c.w.cleanups = append(c.w.cleanups, fmt.Sprintf("%s %d %v", family, keep, inUse))
	return c.w.deregistered[family], c.w.cleanupErr
}

func (c fakeCluster) Tasks(_ context.Context, svc ServiceRef) (map[string][]string, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	out := map[string][]string{}
	for _, img := range svc.Containers {
		ref, err := imageref.Parse(img)
		if err != nil {
			continue
		}
		if d, ok := c.w.running[svc.Name+"|"+ref.NameAsWritten()]; ok {
			out[img] = d
		}
	}
	return out, nil
}
