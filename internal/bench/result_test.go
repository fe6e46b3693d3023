package main

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"
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
