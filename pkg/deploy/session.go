package deploy

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// session is one operation's view of AWS: its clients, made once per
// registry and target, and the count of the calls they make.
type session struct {
	d     *Deployer
	calls *awsconfig.Counter
	// storeBase is the store's call counts when the operation began.
	storeBase map[string]int

	mu         sync.Mutex
	registries map[manifest.Registry]Registry
	clusters   map[string]Cluster
	taskLogs   map[string]TaskLogs
	// budgets holds the ECS request budget of each account and Region.
	budgets map[string]*rollout.Budget

	// seen holds the registries' answers in this session, so that no
	// image is asked about twice. Digests never change what they name,
	// so they are kept all along; tags are kept only once the
	// environment's lock is held (locked), when nobody else moves them.
	seenMu sync.Mutex
	seen   map[lookupKey]*history.ImageRef
	locked bool

	// lease is the environment's lock once held: every side effect is
	// made through it (lease.do).
	lease *heldLock
}

// lookupKey is one question to a registry: a tag or a digest of a
// repository.
type lookupKey struct {
	registry   manifest.Registry
	repository string
	tag        string
	digest     string
}

// newSession starts an operation's session and returns the context its
// AWS calls are made with: every call made with it, through the session's
// clients or through a history store whose configuration counts from the
// context (Open's does), is counted in the session's stats.
func (d *Deployer) newSession(ctx context.Context) (*session, context.Context) {
	var base map[string]int
	if d.storeCalls != nil {
		base = d.storeCalls.Stats()
	}
	s := &session{
		d:          d,
		storeBase:  base,
		calls:      &awsconfig.Counter{},
		registries: map[manifest.Registry]Registry{},
		clusters:   map[string]Cluster{},
		taskLogs:   map[string]TaskLogs{},
		budgets:    map[string]*rollout.Budget{},
		seen:       map[lookupKey]*history.ImageRef{},
	}
	return s, awsconfig.WithCounter(ctx, s.calls)
}

func (s *session) config(ctx context.Context, t manifest.Target) (aws.Config, error) {
	cfg, err := s.d.awsConfig(ctx, t)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration for region %q role %q: %w", t.Region, t.RoleARN, err)
	}
	cfg = cfg.Copy()
	awsconfig.CountFromContext(&cfg)
	return cfg, nil
}

func (s *session) registry(ctx context.Context, img *manifest.Image) (Registry, error) {
	key := s.d.project.RegistryOf(img)
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.registries[key]; ok {
		return r, nil
	}
	cfg, err := s.config(ctx, manifest.Target{Region: key.Region, RoleARN: key.RoleARN})
	if err != nil {
		return nil, err
	}
	r, err := s.d.newRegistry(RegistryParams{Config: cfg, Registry: key, Logger: s.d.log})
	if err != nil {
		return nil, fmt.Errorf("ECR client for account %q region %q: %w", key.AccountID, key.Region, err)
	}
	s.registries[key] = r
	return r, nil
}

func (s *session) cluster(ctx context.Context, t manifest.Target) (Cluster, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clusters[targetKey(t)]; ok {
		return c, nil
	}
	cfg, err := s.config(ctx, t)
	if err != nil {
		return nil, err
	}
	c, err := s.d.newCluster(ClusterParams{
		Config: cfg, Target: t, Sink: s.d.sink, Logger: s.d.log,
		Clock: s.d.clock, PollInterval: s.d.pollInterval,
		RequestRate: s.d.ecsRate, RequestBurst: s.d.ecsBurst, Budget: s.budget(cfg.Region, t.RoleARN),
	})
	if err != nil {
		return nil, fmt.Errorf("ECS client for %s: %w", where(t), err)
	}
	s.clusters[targetKey(t)] = c
	return c, nil
}

// logs returns the CloudWatch Logs reader of target t.
func (s *session) logs(ctx context.Context, t manifest.Target) (TaskLogs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.taskLogs[targetKey(t)]; ok {
		return l, nil
	}
	cfg, err := s.config(ctx, t)
	if err != nil {
		return nil, err
	}
	l, err := s.d.newTaskLogs(ClusterParams{Config: cfg, Target: t, Sink: s.d.sink, Logger: s.d.log, Clock: s.d.clock})
	if err != nil {
		return nil, fmt.Errorf("CloudWatch Logs client for %s: %w", where(t), err)
	}
	s.taskLogs[targetKey(t)] = l
	return l, nil
}

