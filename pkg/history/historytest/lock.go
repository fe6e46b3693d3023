package historytest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

func lock(owner string) history.Lock {
	return history.Lock{Project: "search", Environment: "prod", Owner: owner, RequestedBy: owner + "@example.com", BuildURL: "https://ci.example/" + owner}
}

// lockedBy returns the lock a *LockedError shows, failing the test when
// err is not one.
func lockedBy(t *testing.T, what string, err error) history.Lock {
	t.Helper()
	var locked *history.LockedError
	if !errors.As(err, &locked) || !errors.Is(err, history.ErrLocked) {
		t.Fatalf("%s: got %v, want a *history.LockedError", what, err)
	}
	return locked.Held
}

func testLockLifecycle(t *testing.T, e env) {
	a, err := e.store.AcquireLock(e.ctx, lock("run-a"), time.Minute)
	if err != nil {
		t.Fatalf("AcquireLock: %v", err)
	}
	if !a.AcquiredAt.Equal(start) || !a.ExpiresAt.Equal(start.Add(time.Minute)) || a.TTL != time.Minute || a.Token == "" {
		t.Errorf("lease: got %v to %v, TTL %v, token %q; want %v to %v, 1m, a token", a.AcquiredAt, a.ExpiresAt, a.TTL, a.Token, start, start.Add(time.Minute))
	}
	_, err = e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute)
	held := lockedBy(t, "AcquireLock of a held lock", err)
	if held.Owner != "run-a" || held.RequestedBy != "run-a@example.com" || !held.ExpiresAt.Equal(a.ExpiresAt) || held.Token != a.Token || held.TTL != time.Minute {
		t.Errorf("LockedError holder: got %+v, want run-a until %v, token %q, TTL 1m", held, a.ExpiresAt, a.Token)
	}
	if !strings.Contains(err.Error(), "run-a@example.com") {
		t.Errorf("LockedError message %q does not name the holder", err)
	}
	if got, err := e.store.GetLock(e.ctx, "search", "prod"); err != nil || got.Owner != "run-a" || got.Token != a.Token {
		t.Errorf("GetLock: got %+v, %v; want run-a's lock, token %q", got, err, a.Token)
	}
	if _, err := e.store.GetLock(e.ctx, "search", "qa"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetLock of a free environment: got %v, want ErrNotFound", err)
	}
	other := lock("run-b")
	other.Environment = "stage"
	if _, err := e.store.AcquireLock(e.ctx, other, time.Minute); err != nil {
		t.Errorf("AcquireLock of another environment: %v", err)
	}

	e.clock.Advance(50 * time.Second)
	first := a.Token
	if err := e.store.RenewLock(e.ctx, a, 2*time.Minute); err != nil {
		t.Fatalf("RenewLock: %v", err)
	}
	if want := start.Add(170 * time.Second); !a.ExpiresAt.Equal(want) || a.TTL != 2*time.Minute {
		t.Errorf("renewed lease: ends %v, TTL %v; want %v, 2m", a.ExpiresAt, a.TTL, want)
	}
	if a.Token == first || a.Token == "" {
		t.Errorf("token after a renewal: got %q, want a new one (was %q)", a.Token, first)
	}
	if got, err := e.store.GetLock(e.ctx, "search", "prod"); err != nil || got.Token != a.Token || got.TTL != 2*time.Minute {
		t.Errorf("GetLock after the renewal: got %+v, %v; want token %q, TTL 2m", got, err, a.Token)
	}

	// Time alone frees nothing: the store compares no clocks.
	e.clock.Advance(24 * time.Hour)
	if _, err := e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute); !errors.Is(err, history.ErrLocked) {
		t.Errorf("AcquireLock a day after the lease's end by the store's clock: got %v, want ErrLocked", err)
	}
	again, err := e.store.AcquireLock(e.ctx, lock("run-a"), time.Minute)
	if err != nil {
		t.Errorf("AcquireLock by its own holder: %v", err)
	} else if again.Owner != "run-a" || again.Previous != nil {
		t.Errorf("re-acquired lock: got owner %q, previous %+v; want run-a, nothing taken over", again.Owner, again.Previous)
	}
	notMine := lock("run-b")
	if err := e.store.ReleaseLock(e.ctx, &notMine); err != nil {
		t.Errorf("ReleaseLock of someone else's lock: got %v, want nil", err)
	}
	if _, err := e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute); !errors.Is(err, history.ErrLocked) {
		t.Errorf("lock after someone else released it: got %v, want still ErrLocked", err)
	}
	if err := e.store.ReleaseLock(e.ctx, a); err != nil {
		t.Fatalf("ReleaseLock: %v", err)
	}
	if _, err := e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute); err != nil {
		t.Errorf("AcquireLock after release: %v", err)
	}
}

