package rollout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// BenchmarkWaitCallsPerPoll reports the ECS calls Wait makes per poll for
// 1, 10 and 100 services that complete after 5 polls. The lower bound is
// ceil(N/10) DescribeServices per poll. The service deployments API adds
// ceil(N/20) DescribeServiceDeployments per poll, and one
// ListServiceDeployments per service when UpdateService does not name the
// service deployment ("deployments-api-listed"). Without the API, the
// probe that finds it missing is one call.
func BenchmarkWaitCallsPerPoll(b *testing.B) {
	for _, api := range []struct {
		name      string
		mode      ecsfake.DeploymentsAPI
		noCurrent bool
	}{{"describe-services", ecsfake.Unsupported, false}, {"deployments-api", ecsfake.Supported, false}, {"deployments-api-listed", ecsfake.Supported, true}} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/services=%d", api.name, n), func(b *testing.B) {
				var callsPerPoll float64
				for b.Loop() {
					callsPerPoll = waitOnce(b, api.mode, api.noCurrent, n)
				}
				b.ReportMetric(callsPerPoll, "calls/poll")
				b.ReportMetric(float64((n+9)/10), "lower-bound/poll")
			})
		}
	}
}

func waitOnce(b *testing.B, mode ecsfake.DeploymentsAPI, noCurrent bool, n int) float64 {
	var services []ecsfake.Service
	var names []string
	frames := []ecsfake.Frame{inProgressSD(progress(0)), inProgressSD(progress(0)), inProgressSD(progress(1)), inProgressSD(progress(1)), completed()}
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		names = append(names, name)
		services = append(services, ecsfake.Service{Name: name, TaskDefinition: tdOld, DesiredCount: 2, Before: before, Update: updateResp, Frames: frames,
			NoCurrentServiceDeployment: noCurrent})
	}
	srv := ecsfake.New(b, mode, services...)
	r := rollout.New(srv.Client(), rollout.WithClock(clocktest.NewAuto(ecsfake.T0)))
	ctx := context.Background()
	svcs, err := r.Find(ctx, rollout.FindInput{Cluster: ecsfake.Cluster, Names: names})
	if err != nil {
		b.Fatal(err)
	}
	var hs []rollout.Handle
	for _, s := range svcs {
		h, err := r.Redeploy(ctx, s, rollout.RedeployInput{TaskDefinition: tdNew})
		if err != nil {
			b.Fatal(err)
		}
		hs = append(hs, h)
	}
	before := srv.TotalCalls()
	if _, err := r.Wait(ctx, rollout.WaitInput{Handles: hs, Timeout: time.Hour}); err != nil {
		b.Fatalf("Wait: %v", err)
	}
	polls := srv.Polls("s000")
	if polls != len(frames) {
		b.Fatalf("polls: got %d, want %d", polls, len(frames))
	}
	return float64(srv.TotalCalls()-before) / float64(polls)
}
