package clocktest_test

import (
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

var start = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

func fired(ch <-chan time.Time) (time.Time, bool) {
	select {
	case at := <-ch:
		return at, true
	default:
		return time.Time{}, false
	}
}

// TestWaitsEndWhenAdvanced: on New's clock a wait ends once Advance
// passes its end, not before, and time moves only with Advance.
func TestWaitsEndWhenAdvanced(t *testing.T) {
	t.Parallel()
	c := clocktest.New(start)
	ch := c.After(time.Minute)
	if _, ok := fired(ch); ok {
		t.Fatal("a one-minute wait ended before the clock moved")
	}
	c.Advance(59 * time.Second)
	if _, ok := fired(ch); ok {
		t.Fatal("a one-minute wait ended after 59 seconds")
	}
	c.Advance(time.Second)
	at, ok := fired(ch)
	if !ok || !at.Equal(start.Add(time.Minute)) {
		t.Fatalf("after a minute: got %v, %v; want the wait ended at %v", at, ok, start.Add(time.Minute))
	}
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now: got %v, want %v", got, start.Add(time.Minute))
	}
	if got := c.Sleeps(); len(got) != 0 {
		t.Errorf("Sleeps: got %v, want none (no wait ended at once)", got)
	}
}

// TestZeroWaitsEndAtOnce: a wait of zero or less ends at once on any
// clock, as time.After's does, without moving it.
func TestZeroWaitsEndAtOnce(t *testing.T) {
	t.Parallel()
	c := clocktest.New(start)
	for _, d := range []time.Duration{0, -time.Second} {
		if at, ok := fired(c.After(d)); !ok || !at.Equal(start) {
			t.Errorf("After(%s): got %v, %v; want ended at once at %v", d, at, ok, start)
		}
	}
}

// TestAutoWaitsMoveTheClock: on NewAuto's clock every wait ends at once
// and moves the clock by its length; Sleeps and Slept say how long.
func TestAutoWaitsMoveTheClock(t *testing.T) {
	t.Parallel()
	c := clocktest.NewAuto(start)
	for _, d := range []time.Duration{2 * time.Second, time.Hour} {
		before := c.Now()
		at, ok := fired(c.After(d))
		if !ok || !at.Equal(before.Add(d)) {
			t.Errorf("After(%s): got %v, %v; want ended at once at %v", d, at, ok, before.Add(d))
		}
	}
	if got, want := c.Sleeps(), []time.Duration{2 * time.Second, time.Hour}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Sleeps: got %v, want %v", got, want)
	}
	if got, want := c.Slept(), time.Hour+2*time.Second; got != want {
		t.Errorf("Slept: got %s, want %s", got, want)
	}
}

// TestAutoAdvanceBelow: AutoAdvance ends the waits shorter than its bound
// at once; longer ones wait for Advance, and 0 turns it off.
func TestAutoAdvanceBelow(t *testing.T) {
	t.Parallel()
	c := clocktest.New(start)
	c.AutoAdvance(time.Minute)
	if _, ok := fired(c.After(30 * time.Second)); !ok {
		t.Error("a 30-second wait below the bound did not end at once")
	}
	long := c.After(10 * time.Minute)
	if _, ok := fired(long); ok {
		t.Error("a 10-minute wait above the bound ended at once")
	}
	c.AutoAdvance(0)
	short := c.After(time.Second)
	if _, ok := fired(short); ok {
		t.Error("with AutoAdvance(0), a one-second wait ended at once")
	}
	c.Advance(10 * time.Minute)
	if _, ok := fired(long); !ok {
		t.Error("the 10-minute wait did not end when the clock passed it")
	}
	if _, ok := fired(short); !ok {
		t.Error("the one-second wait did not end when the clock passed it")
	}
}

// TestWaitUntilWaiting returns once the code driven waits on the clock.
func TestWaitUntilWaiting(t *testing.T) {
	t.Parallel()
	c := clocktest.New(start)
	woke := make(chan struct{})
	go func() {
		<-c.After(time.Minute)
		close(woke)
	}()
	c.WaitUntilWaiting(t, 1, nil)
	c.Advance(time.Minute)
	<-woke
}