func testLockTakeover(t *testing.T, e env) {
	dead, err := e.store.AcquireLock(e.ctx, lock("dead-run"), time.Minute)
	if err != nil {
		t.Fatalf("AcquireLock: %v", err)
	}
	_, err = e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute)
	seen := lockedBy(t, "AcquireLock of the dead run's lock", err)
	b, err := e.store.TakeOverLock(e.ctx, lock("run-b"), time.Minute, seen)
	if err != nil {
		t.Fatalf("TakeOverLock of the lock as seen: %v", err)
	}
	if b.Owner != "run-b" || b.Token == "" || b.Token == seen.Token || b.TTL != time.Minute {
		t.Errorf("lock after takeover: got %+v, want run-b's with a new token and a TTL of 1m", b)
	}
	if dead.Previous != nil {
		t.Errorf("Previous of a lock nobody held: got %+v, want nil", dead.Previous)
	}
	if p := b.Previous; p == nil || p.Owner != "dead-run" || p.RequestedBy != "dead-run@example.com" || p.BuildURL != "https://ci.example/dead-run" || !p.ExpiresAt.Equal(dead.ExpiresAt) {
		t.Errorf("Previous after takeover: got %+v, want the dead run's lock %+v", p, dead)
	}
	if err := e.store.RenewLock(e.ctx, dead, time.Minute); !errors.Is(err, history.ErrConflict) {
		t.Errorf("RenewLock by the run that lost it: got %v, want ErrConflict", err)
	}
	if err := e.store.ReleaseLock(e.ctx, dead); err != nil {
		t.Errorf("ReleaseLock by the run that lost it: got %v, want nil", err)
	}
	_, err = e.store.AcquireLock(e.ctx, lock("run-c"), time.Minute)
	seenB := lockedBy(t, "AcquireLock after the old owner's release (run-b holds it)", err)

	// run-b renews: what run-c saw is stale, and its takeover is refused.
	if err := e.store.RenewLock(e.ctx, b, time.Minute); err != nil {
		t.Fatalf("RenewLock: %v", err)
	}
	_, err = e.store.TakeOverLock(e.ctx, lock("run-c"), time.Minute, seenB)
	if now := lockedBy(t, "TakeOverLock of a lock renewed since it was seen", err); now.Owner != "run-b" || now.Token != b.Token {
		t.Errorf("TakeOverLock of a renewed lock: got holder %+v, want run-b with its new token %q", now, b.Token)
	}
	if got, err := e.store.GetLock(e.ctx, "search", "prod"); err != nil || got.Owner != "run-b" || got.Token != b.Token {
		t.Errorf("lock after a refused takeover: got %+v, %v; want run-b's, unchanged", got, err)
	}
	if err := e.store.ReleaseLock(e.ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.TakeOverLock(e.ctx, lock("run-c"), time.Minute, seenB); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("TakeOverLock of a freed lock: got %v, want ErrNotFound", err)
	}
}

func testLockRace(t *testing.T, e env) {
	const n = 2
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = e.store.AcquireLock(e.ctx, lock(fmt.Sprintf("run-%d", i)), time.Minute)
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range results {
		var locked *history.LockedError
		switch {
		case err == nil:
			won++
		case errors.As(err, &locked):
			if locked.Held.Owner == fmt.Sprintf("run-%d", i) || locked.Held.Owner == "" {
				t.Errorf("loser %d: LockedError names holder %q, want the winner", i, locked.Held.Owner)
			}
		default:
			t.Errorf("racer %d: got %v, want nil or a *LockedError", i, err)
		}
	}
	if won != 1 {
		t.Errorf("racing for one lock: %d winners, want exactly 1", won)
	}
}

