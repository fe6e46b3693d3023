package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// realDeps are the dependencies of a real run.
func realDeps() deps {
	return deps{open: openDeployer, environ: os.Environ}
}

// openDeployer loads AWS configuration from the standard chain and opens
// buoy's orchestration on the manifest.
func openDeployer(ctx context.Context, s *settings, sink event.Sink, logger *slog.Logger) (deployer, error) {
	path, err := findManifest(".", s.Manifest)
	if err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if s.Region != "" {
		opts = append(opts, config.WithRegion(s.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%w: no AWS region: set the aws-region input, or aws-region in aws-actions/configure-aws-credentials (AWS_REGION)", deploy.ErrInvalidInput)
	}
	d, m, err := deploy.Open(ctx, deploy.Config{
		ManifestPath: path,
		ProjectID:    s.Project,
		Table:        s.Table,
		AWS:          cfg,
		Sink:         sink,
		Logger:       logger,
		Options:      s.Limits.Options(),
	})
	if m != nil {
		for _, w := range m.Warnings {
			sink.Emit(event.Event{Kind: event.Warning, File: w.Pos.File, Line: w.Pos.Line, Column: w.Pos.Column, Message: w.String()})
		}
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// findManifest returns the manifest input, or the manifest found in dir
// (buoy.yaml, else .wellcome_project).
func findManifest(dir, input string) (string, error) {
	if input != "" {
		return input, nil
	}
	p, err := manifest.Find(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %w; or set the manifest input to its path (did the job check out the repository?)", deploy.ErrInvalidInput, err)
	}
	return p, nil
}

// annotateOpenError annotates an invalid manifest at its lines; any other
// error is returned as it is.
func (r *renderer) annotateOpenError(err error) error {
	var me *manifest.Error
	if errors.As(err, &me) && len(me.Diagnostics) > 0 {
		return r.annotateManifest(me.Diagnostics, err)
	}
	return err
}
