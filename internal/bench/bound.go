package main

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// dynamoDBCalls is the least the history takes per deployment, whatever
// the number of services: 8 writes (the release, the lock taken and
// freed, the deployment record created, written as the tag moves and the
// service updates begin, and closed, the environment's current record),
// at least one progress write per stage (the record is written as each
// move and update is confirmed, coalesced: at most one per move and
// update, fewer when they come faster than DynamoDB answers) and 3 reads
// (recent deployments, to resume a dead run's; the current record, to
// plan and to set it).
const dynamoDBCalls = 13

// lowerBound returns the fewest AWS calls, by operation, a release-deploy
// with waiting of n images in n repositories feeding n services, on each
// of targets clusters, can make with the tag strategy when every tag
// moves and ECS has finished by the first poll:
//
//   - n BatchGetImage: one per repository reads the label and the
//     floating tag together (and the manifest to put back);
//   - n PutImage: every tag moves;
//   - ceil(n/10) DescribeServices per target for the preflight, and as
//     many for the one poll;
//   - n UpdateService and n DescribeTaskDefinition per target (each
//     service has its own task definition, read once);
//   - a constant number of DynamoDB calls.
func lowerBound(n, targets int) map[string]int {
	batches := (n + 9) / 10
	return map[string]int{
		"ECR.BatchGetImage":          n,
		"ECR.PutImage":               n,
		"ECS.DescribeServices":       2 * batches * targets,
		"ECS.UpdateService":          n * targets,
		"ECS.DescribeTaskDefinition": n * targets,
		"DynamoDB.*":                 dynamoDBCalls,
	}
}

// legacyLowerBound returns the fewest AWS calls a release-deploy with
// waiting can make of a legacy project (a .wellcome_project: no cluster,
// services found by their tags, SSM published after success) of n images
// in n repositories each feeding one service, its services spread over
// clusters clusters (deployfixture.LegacyProject: two), when every tag
// moves and ECS has finished by the first poll: lowerBound's ECR, task
// definition, update and DynamoDB calls, and
//
//   - ceil(n/20) GetResources: the tagging API takes 20 service ids a
//     call (and answers 100 services a page, more than the project's);
//   - per cluster, ceil(s/10) DescribeServices for its s services to
//     confirm what the search found (which is also the preflight's
//     read), and as many for the one poll;
//   - ceil(n/10) GetParameters and n PutParameter: SSM is read, ten
//     names a call, so that only parameters whose value changes are
//     written, and every one changes.
//
// Nothing in it depends on the services of other projects in the
// account.
func legacyLowerBound(n, clusters int) map[string]int {
	b := lowerBound(n, 1)
	describe := 0
	for c := range clusters {
		s := n / clusters
		if c < n%clusters {
			s++
		}
		describe += (s + 9) / 10
	}
	b["ECS.DescribeServices"] = 2 * describe
	b["ResourceGroupsTaggingAPI.GetResources"] = (n + 19) / 20
	b["SSM.GetParameters"] = (n + 9) / 10
	b["SSM.PutParameter"] = n
	return b
}

// quotaFloor returns the least time AWS's ECS quota allows for the ECS
// calls of calls (by "ECS.<operation>", as lowerBound counts them) in one
// account and Region, when buoy may use share of each category's
// documented bucket and every bucket starts full: in each category, the
// calls beyond its burst come at its refill rate. A release-deploy makes
// its calls of each category one stage after another (it reads every task
// definition before it updates a service), so the categories' times add
// up.
func quotaFloor(calls map[string]int, share float64) time.Duration {
	byCategory := map[rollout.Category]int{}
	for k, n := range calls {
		svc, op, _ := strings.Cut(k, ".")
		if c, ok := rollout.CategoryOf(op); ok && svc == "ECS" {
			byCategory[c] += n
		}
	}
	var seconds float64
	for c, n := range byCategory {
		q := rollout.AWSQuota(c)
		if over := float64(n) - math.Floor(share*float64(q.Burst)); over > 0 {
			seconds += over / (share * q.Rate)
		}
	}
	return time.Duration(seconds * float64(time.Second))
}

// fastest returns the least time a row's release-deploy can take: what
// the quota allows (quotaFloor, at the share of it the account leaves to
// buoy), and no less than buoy's own time with no budget at all
// (unpaced). 0 when the unpaced run was not measured.
func (m *measurement) fastest() time.Duration {
	if m.unpaced == 0 {
		return 0
	}
	return max(quotaFloor(m.bound(), m.accountShare()), m.unpaced)
}

// accountShare is the share of AWS's documented quota the account leaves
// to buoy: all of it on a quiet account.
func (m *measurement) accountShare() float64 {
	if m.throttledShare > 0 {
		return m.throttledShare
	}
	return 1
}

func total(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// byService sums calls by service ("ECS", "ECR", "DynamoDB", ...).
func byService(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		svc, _, _ := strings.Cut(k, ".")
		out[svc] += v
	}
	return out
}

