package awsconfig_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

func TestLoadWithRoleCachesAssumedCredentials(t *testing.T) {
	t.Parallel()
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Target{Region: "eu-west-2", RoleARN: "arn:aws:iam::123456789012:role/deploy"},
		config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Region != "eu-west-2" {
		t.Errorf("region: got %q, want eu-west-2", cfg.Region)
	}
	if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
		t.Errorf("credentials: got %T, want *aws.CredentialsCache wrapping the assume-role provider", cfg.Credentials)
	}
}

func TestAccountOfRole(t *testing.T) {
	t.Parallel()
	for role, want := range map[string]string{
		"arn:aws:iam::760097843905:role/catalogue-ci": "760097843905",
		"arn:aws-cn:iam::123456789012:role/ci":        "123456789012",
		"":                                            "",
		"not-an-arn":                                  "",
	} {
		if got := awsconfig.AccountOfRole(role); got != want {
			t.Errorf("AccountOfRole(%q): got %q, want %q", role, got, want)
		}
	}
}
