package deploy

import (
	"time"

	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// The bounds and defaults of the settings every entrypoint takes by the
// same names (the CLI's --lock-wait, --lock-ttl, --ecs-quota-share,
// --ecs-rate, --ecs-burst, --timeout and --rollback-timeout, the Action's
// inputs and the plugin's options): entrypoints check what they are given
// against these, and New refuses options outside them. DefaultTimeout,
// DefaultRollbackTimeout, DefaultLockWait, DefaultLockTTL and MaxLockTTL
// complete the set.
const (
	// MinLockTTL is the shortest lease of the environment lock: the lease
	// is renewed every third of it, so a shorter one would lapse whenever
	// one renewal is slow.
	MinLockTTL = 3 * time.Second
	// DefaultECSQuotaShare is the share of AWS's quota of each category
	// of ECS actions a run may use unless told otherwise
	// (WithECSQuotaShare): all of it, backing off when ECS throttles, so
	// that other runs and tools in the account and Region get their part.
	DefaultECSQuotaShare = rollout.DefaultQuotaShare
	// DefaultECSRate caps the ECS requests a second of each category, per
	// account and Region, unless told otherwise (WithECSRequestBudget).
	DefaultECSRate = rollout.DefaultRate
	// DefaultECSBurst caps the ECS requests at once of each category, per
	// account and Region, unless told otherwise (WithECSRequestBudget).
	DefaultECSBurst = rollout.DefaultBurst
)
