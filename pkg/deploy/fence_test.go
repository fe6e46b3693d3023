package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/history/historytest"
)

// signalSink closes fired the first time an event matching match is
// emitted, besides recording every event.
type signalSink struct {
	*event.Recorder
	match func(event.Event) bool
	once  sync.Once
	fired chan struct{}
}

func (s *signalSink) Emit(e event.Event) {
	s.Recorder.Emit(e)
	if s.match(e) {
		s.once.Do(func() { close(s.fired) })
	}
}

// fencedRun is a release-deploy to stage held inside its first service
// update (concurrency 1) until the test lets it go, on a step clock, with
// a sink that says when the run is fenced.
type fencedRun struct {
	*lockRun
	clock   *clocktest.Clock
	w       *world
	store   history.Store
	fenced  *signalSink
	inside  chan struct{} // closed when the run is inside its first update
	release chan struct{}
}

func newFencedRun(t *testing.T, store history.Store) *fencedRun {
	t.Helper()
	f := &fencedRun{clock: newFakeClock(), w: lockWorld(), store: store,
		inside: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	f.w.onRedeploy = func(string) error {
		once.Do(func() {
			close(f.inside)
			<-f.release
		})
		return nil
	}
	f.lockRun = &lockRun{events: &event.Recorder{}, done: make(chan struct{})}
	f.fenced = &signalSink{Recorder: f.events, fired: make(chan struct{}),
		match: func(e event.Event) bool {
			return e.Kind == event.Warning && strings.Contains(e.Message, ErrLockLost.Error())
		}}
	d, err := New(testProject(), store, WithClock(f.clock), WithSink(f.fenced), WithLockWait(0), WithConcurrency(1),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{f.w, p.Target.Cluster}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	f.start("alice")
	<-f.inside
	f.clock.WaitUntilWaiting(t, 1, f.done) // the heartbeat
	return f
}

// untilFenced moves the clock until the run says it lost its lock.
func (f *fencedRun) untilFenced(t *testing.T) {
	t.Helper()
	for !closed(f.fenced.fired) {
		f.clock.Advance(lockStep)
		f.clock.WaitUntilWaiting(t, 1, f.fenced.fired)
	}
}

// check lets the held update go and checks that the fenced run changed
// nothing more: no service updated, the current record not set, its own
// record closed as failed saying why (want), and the error it returned.
func (f *fencedRun) check(t *testing.T, want string) {
	t.Helper()
	close(f.release)
	<-f.done
	if !errors.Is(f.err, ErrLockLost) || !strings.Contains(f.err.Error(), want) {
		t.Errorf("error: got %v, want ErrLockLost saying %q", f.err, want)
	}
	for _, c := range f.w.sideEffects() {
		if strings.HasPrefix(c, "UpdateService") || strings.HasPrefix(c, "RegisterTaskDefinition") {
			t.Errorf("side effect after the lock was lost: %s", c)
		}
	}
	if f.res == nil || f.res.Deployment == nil {
		t.Fatalf("result: got %+v, want the closed deployment", f.res)
	}
	rec, err := f.store.GetDeployment(context.Background(), "demo", f.res.Deployment.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != history.StatusFailed || !strings.Contains(rec.Reason, "lost the environment lock: "+want) {
		t.Errorf("record: got %s %q; want failed, saying it lost the environment lock: %s", rec.Status, rec.Reason, want)
	}
	for _, so := range rec.Services {
		if so.ECSDeployment != "" {
			t.Errorf("record: service %s updated (%s) after the lock was lost", so.Service, so.ECSDeployment)
		}
	}
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current record: got %v, want none set by a run that lost its lock", err)
	}
	if fin := f.events.OfKind(event.Finished); len(fin) != 1 || fin[0].Outcome != string(history.StatusFailed) {
		t.Errorf("finished events: got %+v, want one, failed", fin)
	}
}

// TestUnlockFencesTheHolderAtItsNextRenewal: the lock of a run inside a
// service update is freed by hand (buoy unlock); its next renewal finds
// the lock no longer its own, and the run stops there: the update it was
// about to send is not sent, nothing else happens, and its record, closed
// as failed, names who freed the lock and why.
func TestUnlockFencesTheHolderAtItsNextRenewal(t *testing.T) {
	t.Parallel()
	f := newFencedRun(t, history.NewMemory())
	ctx := context.Background()
	held, err := f.store.GetLock(ctx, "demo", "stage")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.BreakLock(ctx, &history.Unlock{Project: "demo", Environment: "stage", RequestedBy: "ops@laptop",
		Reason: "the deploy is stuck", Freed: *held}); err != nil {
		t.Fatal(err)
	}
	f.untilFenced(t)
	if got := f.clock.Now().Sub(held.AcquiredAt); got > DefaultLockTTL/3+lockStep {
		t.Errorf("fenced %s after taking the lock; want at its next renewal, %s", got, DefaultLockTTL/3)
	}
	f.check(t, "ops@laptop freed it with buoy unlock at ")
	if rec := f.res.Deployment; !strings.Contains(rec.Reason, ": the deploy is stuck") {
		t.Errorf("record's reason %q does not give the unlock's reason", rec.Reason)
	}
}

// TestTakeoverFencesTheHolder: another run took the lock over (as after
// a takeover the holder did not see coming); the holder's next renewal
// says who holds it now, and the holder stops.
func TestTakeoverFencesTheHolder(t *testing.T) {
	t.Parallel()
	f := newFencedRun(t, history.NewMemory())
	ctx := context.Background()
	held, err := f.store.GetLock(ctx, "demo", "stage")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.TakeOverLock(ctx, history.Lock{Project: "demo", Environment: "stage", Owner: "bob-run",
		RequestedBy: "bob", BuildURL: "https://ci.example/7"}, time.Minute, *held); err != nil {
		t.Fatal(err)
	}
	f.untilFenced(t)
	f.check(t, "bob (https://ci.example/7) holds it now")
}

// TestExpiredLeaseFencesTheRun: no renewal succeeds; the run stops when
// its own lease ends by its own clock (a lease counted from when it sent
// the acquire), before anyone could take over, and says why.
func TestExpiredLeaseFencesTheRun(t *testing.T) {
	t.Parallel()
	// Lock renewals fail, as when DynamoDB is out of reach (or a proxy
	// holds the calls) for the holder alone.
	store := historytest.NewFaulty(history.NewMemory())
	store.BeforeWrite(func(op string) error {
		if op == "RenewLock" {
			return errors.New("dial tcp: connection refused")
		}
		return nil
	})
	f := newFencedRun(t, store)
	start := f.clock.Now()
	f.untilFenced(t)
	if got := f.clock.Now().Sub(start); got < DefaultLockTTL || got > DefaultLockTTL+lockStep {
		t.Errorf("fenced %s after taking the lock; want when its %s lease ran out", got, DefaultLockTTL)
	}
	if w := f.warnings(); !strings.Contains(w, "could not renew the environment lock") {
		t.Errorf("warnings do not say the renewals failed:\n%s", w)
	}
	f.check(t, "no renewal succeeded within its 2m0s lease, so another run may take it over (last renewal: dial tcp: connection refused)")
}

// TestRecordWriteFailureStopsTheRun: the first progress write after a
// tag move fails; the run stops at once: no service is updated, the
// current record is not set, the error (not success) is returned, and
// the closing write still happens, saying why.
func TestRecordWriteFailureStopsTheRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var updates atomic.Int32
	f.store.BeforeWrite(func(op string) error {
		if op != "UpdateDeployment" {
			return nil
		}
		if updates.Add(1) == 2 { // 1: the tag stage opens; 2: the first move's progress
			return errors.New("ProvisionedThroughputExceededException: too many writes")
		}
		return nil
	})
	res, err := f.releaseDeploy("stage")
	if err == nil || !strings.Contains(err.Error(), "the deployment record cannot be written") || !strings.Contains(err.Error(), "too many writes") {
		t.Fatalf("error: got %v, want the run stopped because its record could not be written", err)
	}
	if res.Status != history.StatusFailed {
		t.Errorf("status: got %s, want failed", res.Status)
	}
	for _, c := range f.w.sideEffects() {
		if strings.HasPrefix(c, "UpdateService") {
			t.Errorf("side effect after the record could not be written: %s", c)
		}
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusFailed || !strings.Contains(rec.Reason, "the deployment record cannot be written") {
		t.Errorf("record: got %s %q; want closed as failed, saying its writes failed", rec.Status, rec.Reason)
	}
	if _, err := f.store.GetCurrent(context.Background(), "demo", "stage"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("current record: got %v, want none", err)
	}
	if lockHeld(f.store, "demo", "stage") {
		t.Error("the lock is still held")
	}
}

// TestDeadRecordNeverSaysNotMoved: a run dies in the middle of its tag
// moves (at the third, with its store, one move at a time); its record,
// as it left it, says of every tag that moved that it moved or was being
// moved, never that it was not moved.
func TestDeadRecordNeverSaysNotMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithConcurrency(1))
	var mu sync.Mutex
	moves := 0
	f.w.onTag = func(string, string) error {
		mu.Lock()
		defer mu.Unlock()
		if moves++; moves == 3 {
			f.store.SetDead(true)
			return historytest.ErrDied
		}
		return nil
	}
	res, err := f.releaseDeploy("stage")
	if !errors.Is(err, historytest.ErrDied) && !strings.Contains(fmt.Sprint(err), historytest.ErrDied.Error()) {
		t.Fatalf("the dying run: got %v, want it to die", err)
	}
	dead := f.deployment(res.Deployment.ID)
	if dead.Status != history.StatusInProgress {
		t.Fatalf("the dead run's record: got %s, want in progress as it left it", dead.Status)
	}
	moved := 0
	for _, img := range f.project.Images {
		tm := dead.Images[img.ID]
		if f.w.tagged(img.Repository, "env.stage") == newDigest(img.ID) {
			moved++
			if (!tm.Moved || !tm.Done) && !tm.Moving {
				t.Errorf("image %s: its tag moved, but the dead record says %+v (not moved)", img.ID, tm)
			}
		}
		if !tm.Done && !tm.Moving {
			t.Errorf("image %s: the dead record says not moved (%+v); it was being moved", img.ID, tm)
		}
	}
	if moved != 2 {
		t.Errorf("tags moved before the run died: got %d, want 2", moved)
	}
}

