package deploy

import (
	"context"
	"slices"
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

// TestOpenAsksForTheNotifyVariables: Open asks the caller for the
// variables the manifest's notify targets read, each once, and the
// Deployer deploys with what it answered.
func TestOpenAsksForTheNotifyVariables(t *testing.T) {
	t.Parallel()
	var asked []string
	d, _, err := Open(context.Background(), Config{ManifestPath: "../manifest/testdata/v1/valid_notify.yaml", AWS: aws.Config{Region: "eu-west-1"},
		Store: history.NewMemory(), NotifySecrets: func(names []string) map[string]string {
			asked = names
			return map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x"}
		}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if want := []string{"AUDIT_HOOK_URL", "BUOY_WEBHOOK_SECRET", "PROD_SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL"}; !slices.Equal(asked, want) {
		t.Errorf("asked for %q, want %q", asked, want)
	}
	if got := d.notifySecrets["SLACK_WEBHOOK_URL"]; got != "https://hooks.slack.com/services/T0/B0/x" {
		t.Errorf("the Deployer's SLACK_WEBHOOK_URL: got %q, want the answer", got)
	}
}
