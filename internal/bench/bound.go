package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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

func (m *measurement) printDetail(w io.Writer) {
	fmt.Fprintf(w, "N=%d targets=%d: setup %.1fs, release-deploy %.2fs, %s; calls by operation (lower bound):\n",
		m.n, m.targets, m.setup.Seconds(), m.wall.Seconds(), m.status)
	lb := lowerBound(m.n, m.targets)
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
	fmt.Fprintln(w, "| N images | targets | wall time | AWS calls | lower bound | calls / bound | peak RSS | ECR | ECS | DynamoDB |")
	fmt.Fprintln(w, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, m := range ms {
		calls, bound := total(m.stats), total(lowerBound(m.n, m.targets))
		svc := byService(m.stats)
		fmt.Fprintf(w, "| %d | %d | %.2f s | %d | %d | %.2f | %.1f MiB | %d | %d | %d |\n",
			m.n, m.targets, m.wall.Seconds(), calls, bound, float64(calls)/float64(bound),
			float64(m.maxRSSKiB)/1024, svc["ECR"], svc["ECS"], svc["DynamoDB"])
	}
}
