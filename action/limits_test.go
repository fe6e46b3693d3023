package main

import (
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
)

// TestLimitInputsReachTheDeployer: lock-wait, lock-ttl, ecs-quota-share,
// ecs-rate and ecs-burst are read into the settings the deployer is opened with; an
// empty input and action.yml's default both mean the CLI's default.
func TestLimitInputsReachTheDeployer(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	declared := map[string]string{}
	for _, name := range []string{inLockWait, inLockTTL, inECSQuotaShare, inECSRate, inECSBurst} {
		if d := m.Inputs[name].Default; d != nil {
			declared[name] = *d
		}
	}
	if len(declared) != 5 {
		t.Fatalf("action.yml gives defaults for %v, want all five limits", declared)
	}
	tests := []struct {
		name   string
		inputs map[string]string
		want   inputcheck.Limits
	}{
		{"empty inputs", map[string]string{}, inputcheck.DefaultLimits()},
		{"action.yml's defaults", declared, inputcheck.DefaultLimits()},
		{"the smallest allowed", map[string]string{inLockWait: "0", inLockTTL: "3s", inECSQuotaShare: "0.01", inECSRate: "0.5", inECSBurst: "1"},
			inputcheck.Limits{LockWait: 0, LockTTL: 3 * time.Second, ECSQuotaShare: 0.01, ECSRate: 0.5, ECSBurst: 1}},
		{"a queue behind another pipeline", map[string]string{inLockWait: "45m", inLockTTL: "30s", inECSQuotaShare: "1", inECSRate: "5", inECSBurst: "10"},
			inputcheck.Limits{LockWait: 45 * time.Minute, LockTTL: 30 * time.Second, ECSQuotaShare: 1, ECSRate: 5, ECSBurst: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inputs := map[string]string{inEnvironment: "stage"}
			for k, v := range tt.inputs {
				inputs[k] = v
			}
			h := newHarness(t, inputs)
			h.fake.Result = succeeded()
			if err := h.run(t); err != nil {
				t.Fatalf("run: %v", err)
			}
			if h.fake.Opened() == nil {
				t.Fatal("the deployer was not opened")
			}
			if got := h.fake.Opened().Limits; got != tt.want {
				t.Errorf("limits = %+v, want %+v", got, tt.want)
			}
		})
	}
}
