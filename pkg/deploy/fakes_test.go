package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/imageref"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// newFakeClock returns the tests' clock: at 10:30 on 22 November 2026,
// its waits end when the test advances it (or, after AutoAdvance, at
// once).
func newFakeClock() *clocktest.Clock {
	return clocktest.New(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
}

// memStore is a minimal in-memory history.Store for the flow's tests.
type memStore struct {
	mu       sync.Mutex
	now      func() time.Time
	seq      int
	releases []*history.Release
	deps     []*history.Deployment
	current  map[string]*history.Current
	locks    *history.Memory
	// dead makes every write fail, as if the process had died.
	dead bool
	// beforeWrite, when set, runs before each write (m.mu held) and
	// fails it with its error.
	beforeWrite func(op string) error
	// writes counts successful writes by method.
	writes map[string]int
}

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, current: map[string]*history.Current{}, locks: history.NewMemory(history.WithClock(now)), writes: map[string]int{}}
}

var errDead = errors.New("process died")

func (m *memStore) id() string {
	m.seq++
	return fmt.Sprintf("01J%023d", m.seq)
}

func (m *memStore) write(op string) error {
	if m.dead {
		return errDead
	}
	if m.beforeWrite != nil {
		if err := m.beforeWrite(op); err != nil {
			return err
		}
	}
	m.writes[op]++
	return nil
}

func (m *memStore) PutRelease(_ context.Context, r *history.Release) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write("PutRelease"); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = m.id()
	}
	c := *r
	c.Images = maps.Clone(r.Images)
	m.releases = append(m.releases, &c)
	return nil
}

func (m *memStore) GetRelease(_ context.Context, project, id string) (*history.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var found []*history.Release
	for _, r := range m.releases {
		if r.Project == project && strings.HasPrefix(r.ID, id) {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return nil, history.ErrNotFound
	case 1:
		c := *found[0]
		return &c, nil
	}
	return nil, history.ErrAmbiguous
}

func (m *memStore) LatestRelease(ctx context.Context, project string) (*history.Release, error) {
	rs, _ := m.ListReleases(ctx, project, 1)
	if len(rs) == 0 {
		return nil, history.ErrNotFound
	}
	return rs[0], nil
}

func (m *memStore) ListReleases(_ context.Context, project string, limit int) ([]*history.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*history.Release
	for _, r := range slices.Backward(m.releases) {
		if r.Project == project && (limit == 0 || len(out) < limit) {
			c := *r
			out = append(out, &c)
		}
	}
	return out, nil
}

func copyDep(d *history.Deployment) *history.Deployment {
	c := *d
	c.Images = maps.Clone(d.Images)
	c.Services = slices.Clone(d.Services)
	return &c
}

func (m *memStore) CreateDeployment(_ context.Context, d *history.Deployment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write("CreateDeployment"); err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = m.id()
	}
	d.Version = 1
	m.deps = append(m.deps, copyDep(d))
	return nil
}

func (m *memStore) UpdateDeployment(_ context.Context, d *history.Deployment) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write("UpdateDeployment"); err != nil {
		return err
	}
	for i, old := range m.deps {
		if old.ID == d.ID {
			if old.Version != d.Version {
				return history.ErrConflict
			}
			d.Version++
			m.deps[i] = copyDep(d)
			return nil
		}
	}
	return history.ErrNotFound
}

func (m *memStore) GetDeployment(_ context.Context, _, id string) (*history.Deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.deps {
		if d.ID == id {
			return copyDep(d), nil
		}
	}
	return nil, history.ErrNotFound
}

func (m *memStore) ListDeployments(_ context.Context, project, env string, limit int) ([]*history.Deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*history.Deployment
	for _, d := range slices.Backward(m.deps) {
		if d.Project == project && (env == "" || d.Environment == env) && (limit == 0 || len(out) < limit) {
			out = append(out, copyDep(d))
		}
	}
	return out, nil
}

func (m *memStore) GetCurrent(_ context.Context, project, env string) (*history.Current, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.current[project+"/"+env]
	if !ok {
		return nil, history.ErrNotFound
	}
	cc := *c
	cc.Images = maps.Clone(c.Images)
	return &cc, nil
}

func (m *memStore) ListCurrent(_ context.Context, project string) ([]*history.Current, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*history.Current
	for _, c := range m.current {
		if c.Project == project {
			cc := *c
			out = append(out, &cc)
		}
	}
	return out, nil
}

func (m *memStore) SetCurrent(_ context.Context, c *history.Current) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.write("SetCurrent"); err != nil {
		return err
	}
	key := c.Project + "/" + c.Environment
	var have int64
	if old, ok := m.current[key]; ok {
		have = old.Version
	}
	if have != c.Version {
		return history.ErrConflict
	}
	c.Version++
	cc := *c
	cc.Images = maps.Clone(c.Images)
	m.current[key] = &cc
	return nil
}

// The lock is history.Memory's, behind the dead switch and the write
// counts: the flow's tests run against the real lock rules.

func (m *memStore) AcquireLock(ctx context.Context, l history.Lock, ttl time.Duration) (*history.Lock, error) {
	if err := m.lockWrite("AcquireLock"); err != nil {
		return nil, err
	}
	return m.locks.AcquireLock(ctx, l, ttl)
}

func (m *memStore) TakeOverLock(ctx context.Context, l history.Lock, ttl time.Duration, stale history.Lock) (*history.Lock, error) {
	if err := m.lockWrite("TakeOverLock"); err != nil {
		return nil, err
	}
	return m.locks.TakeOverLock(ctx, l, ttl, stale)
}

func (m *memStore) RenewLock(ctx context.Context, l *history.Lock, ttl time.Duration) error {
	if err := m.lockWrite("RenewLock"); err != nil {
		return err
	}
	return m.locks.RenewLock(ctx, l, ttl)
}

func (m *memStore) ReleaseLock(ctx context.Context, l *history.Lock) error {
	if err := m.lockWrite("ReleaseLock"); err != nil {
		return err
	}
	return m.locks.ReleaseLock(ctx, l)
}

func (m *memStore) GetLock(ctx context.Context, project, env string) (*history.Lock, error) {
	return m.locks.GetLock(ctx, project, env)
}

func (m *memStore) BreakLock(ctx context.Context, u *history.Unlock) error {
	if err := m.lockWrite("BreakLock"); err != nil {
		return err
	}
	return m.locks.BreakLock(ctx, u)
}

func (m *memStore) ListUnlocks(ctx context.Context, project, env string, limit int) ([]*history.Unlock, error) {
	return m.locks.ListUnlocks(ctx, project, env, limit)
}

func (m *memStore) lockWrite(op string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.write(op)
}

func (m *memStore) lockHeld(project, env string) bool {
	_, err := m.locks.GetLock(context.Background(), project, env)
	return err == nil
}

func (m *memStore) setDead(dead bool) {
	m.mu.Lock()
	m.dead = dead
	m.mu.Unlock()
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
	// beforeChange runs before each call that changes something.
	beforeChange func(what string)
	calls        []string
	seq          int
}

func newWorld() *world {
	return &world{tags: map[string]map[string]string{}, digests: map[string]map[string]bool{},
		services: map[string]*ServiceRef{}, failRollout: map[string]string{}, running: map[string][]string{},
		ecs: map[string]*fakeECSDeployment{}, pinned: map[string]map[string]string{}}
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
