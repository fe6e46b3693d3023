package main

import (
	"context"
	"sync"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// fakeDeployer records what it was asked and answers as scripted. It
// emits the scripted events to the sink it was opened with.
type fakeDeployer struct {
	mu     sync.Mutex
	opened *openOptions
	calls  []any // the inputs, in order

	events  []event.Event
	result  *deploy.Result
	release *history.Release
	status  *deploy.StatusReport
	err     error
	openErr error
}

func (f *fakeDeployer) open(_ context.Context, o openOptions) (deployer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = &o
	if f.openErr != nil {
		return nil, f.openErr
	}
	return f, nil
}

func (f *fakeDeployer) answer(in any) (*deploy.Result, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	sink := f.opened.Sink
	f.mu.Unlock()
	for _, e := range f.events {
		sink.Emit(e)
	}
	return f.result, f.err
}

func (f *fakeDeployer) Prepare(_ context.Context, in deploy.PrepareInput) (*history.Release, error) {
	_, err := f.answer(in)
	return f.release, err
}

func (f *fakeDeployer) Deploy(_ context.Context, in deploy.DeployInput) (*deploy.Result, error) {
	return f.answer(in)
}

func (f *fakeDeployer) ReleaseDeploy(_ context.Context, in deploy.ReleaseDeployInput) (*deploy.Result, error) {
	return f.answer(in)
}

func (f *fakeDeployer) Promote(_ context.Context, in deploy.PromoteInput) (*deploy.Result, error) {
	return f.answer(in)
}

func (f *fakeDeployer) Rollback(_ context.Context, in deploy.RollbackInput) (*deploy.Result, error) {
	return f.answer(in)
}

func (f *fakeDeployer) Status(_ context.Context, in deploy.StatusInput) (*deploy.StatusReport, error) {
	_, err := f.answer(in)
	return f.status, err
}