// budget returns the ECS request budget of an account and Region, made
// the first time a target there asks (s.mu held). AWS throttles ECS per
// account and Region, so targets there share one. The account is the
// role's; targets without a role use the default credentials' account
// (a target reaching that same account through a role gets a budget of
// its own: buoy does not ask STS who it is).
func (s *session) budget(region, roleARN string) *rollout.Budget {
	key := cmp.Or(awsconfig.AccountOfRole(roleARN), roleARN) + "|" + region
	b, ok := s.budgets[key]
	if !ok {
		b = rollout.NewBudget(s.d.clock, s.d.ecsShare, s.d.ecsRate, s.d.ecsBurst)
		s.budgets[key] = b
	}
	return b
}

// lockHeld says the session now holds its environment's lock, h: tags
// read before may have moved since and are forgotten; tags read from now
// on are remembered.
func (s *session) lockHeld(h *heldLock) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	s.locked, s.lease = true, h
	for k := range s.seen {
		if k.tag != "" {
			delete(s.seen, k)
		}
	}
}

func (s *session) lookupKey(q ImageQuery) lookupKey {
	k := lookupKey{registry: s.d.project.RegistryOf(q.Image), repository: q.Image.Repository, digest: q.Digest}
	if q.Digest == "" {
		k.tag = q.Tag
	}
	return k
}

// recall returns the answer to q given earlier in this session, if any.
func (s *session) recall(q ImageQuery) (*history.ImageRef, bool) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	ref, ok := s.seen[s.lookupKey(q)]
	if ok && ref != nil {
		c := *ref
		c.Tag = q.Tag
		return &c, true
	}
	return nil, ok
}

// remember keeps the answer to q (nil: no such image) and, for a tag,
// the image it names by digest.
func (s *session) remember(q ImageQuery, ref *history.ImageRef) {
	s.seenMu.Lock()
	defer s.seenMu.Unlock()
	k := s.lookupKey(q)
	if k.tag == "" || s.locked {
		s.seen[k] = ref
	}
	if ref != nil && ref.Digest != "" {
		c := *ref
		c.Tag = ""
		s.seen[lookupKey{registry: k.registry, repository: k.repository, digest: ref.Digest}] = &c
	}
}

// resolve runs queries against the registries of their images, one batch
// per registry, and returns the answers in order. Questions answered
// earlier in the session are not asked again.
func (s *session) resolve(ctx context.Context, queries []ImageQuery) ([]*history.ImageRef, error) {
	out := make([]*history.ImageRef, len(queries))
	groups := map[manifest.Registry][]int{}
	var order []manifest.Registry
	for i, q := range queries {
		if ref, ok := s.recall(q); ok {
			out[i] = ref
			continue
		}
		k := s.d.project.RegistryOf(q.Image)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		reg, err := s.registry(ctx, queries[idx[0]].Image)
		if err != nil {
			return nil, err
		}
		batch := make([]ImageQuery, len(idx))
		for j, i := range idx {
			batch[j] = queries[i]
		}
		refs, err := reg.Resolve(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("look up images in ECR: %w", err)
		}
		if len(refs) != len(batch) {
			return nil, fmt.Errorf("look up images in ECR: got %d answers for %d images", len(refs), len(batch))
		}
		for j, i := range idx {
			out[i] = refs[j]
			s.remember(queries[i], refs[j])
		}
	}
	return out, nil
}

// stats returns the AWS calls counted so far, by "Service.Operation".
func (s *session) stats() map[string]int {
	out := s.calls.Stats()
	if s.d.storeCalls != nil {
		for k, n := range s.d.storeCalls.Stats() {
			if n -= s.storeBase[k]; n > 0 {
				out[k] += n
			}
		}
	}
	return out
}

// TargetConfig returns a function that makes each target's aws.Config
// from base: the target's region when set, and its role assumed (with
// credentials refreshed before they expire) when set.
func TargetConfig(base aws.Config) func(ctx context.Context, t manifest.Target) (aws.Config, error) {
	return func(_ context.Context, t manifest.Target) (aws.Config, error) {
		return awsconfig.ForTarget(base, t.Region, t.RoleARN), nil
	}
}

func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// targetKey identifies a target: its cluster in its region and account.
func targetKey(t manifest.Target) string {
	return t.Cluster + "|" + t.Region + "|" + t.RoleARN
}
