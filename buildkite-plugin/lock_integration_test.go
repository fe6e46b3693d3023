//go:build integration

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestE2ELockedEnvironment: while another run holds the environment's
// lock, the plugin waits its lock-wait option (the library's message
// quotes the wait it was given, so the option reached it), then exits 3
// with buoy:status locked and a warning annotation naming the holder and
// its build, and deploys nothing.
func TestE2ELockedEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t, "", "")
	held, err := w.store.AcquireLock(ctx, history.Lock{Project: "catalogue", Environment: "stage", Owner: "other-run",
		RequestedBy: "alice", BuildURL: "https://ci.example/builds/7"}, 10*time.Minute)
	if err != nil {
		t.Fatalf("hold the lock: %v", err)
	}
	t.Cleanup(func() { _ = w.store.ReleaseLock(context.WithoutCancel(ctx), held) })

	code, log, calls := runBinary(t, buildPlugin(t), w.dir,
		fmt.Sprintf(`{"environment":"stage","from-label":"ref.%s","table":%q,"lock-wait":"1s","lock-ttl":"30s","ecs-rate":5,"ecs-burst":10}`,
			deployfixture.NewCommit, w.table), nil)
	if code != exitcode.Locked {
		t.Errorf("exit code = %d, want %d (locked)\n%s", code, exitcode.Locked, log)
	}
	for _, want := range []string{"waited 1s: ", "environment catalogue/stage is locked by alice (https://ci.example/builds/7)", "to stage locked"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "to stage failed") {
		t.Errorf("the log calls the run failed; it was refused for the lock:\n%s", log)
	}
	notes := annotations(calls)
	if len(notes) != 1 || notes[0].Args[2] != "warning" || !strings.Contains(notes[0].Stdin, "locked by alice") ||
		!strings.Contains(notes[0].Stdin, "to stage locked") {
		t.Errorf("annotations = %v, want one warning, headed locked, naming alice", notes)
	}
	meta := metaData(calls)
	if meta["buoy:status"] != "locked" || meta["buoy:stage:status"] != "locked" {
		t.Errorf("status meta-data = %v, want locked", meta)
	}
	if _, ok := meta["buoy:deployment-id"]; ok {
		t.Errorf("buoy:deployment-id set, want none: nothing was deployed")
	}
	deps, err := w.store.ListDeployments(ctx, "catalogue", "", 0)
	if err != nil {
		t.Fatalf("list deployments: %v", err)
	}
	if len(deps) != 0 {
		t.Errorf("history holds %d deployments, want none: nothing may happen without the lock", len(deps))
	}
}
