// Package buildinfo says which version of buoy a binary is. A release
// stamps its version into each binary with -ldflags "-X main.version=v1.2.3"
// (.goreleaser.yaml); a binary built by `go install ...@v1.2.3` is not
// stamped, but the Go toolchain records the module version in it, which
// Version falls back to. The CLI, the Action and the plugin all print it.
package buildinfo

import "runtime/debug"

// Unstamped is the version of a binary built from a checkout with no
// version the toolchain could record (go build, go run, tests).
const Unstamped = "dev"

// Version returns stamped, the version the release linked into main,
// unless it is empty or Unstamped; then the main module's version as the
// Go toolchain recorded it (v1.2.3 for `go install
// github.com/buoy-deploy/buoy/cmd/buoy@v1.2.3`, a pseudo-version for a
// commit); else Unstamped.
func Version(stamped string) string {
	return version(stamped, debug.ReadBuildInfo)
}

// version is Version with the build information injected, for tests.
func version(stamped string, read func() (*debug.BuildInfo, bool)) string {
	if stamped != "" && stamped != Unstamped {
		return stamped
	}
	info, ok := read()
	if !ok || info == nil {
		return Unstamped
	}
	// (devel) is what the toolchain records when it knows no version: a
	// build in a checkout without VCS stamping.
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	return Unstamped
}

// Requested reports whether a binary that takes no arguments (the
// Action's, the plugin's) was asked for its version: `buoy-action
// --version`. Their hosts run them with no arguments.
func Requested(args []string) bool {
	return len(args) == 1 && args[0] == "--version"
}
