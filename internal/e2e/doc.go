// Package e2e holds buoy's end-to-end reliability tests: they build the
// buoy CLI, run it against moto through a fault proxy, and check what it
// leaves behind on moto itself: crashes (SIGKILL at each stage, also
// while ECS rolls out and while rolling back) and re-runs, graceful stops
// (SIGINT, SIGTERM), lock contention and parallel environments, concurrent
// releases, secrets in output and records, and that every AWS call is
// covered by the IAM policy `buoy iam-policy` prints. Rollouts moto
// cannot play (slow, failing) come from the scripted ECS server
// (internal/ecsfake), ECR and DynamoDB staying on moto. A matrix deploys
// a weco-deploy project of every .wellcome_project shape seen in the wild
// through the CLI, the GitHub Action and the Buildkite plugin's hook
// (internal/cihost runs them as their hosts do), in an account crowded
// with other projects' services. The tests carry the integration build
// tag.
package e2e
