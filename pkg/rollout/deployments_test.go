package rollout_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// TestServiceDeploymentsProbeIsOneAttempt checks that the first call of
// the service deployments API is a single attempt even when the client
// retries up to 5 times: an ECS without the API (moto's 500) or an IAM
// policy that denies it costs one call, and the wait goes on through
// DescribeServices alone, warning once.
func TestServiceDeploymentsProbeIsOneAttempt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		api   ecsfake.DeploymentsAPI
		probe string // the operation that probes the API
	}{
		{"unsupported (500, as moto)", ecsfake.Unsupported, "ListServiceDeployments"},
		{"denied", ecsfake.Denied, "DescribeServiceDeployments"}, // the ARN came with UpdateService
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ecsfake.New(t, tc.api, ecsfake.Service{Name: "app", TaskDefinition: tdOld, DesiredCount: 2,
				Before: before, Update: updateResp, Frames: []ecsfake.Frame{progress(0), progress(1), completed()}})
			var rec event.Recorder
			r := rollout.New(srv.ClientWithAttempts(5), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)), rollout.WithSink(&rec))
			h := redeployed(t, r, "app", rollout.RedeployInput{TaskDefinition: tdNew})
			res, err := r.Wait(context.Background(), rollout.WaitInput{Handles: []rollout.Handle{h}, Timeout: time.Hour})
			if err != nil || res[0].Outcome != rollout.Succeeded || res[0].Polls != 3 {
				t.Fatalf("Wait: got %s after %d polls (%v), want succeeded after 3", res[0].Outcome, res[0].Polls, err)
			}
			calls := srv.Calls("ListServiceDeployments") + srv.Calls("DescribeServiceDeployments")
			if calls != 1 || srv.Calls(tc.probe) != 1 {
				t.Errorf("service deployments API calls: got %d (%s: %d), want 1 %s", calls, tc.probe, srv.Calls(tc.probe), tc.probe)
			}
			var warnings []string
			for _, e := range rec.OfKind(event.Warning) {
				warnings = append(warnings, e.Message)
			}
			if len(warnings) != 1 || !strings.Contains(warnings[0], "through DescribeServices") {
				t.Errorf("warnings: got %q, want one saying buoy follows DescribeServices instead", warnings)
			}
		})
	}
}
