package inputcheck

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/buoy-deploy/buoy/pkg/deploy"
)

// Limits are how a run waits for and holds the environment's lock, and
// how fast it may call ECS: the same five settings, with the same
// defaults and rules, whether they come from the CLI's flags
// (--lock-wait, --lock-ttl, --ecs-quota-share, --ecs-rate, --ecs-burst),
// the Action's inputs or the plugin's options of those names.
type Limits struct {
	// LockWait is how long to wait for another run's lock; 0 fails at once.
	LockWait time.Duration
	// LockTTL is the lease of this run's lock, renewed every third of it.
	LockTTL time.Duration
	// ECSQuotaShare is the share of AWS's ECS request quota of each
	// category of actions a run may use (0.5 half, 1 all of it).
	ECSQuotaShare float64
	// ECSRate caps the ECS requests a second of every category, per
	// account and Region.
	ECSRate float64
	// ECSBurst caps the ECS requests at once of every category.
	ECSBurst int
}

// DefaultLimits are the library's defaults.
func DefaultLimits() Limits {
	return Limits{
		LockWait:      deploy.DefaultLockWait,
		LockTTL:       deploy.DefaultLockTTL,
		ECSQuotaShare: deploy.DefaultECSQuotaShare,
		ECSRate:       deploy.DefaultECSRate,
		ECSBurst:      deploy.DefaultECSBurst,
	}
}

// Problems checks each limit against the library's bounds
// (deploy.MinLockTTL, deploy.MaxLockTTL, ...) and returns one error per
// bad value, in the order lock-wait, lock-ttl, ecs-quota-share, ecs-rate,
// ecs-burst. subject names a setting
// by its kebab-case key for the entrypoint's user, e.g. "--lock-wait" or
// "input lock-wait"; each message reads "<subject> must ...".
func (l Limits) Problems(subject func(key string) string) []error {
	var errs []error
	if l.LockWait < 0 {
		errs = append(errs, fmt.Errorf("%s must not be negative, got %s", subject("lock-wait"), l.LockWait))
	}
	switch {
	case l.LockTTL < deploy.MinLockTTL:
		errs = append(errs, fmt.Errorf("%s must be at least %s (the lease is renewed every third of it), got %s", subject("lock-ttl"), deploy.MinLockTTL, l.LockTTL))
	case l.LockTTL > deploy.MaxLockTTL:
		errs = append(errs, fmt.Errorf("%s must be at most %s (the lease is renewed every third of it, so it never needs to be long, and a killed run's lock is taken over only a lease after it stopped): write %s, the default, or up to %s, got %s",
			subject("lock-ttl"), deploy.MaxLockTTL, shortDuration(deploy.DefaultLockTTL), shortDuration(deploy.MaxLockTTL), l.LockTTL))
	}
	if !(l.ECSQuotaShare > 0) || math.IsInf(l.ECSQuotaShare, 0) {
		errs = append(errs, fmt.Errorf("%s must be a number above 0 (0.5 is half of AWS's quota, 1 all of it), not %v", subject("ecs-quota-share"), l.ECSQuotaShare))
	}
	if !(l.ECSRate > 0) || math.IsInf(l.ECSRate, 0) {
		errs = append(errs, fmt.Errorf("%s must be a number of requests a second above 0, not %v", subject("ecs-rate"), l.ECSRate))
	}
	if l.ECSBurst < 1 {
		errs = append(errs, fmt.Errorf("%s must be at least 1, not %d", subject("ecs-burst"), l.ECSBurst))
	}
	return errs
}

// shortDuration writes d as a user would: 2m rather than 2m0s.
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// Options returns the library options that apply the limits.
func (l Limits) Options() []deploy.Option {
	return []deploy.Option{
		deploy.WithLockWait(l.LockWait),
		deploy.WithLockTTL(l.LockTTL),
		deploy.WithECSQuotaShare(l.ECSQuotaShare),
		deploy.WithECSRequestBudget(l.ECSRate, l.ECSBurst),
	}
}

// AnyDuration parses a duration that may be zero or negative (the limits
// say which are allowed), such as 10m, 90s or 0.
func AnyDuration(v string) (time.Duration, error) {
	return parse(v, time.ParseDuration, "a duration: write it like 10m, 90s or 0")
}

// Number parses a number, such as 20 or 0.5 (Inf and NaN too: the limits
// refuse them with the CLI's message).
func Number(v string) (float64, error) {
	return parse(v, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }, "a number: write it like 20 or 0.5")
}

// WholeNumber parses a whole number, such as 50.
func WholeNumber(v string) (int, error) {
	return parse(v, strconv.Atoi, "a whole number: write it like 50")
}

// parse checks v with Line, then parses it, or says that it is not what.
func parse[T any](v string, p func(string) (T, error), what string) (T, error) {
	var zero T
	if err := Line(v); err != nil {
		return zero, err
	}
	x, err := p(v)
	if err != nil {
		return zero, fmt.Errorf("%s is not %s", Quote(v), what)
	}
	return x, nil
}