// bound returns the lower bound of the measurement's row.
func (m *measurement) bound() map[string]int {
	if m.legacy {
		return legacyLowerBound(m.n, m.targets)
	}
	return lowerBound(m.n, m.targets)
}

func (m *measurement) printDetail(w io.Writer) {
	what := fmt.Sprintf("N=%d targets=%d", m.n, m.targets)
	switch {
	case m.legacy:
		what = fmt.Sprintf("legacy N=%d over %d clusters, %d other services in the account", m.n, m.targets, m.others)
	case m.throttledShare > 0:
		what = fmt.Sprintf("N=%d targets=%d, the account leaving %g of AWS's ECS quota (%d calls throttled)", m.n, m.targets, m.throttledShare, m.throttled)
	}
	fmt.Fprintf(w, "%s: setup %.1fs, release-deploy %.2fs, %s; calls by operation (lower bound):\n",
		what, m.setup.Seconds(), m.wall.Seconds(), m.status)
	lb := m.bound()
	for _, k := range slices.Sorted(maps.Keys(m.stats)) {
		bound := "-"
		if v, ok := lb[k]; ok {
			bound = fmt.Sprint(v)
		}
		fmt.Fprintf(w, "  %-40s %6d  (%s)\n", k, m.stats[k], bound)
	}
	fmt.Fprintf(w, "  %-40s %6d  (%d)\n\n", "DynamoDB (all operations)", byService(m.stats)["DynamoDB"], dynamoDBCalls)
}

func printTable(w io.Writer, ms []*measurement) {
	fmt.Fprintln(w, "| N images | targets | wall time | quota floor | unpaced | time / fastest | AWS calls | lower bound | calls / bound | peak RSS | ECR | ECS | DynamoDB |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, m := range ms {
		calls, bound := total(m.stats), total(m.bound())
		svc := byService(m.stats)
		fmt.Fprintf(w, "| %d | %d | %.2f s | %.1f s | %s | %s | %d | %d | %.2f | %.1f MiB | %d | %d | %d |\n",
			m.n, m.targets, m.wall.Seconds(), quotaFloor(m.bound(), 1).Seconds(), seconds(m.unpaced), m.ratio(),
			calls, bound, float64(calls)/float64(bound), float64(m.maxRSSKiB)/1024, svc["ECR"], svc["ECS"], svc["DynamoDB"])
	}
}

// printThrottledTable prints the rows run against an account whose ECS
// buckets hold only part of AWS's quota, throttling the rest.
func printThrottledTable(w io.Writer, ms []*measurement) {
	fmt.Fprintln(w, "| N images | targets | quota left to buoy | status | wall time | quota floor | unpaced | time / fastest | ECS calls | throttled | ECS lower bound |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, m := range ms {
		fmt.Fprintf(w, "| %d | %d | %g | %s | %.2f s | %.1f s | %s | %s | %d | %d | %d |\n",
			m.n, m.targets, m.throttledShare, m.status, m.wall.Seconds(), quotaFloor(m.bound(), m.throttledShare).Seconds(),
			seconds(m.unpaced), m.ratio(), byService(m.stats)["ECS"], m.throttled, byService(m.bound())["ECS"])
	}
}

// ratio is the wall time over the fastest the row allows, "-" unmeasured.
func (m *measurement) ratio() string {
	if f := m.fastest(); f > 0 {
		return fmt.Sprintf("%.2f", m.wall.Seconds()/f.Seconds())
	}
	return "-"
}

func seconds(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// searchable returns the calls of stats that could depend on what else
// the account holds: all but DynamoDB's PutItem, whose count depends on
// timing alone (the record's progress writes are coalesced while one is
// in flight) and differs between two runs of one row.
func searchable(stats map[string]int) map[string]int {
	out := maps.Clone(stats)
	delete(out, "DynamoDB.PutItem")
	return out
}

// printLegacyTable prints the legacy rows, each crowded row beside the
// quiet one of its N: their calls must be the same, operation by
// operation (searchable).
func printLegacyTable(w io.Writer, quiet, crowded []*measurement) {
	fmt.Fprintln(w, "| N images | other services in the account | wall time | AWS calls | lower bound | calls / bound | peak RSS | GetResources | ECS | SSM | calls as without them |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for i, m := range append(slices.Clone(quiet), crowded...) {
		calls, bound := total(m.stats), total(m.bound())
		svc := byService(m.stats)
		same := "-"
		if i >= len(quiet) {
			same = "**differ**"
			if maps.Equal(searchable(m.stats), searchable(quiet[i-len(quiet)].stats)) {
				same = "equal"
			}
		}
		fmt.Fprintf(w, "| %d | %d | %.2f s | %d | %d | %.2f | %.1f MiB | %d | %d | %d | %s |\n",
			m.n, m.others, m.wall.Seconds(), calls, bound, float64(calls)/float64(bound),
			float64(m.maxRSSKiB)/1024, m.stats["ResourceGroupsTaggingAPI.GetResources"], svc["ECS"], svc["SSM"], same)
	}
}
