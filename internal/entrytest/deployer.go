// Package entrytest holds what the tests of buoy's entrypoints (the CLI,
// the GitHub Action, the Buildkite plugin) share: a fake orchestration
// that records what it is asked, the cases in which the history store
// cannot be used, and fake secrets to leak-test a run with.
package entrytest

import (
	"context"
	"slices"
	"sync"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Deployer plays buoy's orchestration for an entrypoint's tests: its Open
// records the configuration it was opened with; each operation records
// its input, emits Events to the configuration's sink and answers as
// scripted. It is safe for concurrent use.
type Deployer struct {
	// Events are emitted to the sink on every call.
	Events []event.Event
	// Result is what the deploying operations return; Release what
	// Prepare returns (nil: Result's release); Report what Status
	// returns; Err the error every operation returns.
	Result  *deploy.Result
	Release *history.Release
	Report  *deploy.StatusReport
	Err     error
	// OpenErr, when set, is what Open returns instead of the Deployer.
	OpenErr error
	// Manifest is the project Project returns.
	Manifest *manifest.Project

	mu     sync.Mutex
	opened *entry.Config
	calls  []any
}

var (
	_ entry.Deployer = (*Deployer)(nil)
	_ entry.OpenFunc = (*Deployer)(nil).Open
)

// Open records cfg and returns f, or OpenErr.
func (f *Deployer) Open(_ context.Context, cfg entry.Config) (entry.Deployer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = &cfg
	if f.OpenErr != nil {
		return nil, f.OpenErr
	}
	return f, nil
}

// Opened is the configuration Open was called with; nil if it was not.
func (f *Deployer) Opened() *entry.Config {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened
}

// Calls are the inputs the operations were called with, in order
// (deploy.ReleaseDeployInput, deploy.StatusInput, ...).
func (f *Deployer) Calls() []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// call records in and emits the events.
func (f *Deployer) call(in any) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	var sink event.Sink = event.Discard{}
	if f.opened != nil && f.opened.Sink != nil {
		sink = f.opened.Sink
	}
	f.mu.Unlock()
	for _, e := range f.Events {
		sink.Emit(e)
	}
}

// Prepare records in and returns Release (or Result's release) and Err.
func (f *Deployer) Prepare(_ context.Context, in deploy.PrepareInput) (*history.Release, error) {
	f.call(in)
	if f.Release == nil && f.Result != nil {
		return f.Result.Release, f.Err
	}
	return f.Release, f.Err
}

// Deploy records in and returns Result and Err.
func (f *Deployer) Deploy(_ context.Context, in deploy.DeployInput) (*deploy.Result, error) {
	f.call(in)
	return f.Result, f.Err
}

// ReleaseDeploy records in and returns Result and Err.
func (f *Deployer) ReleaseDeploy(_ context.Context, in deploy.ReleaseDeployInput) (*deploy.Result, error) {
	f.call(in)
	return f.Result, f.Err
}

// Promote records in and returns Result and Err.
func (f *Deployer) Promote(_ context.Context, in deploy.PromoteInput) (*deploy.Result, error) {
	f.call(in)
	return f.Result, f.Err
}

// Rollback records in and returns Result and Err.
func (f *Deployer) Rollback(_ context.Context, in deploy.RollbackInput) (*deploy.Result, error) {
	f.call(in)
	return f.Result, f.Err
}

// Status records in and returns Report and Err.
func (f *Deployer) Status(_ context.Context, in deploy.StatusInput) (*deploy.StatusReport, error) {
	f.call(in)
	return f.Report, f.Err
}

// Project returns Manifest.
func (f *Deployer) Project() *manifest.Project { return f.Manifest }