// testLockTakeoverRace: two runs that watched the same dead lock take it
// over at once: exactly one gets it.
func testLockTakeoverRace(t *testing.T, e env) {
	if _, err := e.store.AcquireLock(e.ctx, lock("dead-run"), time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := e.store.AcquireLock(e.ctx, lock("watcher"), time.Minute)
	seen := lockedBy(t, "AcquireLock of the dead run's lock", err)
	const n = 2
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = e.store.TakeOverLock(e.ctx, lock(fmt.Sprintf("run-%d", i)), time.Minute, seen)
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range results {
		var locked *history.LockedError
		switch {
		case err == nil:
			won++
		case errors.As(err, &locked):
			if locked.Held.Owner != fmt.Sprintf("run-%d", 1-i) {
				t.Errorf("loser %d: LockedError names holder %q, want the winner run-%d", i, locked.Held.Owner, 1-i)
			}
		default:
			t.Errorf("racer %d: got %v, want nil or a *LockedError", i, err)
		}
	}
	if won != 1 {
		t.Errorf("racing to take over one lock: %d winners, want exactly 1", won)
	}
}

// testUnlock: a lock freed by hand is freed whoever holds it, also after
// renewals, never when it changed hands, and the store keeps who freed
// it, when, why and whose it was.
func testUnlock(t *testing.T, e env) {
	a, err := e.store.AcquireLock(e.ctx, lock("run-a"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := e.store.GetLock(e.ctx, "search", "prod")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Second)
	if err := e.store.RenewLock(e.ctx, a, time.Minute); err != nil {
		t.Fatal(err)
	}
	u := &history.Unlock{Project: "search", Environment: "prod", RequestedBy: "ops@laptop", Reason: "run 41 was killed",
		CI: history.CI{Provider: "buildkite", BuildURL: "https://ci.example/42"}, Freed: *seen}
	if err := e.store.BreakLock(e.ctx, u); err != nil {
		t.Fatalf("BreakLock of a lock renewed since it was read: %v", err)
	}
	if len(u.ID) != 26 || !u.At.Equal(start.Add(20*time.Second)) {
		t.Errorf("unlock record: id %q, at %v; want a ULID, %v", u.ID, u.At, start.Add(20*time.Second))
	}
	if _, err := e.store.GetLock(e.ctx, "search", "prod"); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("GetLock after BreakLock: got %v, want ErrNotFound", err)
	}
	if err := e.store.RenewLock(e.ctx, a, time.Minute); !errors.Is(err, history.ErrConflict) {
		t.Errorf("RenewLock by the run whose lock was freed: got %v, want ErrConflict", err)
	}
	got, err := e.store.ListUnlocks(e.ctx, "search", "prod", 0)
	if err != nil {
		t.Fatalf("ListUnlocks: %v", err)
	}
	if len(got) != 1 || got[0].ID != u.ID || got[0].RequestedBy != "ops@laptop" || got[0].Reason != "run 41 was killed" ||
		got[0].CI != u.CI || !got[0].At.Equal(u.At) || got[0].Freed.Owner != "run-a" || got[0].Freed.RequestedBy != "run-a@example.com" ||
		got[0].Freed.BuildURL != "https://ci.example/run-a" || !got[0].Freed.ExpiresAt.Equal(seen.ExpiresAt) {
		t.Errorf("ListUnlocks: got %+v, want the one record %+v", got, u)
	}

	again := &history.Unlock{Project: "search", Environment: "prod", RequestedBy: "ops", Reason: "twice", Freed: *seen}
	if err := e.store.BreakLock(e.ctx, again); !errors.Is(err, history.ErrNotFound) {
		t.Errorf("BreakLock of a lock freed already: got %v, want ErrNotFound", err)
	}
	b, err := e.store.AcquireLock(e.ctx, lock("run-b"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stale := &history.Unlock{Project: "search", Environment: "prod", RequestedBy: "ops", Reason: "stale view", Freed: *seen}
	if err := e.store.BreakLock(e.ctx, stale); !errors.Is(err, history.ErrConflict) {
		t.Errorf("BreakLock of a lock that changed hands: got %v, want ErrConflict", err)
	}
	if held, err := e.store.GetLock(e.ctx, "search", "prod"); err != nil || held.Owner != "run-b" {
		t.Errorf("lock after a refused BreakLock: got %+v, %v; want run-b's (a newer lock is never freed)", held, err)
	}

	e.clock.Advance(time.Second)
	bLock := *b
	bLock.Previous = nil
	qa := lock("run-q")
	qa.Environment = "qa"
	q, err := e.store.AcquireLock(e.ctx, qa, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, free := range []history.Lock{bLock, *q} {
		e.clock.Advance(time.Second)
		if err := e.store.BreakLock(e.ctx, &history.Unlock{Project: "search", Environment: free.Environment, RequestedBy: "ops", Reason: "free " + free.Owner, Freed: free}); err != nil {
			t.Fatalf("BreakLock of %s: %v", free.Owner, err)
		}
	}
	tests := []struct {
		environment string
		limit       int
		want        []string // owners of the freed locks, newest first
	}{
		{"", 0, []string{"run-q", "run-b", "run-a"}},
		{"prod", 0, []string{"run-b", "run-a"}},
		{"prod", 1, []string{"run-b"}},
		{"qa", 0, []string{"run-q"}},
		{"stage", 0, nil},
	}
	for _, tc := range tests {
		us, err := e.store.ListUnlocks(e.ctx, "search", tc.environment, tc.limit)
		if err != nil {
			t.Fatalf("ListUnlocks(%q, %d): %v", tc.environment, tc.limit, err)
		}
		var owners []string
		for _, u := range us {
			owners = append(owners, u.Freed.Owner)
		}
		if strings.Join(owners, ",") != strings.Join(tc.want, ",") {
			t.Errorf("ListUnlocks(%q, %d): got %v, want %v", tc.environment, tc.limit, owners, tc.want)
		}
	}
}
