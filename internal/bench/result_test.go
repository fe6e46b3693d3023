package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The benchmark reads release-deploy's --output json; the CLI's golden
// file of that output (cmd/buoy/testdata) must still give it the status
// and the AWS call counts.
func TestResultReadsTheCLIsJSON(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "cmd", "buoy", "testdata", "result-failed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" || res.Stats["ECS.UpdateService"] != 1 || len(res.Stats) != 4 {
		t.Errorf("got status %q, stats %v; want failed and the 4 counted operations", res.Status, res.Stats)
	}
}

// The legacy lower bound adds to the tag strategy's the tagging search
// (20 service ids a GetResources), the per-cluster DescribeServices of
// what it found and of the one poll, and SSM's publish (ten names a
// GetParameters, one PutParameter per image), whatever the account
// holds besides.
func TestLegacyLowerBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, clusters int
		want        map[string]int
	}{
		{1, 2, map[string]int{"ECR.BatchGetImage": 1, "ECR.PutImage": 1, "ECS.DescribeServices": 2, "ECS.UpdateService": 1,
			"ECS.DescribeTaskDefinition": 1, "ResourceGroupsTaggingAPI.GetResources": 1, "SSM.GetParameters": 1, "SSM.PutParameter": 1, "DynamoDB.*": 13}},
		{10, 2, map[string]int{"ECR.BatchGetImage": 10, "ECR.PutImage": 10, "ECS.DescribeServices": 4, "ECS.UpdateService": 10,
			"ECS.DescribeTaskDefinition": 10, "ResourceGroupsTaggingAPI.GetResources": 1, "SSM.GetParameters": 1, "SSM.PutParameter": 10, "DynamoDB.*": 13}},
		{50, 2, map[string]int{"ECR.BatchGetImage": 50, "ECR.PutImage": 50, "ECS.DescribeServices": 12, "ECS.UpdateService": 50,
			"ECS.DescribeTaskDefinition": 50, "ResourceGroupsTaggingAPI.GetResources": 3, "SSM.GetParameters": 5, "SSM.PutParameter": 50, "DynamoDB.*": 13}},
		{21, 3, map[string]int{"ECR.BatchGetImage": 21, "ECR.PutImage": 21, "ECS.DescribeServices": 6, "ECS.UpdateService": 21,
			"ECS.DescribeTaskDefinition": 21, "ResourceGroupsTaggingAPI.GetResources": 2, "SSM.GetParameters": 3, "SSM.PutParameter": 21, "DynamoDB.*": 13}},
	}
	for _, tt := range tests {
		if got := legacyLowerBound(tt.n, tt.clusters); !maps.Equal(got, tt.want) {
			t.Errorf("legacyLowerBound(%d, %d) = %v, want %v", tt.n, tt.clusters, got, tt.want)
		}
	}
}

// The quota floor: the calls of each ECS category beyond its share of
// AWS's burst, at its share of AWS's rate, categories one after another;
// other services' calls cost nothing.
func TestQuotaFloor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, targets int
		share      float64
		want       time.Duration
	}{
		{50, 1, 1, 0},                           // 50 updates and reads: within the bursts
		{50, 1, 0.5, 12500 * time.Millisecond},  // (50-25)/2.5 updates + (50-25)/10 reads
		{200, 1, 1, 37500 * time.Millisecond},   // (200-50)/5 + (200-50)/20
		{200, 1, 0.5, 87500 * time.Millisecond}, // (200-25)/2.5 + (200-25)/10
		{50, 3, 1, 25 * time.Second},            // (150-50)/5 + (150-50)/20
	}
	for _, tt := range tests {
		if got := quotaFloor(lowerBound(tt.n, tt.targets), tt.share); got != tt.want {
			t.Errorf("quotaFloor(lowerBound(%d, %d), %v) = %s, want %s", tt.n, tt.targets, tt.share, got, tt.want)
		}
	}
}

// The fastest a row allows is the larger of the quota's floor and buoy's
// own time with the budget lifted; unmeasured, there is no ratio.
func TestFastestAndRatio(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m         measurement
		ratio     string
		fastestIs time.Duration
	}{
		{measurement{n: 50, targets: 1, wall: 3 * time.Second, unpaced: 2 * time.Second}, "1.50", 2 * time.Second},
		{measurement{n: 200, targets: 1, wall: 45 * time.Second, unpaced: 5 * time.Second}, "1.20", 37500 * time.Millisecond},
		{measurement{n: 50, targets: 1, wall: 15 * time.Second, unpaced: 2 * time.Second, throttledShare: 0.5}, "1.20", 12500 * time.Millisecond},
		{measurement{n: 50, targets: 1, wall: 3 * time.Second}, "-", 0},
	}
	for _, tt := range tests {
		if got := tt.m.fastest(); got != tt.fastestIs {
			t.Errorf("fastest of %+v = %s, want %s", tt.m, got, tt.fastestIs)
		}
		if got := tt.m.ratio(); got != tt.ratio {
			t.Errorf("ratio of %+v = %s, want %s", tt.m, got, tt.ratio)
		}
	}
}

func TestParseShares(t *testing.T) {
	t.Parallel()
	if got, err := parseShares("s", "0.5, 1,0.25"); err != nil || !slices.Equal(got, []float64{0.5, 1, 0.25}) {
		t.Errorf("parseShares(0.5, 1,0.25) = %v, %v; want [0.5 1 0.25]", got, err)
	}
	for _, bad := range []string{"", "0", "-0.5", "1.5", "half", "NaN"} {
		if _, err := parseShares("s", bad); err == nil {
			t.Errorf("parseShares(%q): no error, want one", bad)
		}
	}
}
