//go:build integration

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestRunnerLockedEnvironment: while another run holds the environment's
// lock, the action waits its lock-wait input (the library's message
// quotes the wait it was given, so the input reached it), then exits 3
// with status locked, a job summary and an error that name the holder and
// its build, and deploys nothing.
func TestRunnerLockedEnvironment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(ctx, t, "", "")
	store := history.NewDynamoDB(dynamodb.NewFromConfig(awstest.Config(t)), w.Table)
	held, err := store.AcquireLock(ctx, history.Lock{Project: "shop", Environment: "stage", Owner: "other-run",
		RequestedBy: "alice", BuildURL: "https://ci.example/builds/7"}, 10*time.Minute)
	if err != nil {
		t.Fatalf("hold the lock: %v", err)
	}
	t.Cleanup(func() { _ = store.ReleaseLock(context.WithoutCancel(ctx), held) })

	r := runnerFor(t, w)
	r.Inputs["environment"] = "stage"
	r.Inputs["from-label"] = "ref." + deployfixture.NewCommit
	r.Inputs["lock-wait"] = "1s"
	r.Inputs["lock-ttl"] = "30s"
	res := r.run(t)

	if res.ExitCode != exitcode.Locked {
		t.Errorf("exit code = %d, want %d (locked)", res.ExitCode, exitcode.Locked)
	}
	if res.Outputs["status"] != "locked" {
		t.Errorf("status output = %q, want locked", res.Outputs["status"])
	}
	if id := res.Outputs["deployment-id"]; id != "" {
		t.Errorf("deployment-id output = %q, want none", id)
	}
	for _, want := range []string{"waited 1s: ", "environment shop/stage is locked by alice (https://ci.example/builds/7)"} {
		if !errorAnnotationSays(res.Stdout, want) {
			t.Errorf("no ::error says %q:\n%s", want, res.Stdout)
		}
	}
	for _, want := range []string{"### 🔒 buoy release-deploy to stage: locked", "Nothing was deployed", `locked by alice \(https://ci.example/builds/7\)`, "raise the lock-wait input"} {
		if !strings.Contains(res.Summary, want) {
			t.Errorf("the job summary lacks %q:\n%s", want, res.Summary)
		}
	}
	deps, err := store.ListDeployments(ctx, "shop", "", 0)
	if err != nil {
		t.Fatalf("list deployments: %v", err)
	}
	if len(deps) != 0 {
		t.Errorf("history holds %d deployments, want none: nothing may happen without the lock", len(deps))
	}
}
