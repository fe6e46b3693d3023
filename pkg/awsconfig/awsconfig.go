// Package awsconfig builds the AWS configuration of a deployment target:
// the default credential chain, or a role assumed through STS whose
// credentials refresh by themselves during long waits. It also counts the
// API calls made with a configuration, by service and operation.
package awsconfig

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Target says where a deployment target lives.
type Target struct {
	Region string
	// RoleARN, when set, is assumed for every call to the target.
	RoleARN string
	// SessionName names the assumed-role session (default "buoy").
	SessionName string
}

// Load returns the configuration for t, starting from the default chain
// (environment, shared files, SSO, instance and container roles). With a
// role, the credentials are the role's, cached and refreshed before they
// expire. optFns change how the default configuration loads (for example
// config.WithBaseEndpoint in tests).
func Load(ctx context.Context, t Target, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{}, optFns...)
	if t.Region != "" {
		opts = append(opts, config.WithRegion(t.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration for region %s: %w", t.Region, err)
	}
	if t.RoleARN != "" {
		cfg.Credentials = AssumeRole(cfg, t.RoleARN, t.SessionName)
	}
	return cfg, nil
}

// AssumeRole returns credentials for roleARN, assumed with base's
// credentials, cached and refreshed before they expire.
func AssumeRole(base aws.Config, roleARN, sessionName string) aws.CredentialsProvider {
	if sessionName == "" {
		sessionName = "buoy"
	}
	p := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = sessionName
	})
	return aws.NewCredentialsCache(p)
}

// AccountOfRole returns the account id of a role's ARN, or "" when
// roleARN is not an ARN (no role: the credentials' own account).
func AccountOfRole(roleARN string) string {
	a, err := arn.Parse(roleARN)
	if err != nil {
		return ""
	}
	return a.AccountID
}
