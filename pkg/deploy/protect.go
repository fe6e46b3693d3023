package deploy

import (
	"context"
	"fmt"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// Confirmer asks whoever runs an operation, when it may (a person at a
// terminal), to confirm a deployment to a protected environment that
// neither Request.Confirm nor a promotion from the environment's source
// allows. It returns whether they confirmed; an error ends the operation
// with it.
type Confirmer func(ctx context.Context, environment string) (bool, error)

// WithConfirmer makes the Deployer ask c before refusing a deployment to
// a protected environment (default: nobody is asked, and such a
// deployment fails with ErrConfirmationRequired). c is asked before the
// environment is locked and before anything changes.
func WithConfirmer(c Confirmer) Option { return func(d *Deployer) { d.confirmer = c } }

// checkProtected is where buoy decides whether a deployment may go to a
// protected environment: when confirmed (Request.Confirm), promoted from
// the environment's promotes_from, only planned (Request.DryRun), or, with
// WithConfirmer, confirmed when asked. Otherwise it refuses with
// ErrConfirmationRequired.
func (d *Deployer) checkProtected(ctx context.Context, env *manifest.Environment, op operation) error {
	if !env.Protected || op.req.Confirm || op.req.DryRun {
		return nil
	}
	if op.promotion != "" && op.promotion == env.PromotesFrom {
		return nil
	}
	if d.confirmer != nil {
		ok, err := d.confirmer(ctx, env.ID)
		if err != nil {
			return fmt.Errorf("ask to confirm deploying to protected environment %s: %w", env.ID, err)
		}
		if ok {
			return nil
		}
		return fmt.Errorf("%w: environment %s is protected: not confirmed", ErrConfirmationRequired, env.ID)
	}
	how := "confirm it"
	if env.PromotesFrom != "" {
		how += ", or promote from " + env.PromotesFrom
	}
	return fmt.Errorf("%w: environment %s is protected: %s", ErrConfirmationRequired, env.ID, how)
}
