package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/iampolicy"
)

// iamPolicyConfig is what `buoy iam-policy` takes.
type iamPolicyConfig struct {
	common    commonFlags
	accountID string
	init      bool
}

func newIAMPolicyCommand(a *app) *cobra.Command {
	var cfg iamPolicyConfig
	cmd := &cobra.Command{
		Use:   "iam-policy",
		Short: "Print the least-privilege IAM policy for deploying a project",
		Long: `iam-policy prints the IAM policy document buoy needs to deploy the
project to all its environments: reading and moving tags in its ECR
repositories, redeploying its ECS services, keeping the history in the
DynamoDB table, publishing SSM parameters where enabled, and assuming the
targets' roles. Nothing is called.

The history table is named where buoy really uses it: in the account of
the credentials buoy runs with (no role is assumed for it) and in the
region buoy runs in (--region, else AWS_REGION or the shared config, else
the project registry's region). Without calling AWS, that account is not
known: pass --account-id, else the policy says * for it.`,
		Example: `  buoy iam-policy > buoy-policy.json
  buoy iam-policy --account-id 123456789012 --region eu-west-1 --init`,
		Args: argsOf(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIAMPolicy(cmd.Context(), a, cfg)
		},
	}
	cfg.common.registerManifest(cmd)
	cfg.common.registerAWS(cmd)
	cfg.common.registerTable(cmd)
	cfg.common.registerWecoTable(cmd)
	cfg.common.registerVerbose(cmd)
	cmd.Flags().StringVar(&cfg.common.output, "output", "json", "output format: json (an IAM policy is a JSON document)")
	cmd.Flags().StringVar(&cfg.accountID, "account-id", "", "your account id (of the credentials buoy runs with), for the history table and ARNs the manifest leaves open (default *)")
	cmd.Flags().BoolVar(&cfg.init, "init", false, "also allow creating the history table (buoy init)")
	return cmd
}

func runIAMPolicy(ctx context.Context, a *app, cfg iamPolicyConfig) error {
	if cfg.common.output != "json" {
		return flagErrorf("--output must be json for iam-policy, not %q: an IAM policy is a JSON document (leave --output out)", cfg.common.output)
	}
	logger := cfg.common.logger(a)
	m, err := deploy.LoadManifest(cfg.common.manifest)
	if err != nil {
		return err
	}
	p, err := deploy.PickProject(m, cfg.common.project)
	if err != nil {
		return err
	}
	// The region buoy would run in: the flag, else the SDK's (AWS_REGION,
	// the shared config). Loading the configuration calls nothing.
	region, from := cfg.common.region, "--region"
	if region == "" {
		awsCfg, err := a.loadAWS(ctx, "", cfg.common.profile, logger)
		if err != nil {
			return err
		}
		region, from = awsCfg.Region, "the AWS configuration (AWS_REGION, the shared config)"
	}
	if logger != nil {
		tableRegion := deploy.StoreConfig(aws.Config{Region: region}, p).Region
		if region == "" {
			from = "the project registry's"
		}
		logger.Debug("history table's region", "region", tableRegion, "from", from, "manifest", m.File, "project", p.ID)
	}
	doc := iampolicy.Build(iampolicy.Input{Project: p, Table: cfg.common.table, AccountID: cfg.accountID,
		Region: region, Init: cfg.init, WecoTable: deploy.WecoTableName(m, p, cfg.common.wecoTable)})
	return writeJSON(a.stdout, doc)
}
