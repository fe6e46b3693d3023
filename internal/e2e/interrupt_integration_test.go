//go:build integration

package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalExitsABlockedRun: a run blocked where it does not look
// at its context (here, reading a shared AWS config file that is a named
// pipe nobody writes to) says on the first SIGINT or SIGTERM that it
// stops and how to exit at once, and exits at once with 130 on the
// second. (Before, every signal after the first was ignored, and only
// SIGKILL ended such a run.)
func TestSecondSignalExitsABlockedRun(t *testing.T) {
	t.Parallel()
	bin := buildCLI(t)
	_, file, _, _ := runtime.Caller(0)
	valid := filepath.Join(filepath.Dir(file), "..", "..", "pkg", "manifest", "testdata", "v1", "valid_minimal.yaml")
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			fifo := filepath.Join(t.TempDir(), "aws-config")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr lockedBuffer
			r := &run{cmd: exec.Command(bin, "history", "--manifest", valid), exited: make(chan struct{})}
			r.cmd.Env = cliEnv(t, "http://127.0.0.1:1", "ci", "AWS_CONFIG_FILE="+fifo)
			r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &stderr
			if err := r.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() {
				r.err = r.cmd.Wait()
				close(r.exited)
			}()
			t.Cleanup(func() {
				_ = r.cmd.Process.Kill()
				<-r.exited
			})
			// Open the pipe's other end once buoy waits on it, and write
			// nothing: buoy is then blocked reading it.
			var writer *os.File
			waitFor(t, r, "reading the named pipe", soon, func() bool {
				f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
				if err != nil {
					return false
				}
				writer = f
				return true
			})
			defer writer.Close()

			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitFor(t, r, "saying it stops", soon, func() bool { return strings.Contains(stderr.String(), "again to exit at once") })
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := r.wait(t); code != 130 {
				t.Errorf("exit code after two %ss: %d, want 130\nstderr:\n%s", sig, code, stderr.String())
			}
			contains(t, "stderr", stderr.String(), "again: exiting at once with 130")
		})
	}
}

// soon is waitFor's changed for state no fake announces (a pipe's reader,
// what a process wrote): it fires a moment later, so the condition is
// checked again, and the wait stays bounded by the run's exit and the
// hang guard, never by a fixed time.
func soon() <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(20*time.Millisecond, func() { close(c) })
	return c
}
