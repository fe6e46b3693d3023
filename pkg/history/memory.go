package history

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Memory is a Store kept in memory, for tests and for programs that do not
// need the history to outlive them. It behaves like the DynamoDB store:
// the same conditional writes, lock tokens, id prefixes and orderings, and
// records are copied in and out (through the same JSON encoding), so a
// caller never shares memory with the store.
type Memory struct {
	ids *idSource
	now func() time.Time

	mu          sync.Mutex
	releases    map[string]map[string][]byte // project → id → release
	deployments map[string]map[string]memDeployment
	current     map[string]map[string][]byte // project → environment → current
	locks       map[string]Lock              // project#environment → lock
	unlocks     map[string][][]byte          // project → unlocks
}

type memDeployment struct {
	environment string
	data        []byte
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory Store.
func NewMemory(opts ...Option) *Memory {
	o := newOptions(opts)
	return &Memory{
		ids:         newIDSource(o.now, o.entropy),
		now:         o.now,
		releases:    map[string]map[string][]byte{},
		deployments: map[string]map[string]memDeployment{},
		current:     map[string]map[string][]byte{},
		locks:       map[string]Lock{},
		unlocks:     map[string][][]byte{},
	}
}

// PutRelease stores a new release, giving it an id and creation time when
// they are unset; ErrExists if the id is taken.
func (m *Memory) PutRelease(ctx context.Context, r *Release) error {
	if err := prepareRelease(r, m.ids); err != nil {
		return fmt.Errorf("store release: %w", err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode release %s: %w", r.ID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byID := m.releases[r.Project]
	if byID == nil {
		byID = map[string][]byte{}
		m.releases[r.Project] = byID
	}
	if _, ok := byID[r.ID]; ok {
		return fmt.Errorf("store release %s of %s: %w", r.ID, r.Project, ErrExists)
	}
	byID[r.ID] = data
	return nil
}

// GetRelease finds a release by id or unique id prefix (case-insensitive
// for ULIDs).
func (m *Memory) GetRelease(ctx context.Context, project, idOrPrefix string) (*Release, error) {
	if idOrPrefix == "" {
		return nil, fmt.Errorf("get release of %s: empty id: %w", project, ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.releaseIDs(project)
	if data, ok := m.releases[project][idOrPrefix]; ok {
		return decode[Release](data)
	}
	for _, prefix := range prefixVariants(idOrPrefix) {
		var matches []string
		for _, id := range ids {
			if strings.HasPrefix(id, prefix) {
				matches = append(matches, id)
			}
		}
		switch {
		case len(matches) == 1:
			return decode[Release](m.releases[project][matches[0]])
		case len(matches) > 1:
			if len(matches) > candidateLimit {
				matches = matches[:candidateLimit]
			}
			return nil, &AmbiguousError{Prefix: idOrPrefix, Candidates: matches}
		}
	}
	return nil, fmt.Errorf("release %s of %s: %w", idOrPrefix, project, ErrNotFound)
}

// prefixVariants is what a prefix is tried as: as given, then upper-cased
// (ULIDs are upper-case; people type them in lower case).
func prefixVariants(p string) []string {
	if up := strings.ToUpper(p); up != p {
		return []string{p, up}
	}
	return []string{p}
}

// releaseIDs returns a project's release ids newest first. m.mu is held.
func (m *Memory) releaseIDs(project string) []string {
	ids := make([]string, 0, len(m.releases[project]))
	for id := range m.releases[project] {
		ids = append(ids, id)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	return ids
}

// LatestRelease returns the newest release of a project; ErrNotFound if it
// has none.
func (m *Memory) LatestRelease(ctx context.Context, project string) (*Release, error) {
	rs, err := m.ListReleases(ctx, project, 1)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("latest release of %s: %w", project, ErrNotFound)
	}
	return rs[0], nil
}

// ListReleases returns releases newest first, at most limit (0: all).
func (m *Memory) ListReleases(ctx context.Context, project string, limit int) ([]*Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := truncate(m.releaseIDs(project), limit)
	out := make([]*Release, 0, len(ids))
	for _, id := range ids {
		r, err := decode[Release](m.releases[project][id])
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// CreateDeployment stores a new deployment (Version becomes 1), giving it
// an id and start time when they are unset; ErrExists if the id is taken.
func (m *Memory) CreateDeployment(ctx context.Context, d *Deployment) error {
	if err := prepareDeployment(d, m.ids); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byID := m.deployments[d.Project]
	if byID == nil {
		byID = map[string]memDeployment{}
		m.deployments[d.Project] = byID
	}
	if _, ok := byID[d.ID]; ok {
		return fmt.Errorf("create deployment %s of %s: %w", d.ID, d.Project, ErrExists)
	}
	return m.putDeployment(byID, d, 1)
}

// putDeployment stores d with the given version. m.mu is held.
func (m *Memory) putDeployment(byID map[string]memDeployment, d *Deployment, version int64) error {
	c := *d
	c.Version = version
	data, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("encode deployment %s: %w", d.ID, err)
	}
	byID[d.ID] = memDeployment{environment: d.Environment, data: data}
	d.Version = version
	return nil
}

// UpdateDeployment replaces a deployment if its Version is unchanged since
// it was read and bumps d.Version; ErrConflict otherwise, ErrNotFound if it
// does not exist.
func (m *Memory) UpdateDeployment(ctx context.Context, d *Deployment) error {
	normaliseDeploymentTimes(d)
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.deployments[d.Project][d.ID]
	if !ok {
		return fmt.Errorf("update deployment %s of %s: %w", d.ID, d.Project, ErrNotFound)
	}
	stored, err := decode[Deployment](old.data)
	if err != nil {
		return err
	}
	if stored.Version != d.Version || stored.Environment != d.Environment {
		return fmt.Errorf("update deployment %s of %s: stored version %d, yours %d: %w",
			d.ID, d.Project, stored.Version, d.Version, ErrConflict)
	}
	return m.putDeployment(m.deployments[d.Project], d, d.Version+1)
}

// GetDeployment finds a deployment by id.
func (m *Memory) GetDeployment(ctx context.Context, project, id string) (*Deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.deployments[project][id]
	if !ok {
		return nil, fmt.Errorf("deployment %s of %s: %w", id, project, ErrNotFound)
	}
	return decode[Deployment](e.data)
}

// ListDeployments returns deployments newest first, at most limit (0:
// all); environment "" means every environment.
func (m *Memory) ListDeployments(ctx context.Context, project, environment string, limit int) ([]*Deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for id, e := range m.deployments[project] {
		if environment == "" || e.environment == environment {
			ids = append(ids, id)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ids)))
	ids = truncate(ids, limit)
	out := make([]*Deployment, 0, len(ids))
	for _, id := range ids {
		d, err := decode[Deployment](m.deployments[project][id].data)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// GetCurrent says what an environment runs now; ErrNotFound if nothing
// was ever deployed there.
func (m *Memory) GetCurrent(ctx context.Context, project, environment string) (*Current, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.current[project][environment]
	if !ok {
		return nil, fmt.Errorf("current release of %s/%s: %w", project, environment, ErrNotFound)
	}
	return decode[Current](data)
}

// ListCurrent returns the current record of every environment, by
// environment name.
func (m *Memory) ListCurrent(ctx context.Context, project string) ([]*Current, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	envs := make([]string, 0, len(m.current[project]))
	for env := range m.current[project] {
		envs = append(envs, env)
	}
	sort.Strings(envs)
	out := make([]*Current, 0, len(envs))
	for _, env := range envs {
		c, err := decode[Current](m.current[project][env])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// SetCurrent writes an environment's current record if its Version is
// unchanged (0 for the first write) and bumps c.Version; ErrConflict
// otherwise. An unset UpdatedAt is set to now.
func (m *Memory) SetCurrent(ctx context.Context, c *Current) error {
	if err := checkCurrent(c); err != nil {
		return fmt.Errorf("set current: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var stored int64
	if data, ok := m.current[c.Project][c.Environment]; ok {
		old, err := decode[Current](data)
		if err != nil {
			return err
		}
		stored = old.Version
	}
	if stored != c.Version {
		return fmt.Errorf("set current release of %s/%s: stored version %d, yours %d: %w",
			c.Project, c.Environment, stored, c.Version, ErrConflict)
	}
	next := *c
	next.Version++
	if next.UpdatedAt.IsZero() {
		next.UpdatedAt = m.now()
	}
	next.UpdatedAt = next.UpdatedAt.UTC()
	data, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("encode current of %s/%s: %w", c.Project, c.Environment, err)
	}
	if m.current[c.Project] == nil {
		m.current[c.Project] = map[string][]byte{}
	}
	m.current[c.Project][c.Environment] = data
	*c = next
	return nil
}

// AcquireLock takes the environment's lock for ttl when it is free, or
// renews it when l.Owner holds it. A lock of another owner gives a
// *LockedError, however old it is.
func (m *Memory) AcquireLock(ctx context.Context, l Lock, ttl time.Duration) (*Lock, error) {
	if err := checkLock(&l, ttl); err != nil {
		return nil, fmt.Errorf("acquire lock: %w", err)
	}
	key := l.Project + "#" + l.Environment
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.locks[key]; ok && held.Owner != l.Owner {
		return nil, fmt.Errorf("acquire lock: %w", lockedBy(held))
	}
	return m.putLock(key, l, ttl), nil
}

// putLock stores l as the lock of key with a new lease of ttl and
// returns it. m.mu is held.
func (m *Memory) putLock(key string, l Lock, ttl time.Duration) *Lock {
	now := m.now().UTC()
	l.AcquiredAt, l.ExpiresAt, l.TTL, l.Token = now, now.Add(ttl), ttl, newToken()
	l.Previous = nil
	m.locks[key] = l
	return &l
}

// TakeOverLock replaces stale by l if the lock still carries stale's
// Owner and Token.
func (m *Memory) TakeOverLock(ctx context.Context, l Lock, ttl time.Duration, stale Lock) (*Lock, error) {
	if err := checkTakeover(&l, ttl, &stale); err != nil {
		return nil, fmt.Errorf("take over lock: %w", err)
	}
	key := l.Project + "#" + l.Environment
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.locks[key]
	switch {
	case !ok:
		return nil, fmt.Errorf("take over the lock of %s/%s: it was freed meanwhile: %w", l.Project, l.Environment, ErrNotFound)
	case held.Owner != stale.Owner || held.Token != stale.Token:
		return nil, fmt.Errorf("take over the lock of %s/%s: it changed meanwhile: %w", l.Project, l.Environment, lockedBy(held))
	}
	got := m.putLock(key, l, ttl)
	stale.Previous = nil
	got.Previous = &stale
	return got, nil
}

// RenewLock extends a held lock's lease to ttl with a new Token;
// ErrConflict if the lock is no longer l.Owner's.
func (m *Memory) RenewLock(ctx context.Context, l *Lock, ttl time.Duration) error {
	if err := checkLock(l, ttl); err != nil {
		return fmt.Errorf("renew lock: %w", err)
	}
	key := l.Project + "#" + l.Environment
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.locks[key]
	if !ok || held.Owner != l.Owner {
		return fmt.Errorf("renew lock of %s/%s: no longer held by %s: %w", l.Project, l.Environment, l.Owner, ErrConflict)
	}
	now := m.now().UTC()
	held.ExpiresAt, held.TTL, held.Token = now.Add(ttl), ttl, newToken()
	m.locks[key] = held
	l.ExpiresAt, l.TTL, l.Token = held.ExpiresAt, held.TTL, held.Token
	return nil
}

// ReleaseLock frees a held lock; a lock that is no longer l.Owner's is left
// alone, and that is not an error.
func (m *Memory) ReleaseLock(ctx context.Context, l *Lock) error {
	key := l.Project + "#" + l.Environment
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.locks[key]; ok && held.Owner == l.Owner {
		delete(m.locks, key)
	}
	return nil
}

// GetLock returns the environment's lock; ErrNotFound when it is free.
func (m *Memory) GetLock(ctx context.Context, project, environment string) (*Lock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.locks[project+"#"+environment]
	if !ok {
		return nil, fmt.Errorf("lock of %s/%s: %w", project, environment, ErrNotFound)
	}
	return &held, nil
}

// BreakLock frees u.Freed if it is still the environment's lock (same
// Owner) and stores u, in one step.
func (m *Memory) BreakLock(ctx context.Context, u *Unlock) error {
	if err := prepareUnlock(u, m.ids); err != nil {
		return fmt.Errorf("free lock: %w", err)
	}
	data, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode unlock %s: %w", u.ID, err)
	}
	key := u.Project + "#" + u.Environment
	m.mu.Lock()
	defer m.mu.Unlock()
	held, ok := m.locks[key]
	switch {
	case !ok:
		return fmt.Errorf("free the lock of %s/%s: it is free already: %w", u.Project, u.Environment, ErrNotFound)
	case held.Owner != u.Freed.Owner:
		return fmt.Errorf("free the lock of %s/%s: it changed hands, %w: %w", u.Project, u.Environment, ErrConflict, lockedBy(held))
	}
	delete(m.locks, key)
	m.unlocks[u.Project] = append(m.unlocks[u.Project], data)
	return nil
}

// ListUnlocks returns the locks freed by hand, newest first, at most
// limit (0: all); environment "" means every environment.
func (m *Memory) ListUnlocks(ctx context.Context, project, environment string, limit int) ([]*Unlock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Unlock
	for _, data := range m.unlocks[project] {
		u, err := decode[Unlock](data)
		if err != nil {
			return nil, err
		}
		if environment == "" || u.Environment == environment {
			out = append(out, u)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func decode[T any](data []byte) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decode stored %T: %w", v, err)
	}
	return v, nil
}

func truncate(ids []string, limit int) []string {
	if limit > 0 && len(ids) > limit {
		return ids[:limit]
	}
	return ids
}
