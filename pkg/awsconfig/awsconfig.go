// Package awsconfig builds the AWS configuration of a deployment target:
// the base configuration's credentials, or a role assumed through STS
// whose credentials refresh by themselves during long waits (ForTarget).
// It also counts the API calls made with a configuration, by service and
// operation, retries them and says when an endpoint cannot be reached.
package awsconfig

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ForTarget returns the configuration of a target reached from base: in
// region when set, with roleARN assumed (its credentials cached and
// refreshed before they expire) when set. Appending API options to it
// never changes base's.
func ForTarget(base aws.Config, region, roleARN string) aws.Config {
	cfg := base.Copy()
	cfg.APIOptions = cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)]
	if region != "" {
		cfg.Region = region
	}
	if roleARN != "" {
		cfg.Credentials = AssumeRole(cfg, roleARN, "buoy")
	}
	return cfg
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
