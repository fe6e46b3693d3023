package awsconfig_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

func TestForTargetAssumesTheRoleWithCachedCredentials(t *testing.T) {
	t.Parallel()
	base := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{},
		APIOptions: make([]func(*middleware.Stack) error, 1, 4)} // room to append into
	cfg := awsconfig.ForTarget(base, "eu-west-2", "arn:aws:iam::123456789012:role/deploy")
	if cfg.Region != "eu-west-2" {
		t.Errorf("region: got %q, want eu-west-2", cfg.Region)
	}
	if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
		t.Errorf("credentials: got %T, want *aws.CredentialsCache wrapping the assume-role provider", cfg.Credentials)
	}
	if same := awsconfig.ForTarget(base, "", ""); same.Region != "eu-west-1" || same.Credentials != base.Credentials {
		t.Errorf("no region, no role: got region %q, credentials %T; want base's", same.Region, same.Credentials)
	}
	cfg.APIOptions = append(cfg.APIOptions, func(*middleware.Stack) error { return nil })
	if base.APIOptions[:2][1] != nil {
		t.Error("appending to the target's API options wrote into base's")
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
