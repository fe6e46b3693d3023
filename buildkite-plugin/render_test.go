package main

import (
	"bytes"
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
