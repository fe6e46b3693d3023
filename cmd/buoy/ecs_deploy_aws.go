package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

// awsCredentialFlags are ecs-deploy's ways to give credentials on the
// command line. Their values are never printed, logged or recorded.
type awsCredentialFlags struct {
	accessKey, secretKey string
	instanceProfile      bool
	assumeRole           string
}

func (c *awsCredentialFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&c.accessKey, "aws-access-key", "k", "", "AWS access key id (with -s; default: AWS_ACCESS_KEY_ID, the shared config, ...)")
	f.StringVarP(&c.secretKey, "aws-secret-key", "s", "", "AWS secret access key (with -k)")
	f.BoolVar(&c.instanceProfile, "aws-instance-profile", false, "use the IAM role of this EC2 instance, from its metadata service")
	f.StringVarP(&c.assumeRole, "aws-assume-role", "a", "", "ARN of a role to assume, with the credentials given or found, for every call")
}

// apply returns cfg with the credentials the flags give: -k and -s, or
// the instance's role, then the role -a names assumed with them. Without
// these flags, cfg's own (the SDK's default chain, or -p's profile) stay.
func (c awsCredentialFlags) apply(ctx context.Context, cfg aws.Config, logger *slog.Logger) aws.Config {
	debug := func(msg string, args ...any) {
		if logger != nil {
			logger.DebugContext(ctx, msg, args...)
		}
	}
	switch {
	case c.accessKey != "":
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.accessKey, c.secretKey, ""))
		debug("credentials from -k/--aws-access-key and -s/--aws-secret-key")
	case c.instanceProfile:
		client := imds.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(ec2rolecreds.New(func(o *ec2rolecreds.Options) { o.Client = client }))
		debug("credentials of the instance's IAM role, from its metadata service (--aws-instance-profile)")
	}
	if c.assumeRole != "" {
		cfg.Credentials = awsconfig.AssumeRole(cfg, c.assumeRole, "buoy-ecs-deploy")
		debug("assuming a role for every call (-a/--aws-assume-role)", "role", c.assumeRole)
	}
	return cfg
}
