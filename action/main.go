// Command buoy-action is buoy's GitHub Action: it reads the step's inputs
// the way the runner passes them (INPUT_*), runs one buoy operation
// (release-deploy, prepare, deploy, promote, rollback, status or plan) and
// reports it as log groups, annotations, step outputs and a job summary.
// Optionally it records the deployment on GitHub's Environments page.
//
// AWS credentials come from the standard chain (environment, web identity,
// shared config, container and instance roles), so
// aws-actions/configure-aws-credentials, with OIDC or keys, works unchanged.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/sethvargo/go-githubactions"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := githubactions.New()
	err := run(ctx, a, realDeps())
	stop()
	if err == nil {
		return
	}
	var r *reportedError
	if errors.As(err, &r) {
		// The details are annotated already; say it once more in short.
		a.Errorf("%s", r.summary)
		os.Exit(1)
	}
	a.Fatalf("%s", err)
}
