package awsconfig_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

// attempts returns how many attempts an ECS client built from cfg makes
// per call, and whether its retryer is adaptive.
func attempts(cfg aws.Config) (int, bool) {
	r := ecs.NewFromConfig(cfg).Options().Retryer
	_, adaptive := r.(*retry.AdaptiveMode)
	return r.MaxAttempts(), adaptive
}

func TestDefaultRetriesOnlyWhenNoneIsChosen(t *testing.T) {
	t.Parallel()
	custom := func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 2) }
	for _, tc := range []struct {
		name         string
		cfg          aws.Config
		wantSet      bool
		wantAttempts int
		wantAdaptive bool
	}{
		{"no policy: buoy's", aws.Config{}, true, awsconfig.DefaultMaxAttempts, false},
		{"max attempts chosen", aws.Config{RetryMaxAttempts: 4}, false, 4, false},
		{"adaptive mode chosen", aws.Config{RetryMode: aws.RetryModeAdaptive}, false, retry.DefaultMaxAttempts, true},
		{"a retryer of its own", aws.Config{Retryer: custom}, false, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			if got := awsconfig.DefaultRetries(&cfg); got != tc.wantSet {
				t.Errorf("DefaultRetries: got %v, want %v", got, tc.wantSet)
			}
			n, adaptive := attempts(cfg)
			if n != tc.wantAttempts || adaptive != tc.wantAdaptive {
				t.Errorf("client: got %d attempts (adaptive %v), want %d (adaptive %v)", n, adaptive, tc.wantAttempts, tc.wantAdaptive)
			}
		})
	}
}

// TestDefaultRetriesRespectsTheSharedConfig loads max_attempts and
// retry_mode from a shared config file, as a user would set them, and
// checks that buoy's default does not replace them.
func TestDefaultRetriesRespectsTheSharedConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file   string
		wantAttempts int
		wantAdaptive bool
	}{
		{"max_attempts", "[default]\nmax_attempts = 5\n", 5, false},
		{"retry_mode", "[default]\nretry_mode = adaptive\n", retry.DefaultMaxAttempts, true},
		{"neither", "[default]\nregion = eu-west-1\n", awsconfig.DefaultMaxAttempts, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigFiles([]string{path}),
				config.WithSharedConfigProfile("default"), config.WithRegion("eu-west-1"))
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			awsconfig.DefaultRetries(&cfg)
			n, adaptive := attempts(cfg)
			if n != tc.wantAttempts || adaptive != tc.wantAdaptive {
				t.Errorf("client: got %d attempts (adaptive %v), want %d (adaptive %v)", n, adaptive, tc.wantAttempts, tc.wantAdaptive)
			}
		})
	}
}

// TestDefaultRetriesRespectsTheEnvironment is not parallel: it sets
// AWS_MAX_ATTEMPTS.
func TestDefaultRetriesRespectsTheEnvironment(t *testing.T) {
	t.Setenv("AWS_MAX_ATTEMPTS", "6")
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"),
		config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatalf("LoadDefaultConfig: %v", err)
	}
	if awsconfig.DefaultRetries(&cfg) {
		t.Error("DefaultRetries replaced AWS_MAX_ATTEMPTS")
	}
	if n, _ := attempts(cfg); n != 6 {
		t.Errorf("client: got %d attempts, want 6 (AWS_MAX_ATTEMPTS)", n)
	}
}
