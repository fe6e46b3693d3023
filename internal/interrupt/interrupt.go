// Package interrupt stops buoy's entrypoints on SIGINT and SIGTERM: the
// first signal cancels the run's context, so that a deployment stops,
// closes its record as cancelled and frees its lock; the second exits at
// once with exit code 130, whatever the run is blocked on (a file that
// never answers, an AWS endpoint that never replies, the record's closing
// write itself). signal.NotifyContext alone ignores every signal after
// the first, so a run blocked where the context is not looked at could
// not be stopped but by SIGKILL.
package interrupt

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/buoy-deploy/buoy/internal/exitcode"
)

// Context returns a context that is cancelled on the first SIGINT or
// SIGTERM, after saying so on w; on the second signal it says so and
// calls exit(exitcode.Interrupted). stop stops listening for signals.
func Context(parent context.Context, w io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	ctx, done := watch(parent, signals, w, exit)
	return ctx, func() {
		signal.Stop(signals)
		done()
	}
}

// watch is Context on a channel of signals.
func watch(parent context.Context, signals <-chan os.Signal, w io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			var sig os.Signal
			select {
			case sig = <-signals:
			case <-quit:
				return
			}
			if n == 1 {
				fmt.Fprintf(w, "buoy: %s: stopping (the deployment, if any, is closed as cancelled); %s again to exit at once\n", name(sig), name(sig))
				cancel()
				continue
			}
			fmt.Fprintf(w, "buoy: %s again: exiting at once with %d\n", name(sig), exitcode.Interrupted)
			exit(exitcode.Interrupted)
			return
		}
	}()
	return ctx, func() {
		close(quit)
		wg.Wait()
		cancel()
	}
}

// name is how a person calls a signal.
func name(sig os.Signal) string {
	if sig == os.Interrupt {
		return "interrupted (SIGINT)"
	}
	if s, ok := sig.(syscall.Signal); ok && s == syscall.SIGTERM {
		return "terminated (SIGTERM)"
	}
	return sig.String()
}
