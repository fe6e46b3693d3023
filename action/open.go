package main

import (
	"errors"
	"os"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// realDeps are the dependencies of a real run.
func realDeps() deps {
	return deps{open: entry.Opener, environ: os.Environ}
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
