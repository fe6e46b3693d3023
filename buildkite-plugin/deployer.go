package main

import (
	"context"
	"log/slog"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// deployer is what the plugin asks of buoy's orchestration
// (*deploy.Deployer satisfies it).
type deployer interface {
	Prepare(ctx context.Context, in deploy.PrepareInput) (*history.Release, error)
	Deploy(ctx context.Context, in deploy.DeployInput) (*deploy.Result, error)
	ReleaseDeploy(ctx context.Context, in deploy.ReleaseDeployInput) (*deploy.Result, error)
	Promote(ctx context.Context, in deploy.PromoteInput) (*deploy.Result, error)
	Rollback(ctx context.Context, in deploy.RollbackInput) (*deploy.Result, error)
	Status(ctx context.Context, in deploy.StatusInput) (*deploy.StatusReport, error)
}

// openOptions is what opening a deployer takes.
type openOptions struct {
	// Manifest is the manifest's path; "" means buoy.yaml, else
	// .wellcome_project, in the working directory.
	Manifest string
	// Project is the project id; "" means the manifest's only project.
	Project string
	// Table is the history's DynamoDB table; "" means buoy's default.
	Table string
	// Limits are the lock wait, lock lease and ECS request budget.
	Limits inputcheck.Limits
	Sink   event.Sink
	Logger *slog.Logger
}

// openFunc opens a deployer; tests pass a fake.
type openFunc func(ctx context.Context, o openOptions) (deployer, error)
