package badinput

import _ "embed" // for EntrypointManifest

//go:embed entrypoint.yaml
var entrypointManifest string

// EntrypointManifest is the manifest the GitHub Action's and the
// Buildkite plugin's bad-input corpora run against: one project, shop,
// with environments stage and prod.
func EntrypointManifest() string { return entrypointManifest }
