package deploy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// skewed is a run's view of the test's clock: off by offset, ticking
// alike.
type skewed struct {
	*clocktest.Clock
	offset time.Duration
}

func (s skewed) Now() time.Time { return s.Clock.Now().Add(s.offset) }

// lockStores returns the history store a run uses, seeing time through
// now: one store, or one table, for every run of a test.
type lockStores func(t *testing.T, now func() time.Time) history.Store

// memoryStores shares one history.Memory between the runs.
func memoryStores(t *testing.T) lockStores {
	m := history.NewMemory()
	return func(*testing.T, func() time.Time) history.Store { return m }
}

// lockWorld is the fixture's project and fake AWS, without a Deployer.
func lockWorld() *world {
	w := newWorld()
	for _, img := range testProject().Images {
		w.push(img.Repository, oldDigest(img.ID), "env.stage", "env.prod")
		w.push(img.Repository, newDigest(img.ID), "latest")
	}
	w.addService("demo-stage", "api", map[string]string{"app": ecrHost + "demo/api:env.stage", "nginx": ecrHost + "demo/nginx:env.stage"})
	w.addService("demo-stage", "worker", map[string]string{"worker": ecrHost + "demo/worker:env.stage"})
	return w
}

// lockRun is one run of a lock test: a Deployer on its own clock.
type lockRun struct {
	d      *Deployer
	events *event.Recorder
	done   chan struct{}
	res    *Result
	err    error
}

func newLockRun(t *testing.T, w *world, store history.Store, c clock.Clock, lockWait time.Duration) *lockRun {
	t.Helper()
	r := &lockRun{events: &event.Recorder{}, done: make(chan struct{})}
	d, err := New(testProject(), store, WithClock(c), WithSink(r.events), WithLockWait(lockWait),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{w, p.Target.Cluster}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	return r
}

// start runs a release-deploy to stage in the background, requested by.
func (r *lockRun) start(by string) {
	go func() {
		defer close(r.done)
		r.res, r.err = r.d.ReleaseDeploy(context.Background(), ReleaseDeployInput{
			Request: Request{Environment: "stage", RequestedBy: by, CI: history.CI{BuildURL: "https://ci.example/" + by}}})
	}()
}

func (r *lockRun) warnings() string {
	var out []string
	for _, e := range r.events.OfKind(event.Warning) {
		out = append(out, e.Message)
	}
	return strings.Join(out, "\n")
}

// skews are the clock offsets of the holder and the challenger the lock
// tests play: a few minutes either way, and far more.
var skews = []struct {
	name               string
	holder, challenger time.Duration
}{
	{"challenger 3m fast, holder 3m slow", -3 * time.Minute, 3 * time.Minute},
	{"challenger 3m slow, holder 3m fast", 3 * time.Minute, -3 * time.Minute},
	{"challenger an hour fast, holder an hour slow", -time.Hour, time.Hour},
	{"challenger a day fast", 0, 24 * time.Hour},
}

// TestSkewedClocksNeverTakeOverALiveLock: a holder that renews its lock
// keeps it for ten leases while a challenger whose clock is minutes (or
// a day) ahead waits for it; the challenger gets it only once the
// holder frees it, and takes nothing over.
func TestSkewedClocksNeverTakeOverALiveLock(t *testing.T) {
	t.Parallel()
	for _, sk := range skews {
		t.Run(sk.name, func(t *testing.T) {
			t.Parallel()
			testLiveLockKept(t, memoryStores(t), sk.holder, sk.challenger)
		})
	}
}

// TestSkewedClocksTakeOverADeadLockAfterOneLease: a lock its run stopped
// renewing (the run died) is taken over by a challenger, whatever the
// two clocks' offsets, once the challenger has seen it unchanged for the
// lease and the margin on its own clock, and not before.
func TestSkewedClocksTakeOverADeadLockAfterOneLease(t *testing.T) {
	t.Parallel()
	for _, sk := range skews {
		t.Run(sk.name, func(t *testing.T) {
			t.Parallel()
			testDeadLockTakenOver(t, memoryStores(t), sk.holder, sk.challenger)
		})
	}
}

// lockStep is how far the tests move the clock at a time.
const lockStep = time.Second

func testLiveLockKept(t *testing.T, stores lockStores, holderSkew, challengerSkew time.Duration) {
	clock := newFakeClock()
	w := lockWorld()
	waiting, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	w.onWait = func() error {
		first := false
		once.Do(func() { first = true })
		if first { // the holder waits for ECS until the test lets it go
			close(waiting)
			<-release
		}
		return nil
	}
	hc, cc := skewed{clock, holderSkew}, skewed{clock, challengerSkew}
	holder := newLockRun(t, w, stores(t, hc.Now), hc, 0)
	challenger := newLockRun(t, w, stores(t, cc.Now), cc, time.Hour)
	holder.start("holder")
	<-waiting
	clock.WaitUntilWaiting(t, 1, holder.done) // the holder's heartbeat
	challenger.start("challenger")
	clock.WaitUntilWaiting(t, 2, challenger.done) // and the challenger's lock wait

	for elapsed := time.Duration(0); elapsed < 10*DefaultLockTTL; elapsed += lockStep {
		clock.Advance(lockStep)
		clock.WaitUntilWaiting(t, 2, challenger.done)
		if closed(challenger.done) {
			t.Fatalf("after %s the challenger ended (%v) while the holder still renewed its lock\nchallenger's warnings:\n%s",
				elapsed, challenger.err, challenger.warnings())
		}
	}
	l, err := stores(t, clock.Now).GetLock(context.Background(), "demo", "stage")
	if err != nil || l.RequestedBy != "holder" {
		t.Fatalf("lock after ten leases of renewals: got %+v, %v; want the holder's", l, err)
	}

	close(release)
	<-holder.done
	for !closed(challenger.done) {
		clock.Advance(lockStep)
		clock.WaitUntilWaiting(t, 1, challenger.done)
	}
	if holder.err != nil || holder.res.Status != history.StatusSucceeded {
		t.Errorf("holder: got %v, %s; want it to succeed, never fenced", holder.err, holder.res.Status)
	}
	if challenger.err != nil || challenger.res.Status != history.StatusSucceeded {
		t.Errorf("challenger: got %v; want it to deploy once the holder freed the lock", challenger.err)
	}
	if got := challenger.warnings(); strings.Contains(got, "took over") {
		t.Errorf("the challenger took a live lock over:\n%s", got)
	}
	if got := holder.warnings(); strings.Contains(got, "lost the environment lock") {
		t.Errorf("the holder lost its lock:\n%s", got)
	}
}

func testDeadLockTakenOver(t *testing.T, stores lockStores, deadSkew, challengerSkew time.Duration) {
	ctx := context.Background()
	clock := newFakeClock()
	dc, cc := skewed{clock, deadSkew}, skewed{clock, challengerSkew}
	dead := history.Lock{Project: "demo", Environment: "stage", Owner: "dead-run", RequestedBy: "dead-run@ci", BuildURL: "https://ci.example/41"}
	if _, err := stores(t, dc.Now).AcquireLock(ctx, dead, DefaultLockTTL); err != nil {
		t.Fatal(err)
	}
	challenger := newLockRun(t, lockWorld(), stores(t, cc.Now), cc, time.Hour)
	firstSeen := clock.Now()
	challenger.start("challenger")
	clock.WaitUntilWaiting(t, 1, challenger.done)

	var takenAt time.Time
	for !closed(challenger.done) {
		if takenAt.IsZero() {
			l, err := stores(t, clock.Now).GetLock(ctx, "demo", "stage")
			if err == nil && l.Owner != "dead-run" {
				takenAt = clock.Now()
			}
		}
		clock.Advance(lockStep)
		clock.WaitUntilWaiting(t, 1, challenger.done)
	}
	if challenger.err != nil || challenger.res.Status != history.StatusSucceeded {
		t.Fatalf("challenger: got %v; want it to take the dead run's lock over and deploy", challenger.err)
	}
	if takenAt.IsZero() {
		takenAt = clock.Now()
	}
	wait, least := takenAt.Sub(firstSeen), DefaultLockTTL+lockMargin(DefaultLockTTL)
	if wait < least || wait > least+DefaultPollInterval+2*lockStep {
		t.Errorf("the dead run's lock was taken over %s after the challenger first saw it; want after its lease and margin, %s, and within a poll of it", wait, least)
	}
	if got, want := challenger.warnings(), "took over the lock of dead-run@ci (https://ci.example/41), whose lease expired: this run saw it unrenewed for "; !strings.Contains(got, want) {
		t.Errorf("challenger's warnings lack %q:\n%s", want, got)
	}
}

// TestLockTTLHasAMinimum: a lease below MinLockTTL is refused by New,
// saying what to write; MinLockTTL itself is fine.
func TestLockTTLHasAMinimum(t *testing.T) {
	t.Parallel()
	store := history.NewMemory()
	if _, err := New(testProject(), store, WithLockTTL(MinLockTTL)); err != nil {
		t.Errorf("New with the shortest lease: %v", err)
	}
	for _, ttl := range []time.Duration{MinLockTTL - time.Nanosecond, time.Second} {
		_, err := New(testProject(), store, WithLockTTL(ttl))
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "is below the minimum, 3s") || !strings.Contains(err.Error(), "use the default 2m0s") {
			t.Errorf("New with a lease of %s: got %v, want ErrInvalidInput naming the minimum and the default", ttl, err)
		}
	}
}

