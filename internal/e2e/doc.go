// Package e2e holds buoy's end-to-end reliability tests: they build the
// buoy CLI, run it against moto through a fault proxy, and check what it
// leaves behind on moto itself: crashes (SIGKILL at each stage) and
// re-runs, graceful stops (SIGINT, SIGTERM), lock contention, secrets in
// output and records, and that every AWS call is covered by the IAM
// policy `buoy iam-policy` prints. The tests carry the integration build
// tag.
package e2e
