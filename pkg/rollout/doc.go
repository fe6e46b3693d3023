// Package rollout redeploys Amazon ECS services and follows the rollouts it
// starts until each one has really succeeded or clearly failed.
//
// A deployment finds its services ([Rollout.Find], [Rollout.FindByTags];
// with no cluster, across every cluster of the account and Region,
// through the Resource Groups Tagging API given by [WithTaggingAPI]),
// redeploys them ([Rollout.Redeploy], after [Rollout.RegisterImages] for the
// task-definition strategy), waits ([Rollout.Wait]) and, on failure, rolls
// back ([Rollout.Rollback]). After success, [Rollout.Cleanup] deregisters old
// task definition revisions that nothing uses.
//
// Wait follows the exact deployment that each update started, not the
// "services stable" condition: a deployment that the circuit breaker rolled
// back, one replaced by another deploy, crash-looping tasks and tasks that
// cannot be placed all end the wait on the first poll that shows them, each
// with a short diagnosis.
//
// The package never prints: it reports progress as events to an
// [event.Sink] and debug logs to an injected *slog.Logger.
package rollout
