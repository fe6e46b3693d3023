// Command buoy deploys container images to Amazon ECS by moving floating
// ECR tags and redeploying the services that use them, and records every
// release and deployment in DynamoDB. Run `buoy --help`, or read
// docs/cli.md.
package main

import (
	"context"
	"os"

	"golang.org/x/term"

	"github.com/buoy-deploy/buoy/internal/buildinfo"
	"github.com/buoy-deploy/buoy/internal/interrupt"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"
// (.goreleaser.yaml); unset, buildinfo.Version finds the module version
// `go install` recorded.
var version = buildinfo.Unstamped

func main() {
	ctx, stop := interrupt.Context(context.Background(), os.Stderr, os.Exit)
	a := &app{
		stdin:    os.Stdin,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		getenv:   os.Getenv,
		terminal: term.IsTerminal(int(os.Stdin.Fd())),
		version:  buildinfo.Version(version),
	}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
