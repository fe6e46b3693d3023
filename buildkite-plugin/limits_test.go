package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestLimitOptionsReachTheDeployer: lock-wait, lock-ttl, ecs-quota-share,
// ecs-rate and ecs-burst are handed to the deployer as it is opened; an option left
// out and plugin.yml's default both mean the CLI's default.
func TestLimitOptionsReachTheDeployer(t *testing.T) {
	t.Parallel()
	props := pluginDefinition(t)["configuration"].(map[string]any)["properties"].(map[string]any)
	defaults := map[string]any{"environment": "stage"}
	for _, name := range []string{"lock-wait", "lock-ttl", "ecs-quota-share", "ecs-rate", "ecs-burst"} {
		d, ok := props[name].(map[string]any)["default"]
		if !ok {
			t.Fatalf("plugin.yml gives option %s no default", name)
		}
		defaults[name] = d
	}
	declared, err := json.Marshal(defaults)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		config string
		want   inputcheck.Limits
	}{
		{"none given", `{"environment":"stage"}`, inputcheck.DefaultLimits()},
		{"plugin.yml's defaults", string(declared), inputcheck.DefaultLimits()},
		{"the smallest allowed", `{"environment":"stage","lock-wait":"0","lock-ttl":"3s","ecs-quota-share":0.01,"ecs-rate":0.5,"ecs-burst":1}`,
			inputcheck.Limits{LockWait: 0, LockTTL: 3 * time.Second, ECSQuotaShare: 0.01, ECSRate: 0.5, ECSBurst: 1}},
		{"a queue behind another pipeline", `{"environment":"stage","lock-wait":"45m","lock-ttl":"30s","ecs-quota-share":1,"ecs-rate":5,"ecs-burst":10}`,
			inputcheck.Limits{LockWait: 45 * time.Minute, LockTTL: 30 * time.Second, ECSQuotaShare: 1, ECSRate: 5, ECSBurst: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &entrytest.Deployer{Result: result(history.StatusSucceeded, history.StatusSucceeded, "")}
			if _, _, err := runPlugin(t, tt.config, fake, false); err != nil {
				t.Fatalf("run: %v", err)
			}
			if fake.Opened() == nil {
				t.Fatal("the deployer was not opened")
			}
			if got := fake.Opened().Limits; got != tt.want {
				t.Errorf("limits = %+v, want %+v", got, tt.want)
			}
		})
	}
}
