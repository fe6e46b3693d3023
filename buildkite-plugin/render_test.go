package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/golden"
)

// TestLifecycleEventsGolden: the lifecycle of a canary rollout goes in
// the "Waiting for ECS" section, one cleaned line per event; the alarm in
// ALARM opens the section. No text of an event starts a section.
func TestLifecycleEventsGolden(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := newLogRenderer(&out)
	for _, e := range entrytest.LifecycleEvents() {
		r.Emit(e)
	}
	golden.Check(t, "testdata/lifecycle.log", out.String())
}

// TestHeartbeatsGolden: a rollout stuck for 3 minutes shows a line every
// 30 s in the waiting section, its outside text unable to open a section.
func TestHeartbeatsGolden(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := newLogRenderer(&out)
	for _, e := range entrytest.StuckRollout(t0) {
		r.Emit(e)
	}
	golden.Check(t, "testdata/heartbeat.log", out.String())
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "nor this") && strings.HasPrefix(strings.TrimLeft(line, " "), "---") {
			t.Errorf("a line could open a log section: %q", line)
		}
	}
	if n := strings.Count(out.String(), "still waiting for ECS in cluster shop-stage after"); n != 6 {
		t.Errorf("heartbeat lines: got %d, want 6", n)
	}
}