// TestLockTTLHasAMaximum: a lease above MaxLockTTL is refused by New,
// saying what to write; MaxLockTTL itself is fine.
func TestLockTTLHasAMaximum(t *testing.T) {
	t.Parallel()
	store := history.NewMemory()
	if _, err := New(testProject(), store, WithLockTTL(MaxLockTTL)); err != nil {
		t.Errorf("New with the longest lease: %v", err)
	}
	for _, ttl := range []time.Duration{MaxLockTTL + time.Nanosecond, 2562047 * time.Hour} {
		_, err := New(testProject(), store, WithLockTTL(ttl))
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "is above the maximum, 10m0s") || !strings.Contains(err.Error(), "use the default 2m0s") {
			t.Errorf("New with a lease of %s: got %v, want ErrInvalidInput naming the maximum and the default", ttl, err)
		}
	}
}

// TestWhoNamesTheBuildOnce: a run is named by its requester and its
// build URL, once when the requester names the build already.
func TestWhoNamesTheBuildOnce(t *testing.T) {
	t.Parallel()
	const url = "https://buildkite.com/acme/shop/builds/41"
	for _, tc := range []struct{ by, url, want string }{
		{"", "", "an unknown requester"},
		{"alice@laptop", "", "alice@laptop"},
		{"alice via buildkite", url, "alice via buildkite (" + url + ")"},
		{"alice via Buildkite (" + url + ")", url, "alice via Buildkite (" + url + ")"},
	} {
		if got := who(tc.by, tc.url); got != tc.want {
			t.Errorf("who(%q, %q) = %q, want %q", tc.by, tc.url, got, tc.want)
		}
	}
}
