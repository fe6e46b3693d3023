package deploy

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// TestOpenRetriesTenTimesUnlessTold checks the retry policy of the
// clients a Deployer made by Open builds for a target: buoy's default
// when the caller's configuration has none, the caller's otherwise.
func TestOpenRetriesTenTimesUnlessTold(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		want int
	}{
		{"no policy", aws.Config{Region: "eu-west-1"}, awsconfig.DefaultMaxAttempts},
		{"the caller's", aws.Config{Region: "eu-west-1", RetryMaxAttempts: 3}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _, err := Open(context.Background(), Config{ManifestPath: "../../examples/buoy.yaml", AWS: tc.cfg, Store: history.NewMemory()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			cfg, err := d.awsConfig(context.Background(), manifest.Target{Cluster: "c", Region: "eu-west-2"})
			if err != nil {
				t.Fatalf("target config: %v", err)
			}
			if got := ecs.NewFromConfig(cfg).Options().Retryer.MaxAttempts(); got != tc.want {
				t.Errorf("ECS client attempts: got %d, want %d", got, tc.want)
			}
		})
	}
}
