// Command buoy-buildkite-plugin is buoy's Buildkite plugin: hooks/command
// runs it in a job with the plugin's options in
// BUILDKITE_PLUGIN_CONFIGURATION. It deploys with buoy, renders progress
// as log sections, annotates the build with the outcome and sets build
// meta-data (buoy:release-id, buoy:deployment-id, buoy:status).
//
// Exit codes, the same as the CLI's (internal/exitcode): 0 success (or a
// plan), 1 the deployment failed, 2 bad configuration or input, including
// a protected environment that needs confirm: true (nothing changed), 3
// another run holds the environment's lock, 4 timed out waiting for ECS,
// 130 interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/buoy-deploy/buoy/internal/buildinfo"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/interrupt"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (.goreleaser.yaml); unset, buildinfo.Version finds the module version
// `go install` recorded.
var version = buildinfo.Unstamped

func main() {
	if buildinfo.Requested(os.Args[1:]) {
		fmt.Println("buoy-buildkite-plugin", buildinfo.Version(version))
		return
	}
	ctx, stop := interrupt.Context(context.Background(), os.Stderr, os.Exit)
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("BUOY_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	err := run(ctx, os.Getenv, deps{
		open:   entry.Opener,
		agent:  agent{run: execRunner{env: os.Environ()}},
		stdout: os.Stdout,
		logger: logger,
	})
	stop()
	os.Exit(exitCode(err))
}

// exitCode maps run's error to the process's exit code, the same as the
// CLI's (internal/exitcode), so pipelines can branch on it (e.g. retry:
// automatic: exit_status: 3 when the environment is locked).
func exitCode(err error) int {
	if errors.Is(err, errConfig) {
		return exitcode.BadInput
	}
	return exitcode.Of(err)
}
