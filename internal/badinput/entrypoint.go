package badinput

import (
	_ "embed" // for EntrypointManifest
	"strings"
)

//go:embed entrypoint.yaml
var entrypointManifest string

// EntrypointManifest is the manifest the GitHub Action's and the
// Buildkite plugin's bad-input corpora run against: one project, shop,
// with environments stage and prod.
func EntrypointManifest() string { return entrypointManifest }

// HugeAliasedManifest is a 465 KB manifest whose 400 KB string, behind
// an anchor, is named by 10,000 aliases, each an unknown service of the
// project shop: every error it makes would quote 400 KB if it quoted the
// value whole (80 MB in all, before errors were bounded). It is built,
// not kept as a file.
func HugeAliasedManifest() string {
	var b strings.Builder
	b.WriteString("version: 1\nx-big: &big \"")
	b.WriteString(strings.Repeat("A", 400_000))
	b.WriteString("\"\nprojects:\n  - id: shop\n    images:\n      - id: api\n        repository: shop/api\n        services: [")
	b.WriteString(strings.Repeat("*big, ", 10_000))
	b.WriteString("]\n    services: [{id: api}]\n    environments: [{id: stage, targets: [{cluster: main}]}]\n")
	return b.String()
}
