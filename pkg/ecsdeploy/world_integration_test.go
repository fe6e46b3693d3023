//go:build integration

package ecsdeploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/ecsdeploy"
)

// world is a task definition family, clusters and services of one test
// on the shared moto (awstest.Family), with the configuration Deploy gets.
type world struct {
	*awstest.Family
	t   *testing.T
	ctx context.Context
	cfg aws.Config
	ecs *ecs.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	// Cleanup reads every cluster and EventBridge rule of the shared moto.
	cfg := awstest.EveryResourceConfig(t)
	client := ecs.NewFromConfig(cfg)
	return &world{Family: awstest.NewFamily(t, client, "api"), t: t, ctx: context.Background(), cfg: cfg, ecs: client}
}

// deploy runs Deploy on the world with a clock whose waits end at once.
func (w *world) deploy(in ecsdeploy.Input) (*ecsdeploy.Result, error) {
	return ecsdeploy.Deploy(w.ctx, w.cfg, nil, in, ecsdeploy.WithClock(clocktest.NewAuto(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC))))
}

// contains reports whether s holds every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
