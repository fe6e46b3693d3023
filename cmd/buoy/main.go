// Command buoy deploys container images to Amazon ECS by moving floating
// ECR tags and redeploying the services that use them, and records every
// release and deployment in DynamoDB. Run `buoy --help`, or read
// docs/cli.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		stdin:    os.Stdin,
		stdout:   os.Stdout,
		stderr:   os.Stderr,
		getenv:   os.Getenv,
		terminal: term.IsTerminal(int(os.Stdin.Fd())),
		version:  version,
	}
	code := a.main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
