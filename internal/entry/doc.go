// Package entry is what buoy's three entrypoints (the CLI in cmd/buoy,
// the GitHub Action in action/, the Buildkite plugin in
// buildkite-plugin/) share, so that each only reads its inputs and
// renders what comes back as its host expects:
//
//   - Open opens the orchestration: it finds the manifest, loads the AWS
//     configuration (region, profile), opens deploy.Deployer and reports
//     the manifest's warnings as events;
//   - Do runs one operation (release-deploy, prepare, deploy, promote,
//     rollback, status or a plan of one) from one typed Request;
//   - ReadOrigin says who asks and from which CI build, the same whatever
//     the entrypoint, so one run records one RequestedBy and history.CI.
//
// Entrypoints never import pkg/rollout; the limits they take and their
// defaults are pkg/deploy's (checked by internal/inputcheck).
package entry
