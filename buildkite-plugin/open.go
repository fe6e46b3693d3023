package main

import (
	"context"
	"errors"
	"fmt"
)

// openDeployer opens buoy's orchestration for the manifest in the checkout,
// with AWS credentials found the usual way (environment, profile, instance
// or task role).
func openDeployer(ctx context.Context, o openOptions) (deployer, error) {
	return nil, fmt.Errorf("open the deployer: %w", errors.New("this build of buoy-buildkite-plugin was made without the deploy package; use a released binary"))
}