// slowWrites is a store whose deployment record writes wait for a gate
// and are counted: how many at once, and what each carried.
type slowWrites struct {
	history.Store
	gate func(n int) // runs before write n (1-based)

	mu       sync.Mutex
	n, now   int
	most     int
	carrying []int // tags moved in each write
}

func (s *slowWrites) UpdateDeployment(ctx context.Context, d *history.Deployment) error {
	s.mu.Lock()
	s.n++
	n := s.n
	s.now++
	s.most = max(s.most, s.now)
	moved := 0
	for _, tm := range d.Images {
		if tm.Moved {
			moved++
		}
	}
	s.carrying = append(s.carrying, moved)
	s.mu.Unlock()
	s.gate(n)
	err := s.Store.UpdateDeployment(ctx, d)
	s.mu.Lock()
	s.now--
	s.mu.Unlock()
	return err
}

// TestProgressWritesAreCoalesced: while a progress write is in flight the
// other tag moves go on; no second write starts, and the next one carries
// every move made since. The record ends with every move.
func TestProgressWritesAreCoalesced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	allMoved := make(chan struct{})
	var mu sync.Mutex
	moves := 0
	f.w.beforeChange = func(what string) {
		if what != "PutImage" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if moves++; moves == 3 {
			close(allMoved)
		}
	}
	store := &slowWrites{Store: f.store, gate: func(n int) {
		if n == 2 { // the first move's progress: held until every tag moved
			<-allMoved
		}
	}}
	d, err := New(f.project, store, WithClock(f.clock), WithSink(f.events), WithLockWait(0),
		WithRegistry(func(RegistryParams) (Registry, error) { return fakeRegistry{f.w}, nil }),
		WithCluster(func(p ClusterParams) (Cluster, error) { return fakeCluster{f.w, p.Target.Cluster}, nil }))
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.ReleaseDeploy(context.Background(), ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}})
	if err != nil {
		t.Fatalf("ReleaseDeploy: %v", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.most != 1 {
		t.Errorf("record writes in flight at once: got %d, want 1", store.most)
	}
	// Writes: the tag stage opens (0 moved), then the held one (1 or
	// more), then what moved meanwhile, all of it in at most two writes.
	tagWrites := 0
	for _, c := range store.carrying[1:] {
		tagWrites++
		if c == 3 {
			break
		}
	}
	if store.carrying[0] != 0 || tagWrites > 3 {
		t.Errorf("moves carried by each record write: got %v; want 0, then the three moves in at most three writes", store.carrying)
	}
	rec := f.deployment(res.Deployment.ID)
	for id, tm := range rec.Images {
		if !tm.Moved || !tm.Done || tm.Moving {
			t.Errorf("final record: image %s %+v, want moved", id, tm)
		}
	}
}
