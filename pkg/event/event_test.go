package event_test

import (
	"sync"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/event"
)

func TestRecorderConcurrent(t *testing.T) {
	t.Parallel()
	var r event.Recorder
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			kind := event.Progress
			if i%5 == 0 {
				kind = event.Warning
			}
			r.Emit(event.Event{Kind: kind})
		})
	}
	wg.Wait()
	if got := len(r.Events()); got != 50 {
		t.Errorf("events: got %d, want 50", got)
	}
	if got := len(r.OfKind(event.Warning)); got != 10 {
		t.Errorf("warnings: got %d, want 10", got)
	}
}

func TestFuncAndDiscard(t *testing.T) {
	t.Parallel()
	var got []event.Kind
	sinks := []event.Sink{event.Func(func(e event.Event) { got = append(got, e.Kind) }), event.Discard{}}
	for _, s := range sinks {
		s.Emit(event.Event{Kind: event.Finished})
	}
	if len(got) != 1 || got[0] != event.Finished {
		t.Errorf("Func sink: got %v, want [finished]", got)
	}
}
