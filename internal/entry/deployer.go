package entry

import (
	"context"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Deployer is what Do asks of buoy's orchestration; *deploy.Deployer is
// one, and entrypoints' tests pass fakes (internal/entrytest).
type Deployer interface {
	Prepare(ctx context.Context, in deploy.PrepareInput) (*history.Release, error)
	Deploy(ctx context.Context, in deploy.DeployInput) (*deploy.Result, error)
	ReleaseDeploy(ctx context.Context, in deploy.ReleaseDeployInput) (*deploy.Result, error)
	Promote(ctx context.Context, in deploy.PromoteInput) (*deploy.Result, error)
	Rollback(ctx context.Context, in deploy.RollbackInput) (*deploy.Result, error)
	Status(ctx context.Context, in deploy.StatusInput) (*deploy.StatusReport, error)
	// Project is the project as the manifest describes it.
	Project() *manifest.Project
}

var _ Deployer = (*deploy.Deployer)(nil)

// OpenFunc is how an entrypoint opens its Deployer: Opener in a real
// run, a fake's Open in tests (entrytest.Deployer).
type OpenFunc func(ctx context.Context, cfg Config) (Deployer, error)

// Opener is Open as an OpenFunc.
func Opener(ctx context.Context, cfg Config) (Deployer, error) {
	d, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return d, nil
}

var _ OpenFunc = Opener
