package rollout

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/buoy-deploy/buoy/pkg/clock"
)

// Category is a group of ECS actions that share one of AWS's throttling
// token buckets in each account and Region ("Request throttling for the
// Amazon ECS API",
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
type Category string

// The categories of the ECS actions buoy calls, named as AWS names them.
const (
	ClusterRead           Category = "cluster read"            // ListClusters
	ServiceRead           Category = "service read"            // DescribeServices, ListServices
	ServiceModify         Category = "service modify"          // UpdateService
	TaskDefinitionRead    Category = "task definition read"    // DescribeTaskDefinition, ListTaskDefinitions
	TaskDefinitionModify  Category = "task definition modify"  // RegisterTaskDefinition, DeregisterTaskDefinition
	ClusterResourceRead   Category = "cluster resource read"   // ListTasks, DescribeTasks
	ClusterResourceModify Category = "cluster resource modify" // RunTask
	ServiceDeployment     Category = "service deployment"      // ListServiceDeployments, DescribeServiceDeployments
)

// Categories returns every category buoy calls ECS in.
func Categories() []Category {
	return []Category{ClusterRead, ServiceRead, ServiceModify, TaskDefinitionRead, TaskDefinitionModify, ClusterResourceRead,
		ClusterResourceModify, ServiceDeployment}
}

// CategoryOf returns the category of an ECS operation (its API name, as
// in "UpdateService"), and false for an operation buoy does not call.
func CategoryOf(op string) (Category, bool) {
	switch op {
	case "ListClusters":
		return ClusterRead, true
	case "DescribeServices", "ListServices":
		return ServiceRead, true
	case "UpdateService":
		return ServiceModify, true
	case "DescribeTaskDefinition", "ListTaskDefinitions":
		return TaskDefinitionRead, true
	case "RegisterTaskDefinition", "DeregisterTaskDefinition":
		return TaskDefinitionModify, true
	case "ListTasks", "DescribeTasks":
		return ClusterResourceRead, true
	case "RunTask":
		return ClusterResourceModify, true
	case "ListServiceDeployments", "DescribeServiceDeployments":
		return ServiceDeployment, true
	}
	return "", false
}

// Quota is a token bucket: Burst requests at once, then Rate a second.
type Quota struct {
	Rate  float64
	Burst int
}

// AWSQuota returns the bucket AWS documents for a category, per account
// and Region (the default quotas; AWS Support can raise them).
func AWSQuota(c Category) Quota {
	switch c {
	case ServiceRead, ClusterResourceRead:
		return Quota{Rate: 20, Burst: 100}
	case ServiceModify:
		return Quota{Rate: 5, Burst: 50}
	case ClusterRead, TaskDefinitionRead, ServiceDeployment:
		return Quota{Rate: 20, Burst: 50}
	case TaskDefinitionModify:
		return Quota{Rate: 1, Burst: 20}
	case ClusterResourceModify:
		return Quota{Rate: 40, Burst: 100}
	}
	return Quota{}
}

// DefaultQuotaShare is the share of each of AWS's buckets a Budget uses
// unless told otherwise: half, so that two buoy runs deploying to one
// account and Region at once (other environments, other projects) stay
// within AWS's quota between them, and so does one run next to the
// account's other tools.
const DefaultQuotaShare = 0.5

// ErrNoCategory is returned by Budget.Wait for an ECS operation that has
// no category: a call added to buoy without its place in AWS's buckets.
var ErrNoCategory = errors.New("no ECS throttling category")

// Budget is an ECS request budget with one Limiter per category of
// actions, as AWS throttles them. Each halves its rate when ECS throttles
// a call of its category. A Budget is safe for concurrent use; share one
// among everything that calls ECS in one account and Region.
type Budget struct {
	limiters map[Category]*Limiter
}

// NewBudget returns a budget that gives each category share of AWS's
// quota for it (DefaultQuotaShare if share is not above 0), at most
// maxRate requests a second and bursts of maxBurst (no cap if 0), timed
// by clk (nil: the system clock).
func NewBudget(clk clock.Clock, share, maxRate float64, maxBurst int) *Budget {
	if !(share > 0) || math.IsInf(share, 0) {
		share = DefaultQuotaShare
	}
	b := &Budget{limiters: map[Category]*Limiter{}}
	for _, c := range Categories() {
		q := AWSQuota(c)
		rate, burst := share*q.Rate, int(share*float64(q.Burst))
		if maxRate > 0 {
			rate = min(rate, maxRate)
		}
		if maxBurst > 0 {
			burst = min(burst, maxBurst)
		}
		b.limiters[c] = NewLimiter(clk, rate, burst)
	}
	return b
}

// Limiter returns the bucket of a category (nil if it has none).
func (b *Budget) Limiter(c Category) *Limiter { return b.limiters[c] }

// Wait takes one request of op's category from the budget, waiting for
// it if needed.
func (b *Budget) Wait(ctx context.Context, op string) error {
	c, ok := CategoryOf(op)
	if !ok {
		return fmt.Errorf("ECS %s: %w", op, ErrNoCategory)
	}
	return b.limiters[c].Wait(ctx)
}

// Observe adjusts op's category after a call (Limiter.Observe).
func (b *Budget) Observe(op string, err error) {
	if c, ok := CategoryOf(op); ok {
		b.limiters[c].Observe(err)
	}
}
