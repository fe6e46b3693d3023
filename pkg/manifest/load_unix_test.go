//go:build unix

package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesWhatIsNotAFile: a named pipe, a device or a directory
// given as the manifest is refused, saying what it is, before it is
// opened. A named pipe is watched by a writer that opens it whenever a
// reader waits on it: if Load opened the pipe, the writer feeds it a
// valid manifest, so that Load returns and the test fails instead of
// hanging.
func TestLoadRefusesWhatIsNotAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "buoy.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	opened := watchFIFO(t, fifo, "version: 1\nprojects: [{id: p, images: [{id: i, repository: p/i, services: [s]}], services: [{id: s}], environments: [{id: e, targets: [{cluster: c}]}]}]\n")
	tests := []struct {
		name, path, want string
	}{
		{"named pipe", fifo, "the manifest is a named pipe (FIFO), not a file (give the path of a buoy.yaml or .wellcome_project file)"},
		{"device", os.DevNull, "the manifest is a device, not a file"},
		{"directory", dir, "the manifest is a directory, not a file"},
	}
	for _, tt := range tests {
		m, err := Load(tt.path)
		var merr *Error
		if m != nil || !errors.As(err, &merr) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Load = %v, %v; want a *manifest.Error saying %q", tt.name, m, err, tt.want)
		}
	}
	if opened() {
		t.Errorf("Load opened the named pipe")
	}
}

// watchFIFO opens fifo for writing whenever a reader waits on it, writes
// text and closes it, until the test ends. It returns whether it did.
func watchFIFO(t *testing.T, fifo, text string) (opened func() bool) {
	t.Helper()
	var mu sync.Mutex
	did := false
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// Opening a pipe for writing without blocking succeeds only
			// while a reader has it open (or waits to).
			f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
			if err != nil {
				continue
			}
			mu.Lock()
			did = true
			mu.Unlock()
			_, _ = f.WriteString(text)
			_ = f.Close()
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		return did
	}
}
