package main

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
)

// The real orchestration is what run asks of a deployer.
var _ deployer = (*deploy.Deployer)(nil)

// openDeployer opens buoy's orchestration for the manifest in the checkout,
// with AWS credentials found the usual way (environment, profile, instance
// or task role; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> aim it
// elsewhere). The manifest's warnings go to the sink.
func openDeployer(ctx context.Context, o openOptions) (deployer, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w: give the agent credentials "+
			"(an instance or task role, AWS_PROFILE, or a plugin that assumes a role before this one)", err)
	}
	d, m, err := deploy.Open(ctx, deploy.Config{
		ManifestPath: o.Manifest,
		ProjectID:    o.Project,
		Table:        o.Table,
		AWS:          awsCfg,
		Sink:         o.Sink,
		Logger:       o.Logger,
		Options:      o.Limits.Options(),
	})
	if m != nil && o.Sink != nil {
		for _, w := range m.Warnings {
			o.Sink.Emit(event.Event{Kind: event.Warning, Message: w.String()})
		}
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}
