package interrupt

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the watcher and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFirstSignalCancelsSecondExits: the first signal cancels the
// context and says how to exit at once; the second calls exit with 130.
func TestFirstSignalCancelsSecondExits(t *testing.T) {
	t.Parallel()
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			signals := make(chan os.Signal, 2)
			var out syncBuffer
			exited := make(chan int, 1)
			ctx, stop := watch(context.Background(), signals, &out, func(code int) { exited <- code })
			defer stop()

			signals <- sig
			<-ctx.Done()
			if got := out.String(); !strings.Contains(got, "stopping") || !strings.Contains(got, "again to exit at once") {
				t.Errorf("after the first signal: %q, want it to say it stops and how to exit at once", got)
			}
			select {
			case code := <-exited:
				t.Fatalf("exited with %d after one signal, want the context cancelled only", code)
			default:
			}

			signals <- sig
			if code := <-exited; code != 130 {
				t.Errorf("exit code after the second signal = %d, want 130", code)
			}
			if got := out.String(); !strings.Contains(got, "again: exiting at once with 130") {
				t.Errorf("after the second signal: %q, want it to say it exits", got)
			}
		})
	}
}

// TestStopEndsTheWatch: after stop, the context is cancelled and no
// signal is waited for.
func TestStopEndsTheWatch(t *testing.T) {
	t.Parallel()
	signals := make(chan os.Signal, 2)
	ctx, stop := watch(context.Background(), signals, &syncBuffer{}, func(int) { t.Error("exit called") })
	stop()
	if ctx.Err() == nil {
		t.Error("the context is not cancelled after stop")
	}
}
