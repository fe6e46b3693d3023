package rollout

import (
	"context"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go/middleware"
)

// attemptsKey keeps the number of attempts of one ECS call.
type attemptsKey struct{}

// paceAttempts adds to an ECS client's stack what makes the SDK's own
// retries of a call obey the budget: each attempt the SDK makes after the
// first takes a request from the budget first (the first is taken by the
// caller, before the call), and each throttled attempt is reported to it
// at once. So the budget backs off at the first ThrottlingException, even
// when the SDK's retry of that call then succeeds.
func (r *Rollout) paceAttempts(stack *middleware.Stack) error {
	count := middleware.InitializeMiddlewareFunc("buoy-budget-attempts",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, attemptsKey{}, new(int)), in)
		})
	if err := stack.Initialize.Add(count, middleware.After); err != nil {
		return err
	}
	pace := middleware.FinalizeMiddlewareFunc("buoy-budget",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			if _, ok := CategoryOf(op); ok {
				if n, _ := middleware.GetStackValue(ctx, attemptsKey{}).(*int); n != nil {
					if *n++; *n > 1 {
						if err := r.budget.Wait(ctx, op); err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
					}
				}
			}
			out, md, err := next.HandleFinalize(ctx, in)
			if isThrottle(err) {
				r.budget.Observe(op, err)
			}
			return out, md, err
		})
	return stack.Finalize.Insert(pace, "Retry", middleware.After)
}

// withPacedAttempts is the ecs.Options change that installs paceAttempts.
func (r *Rollout) withPacedAttempts(o *ecs.Options) {
	o.APIOptions = append(o.APIOptions, r.paceAttempts)
}
