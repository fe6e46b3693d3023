package rollout

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// describeTasksBatch is how many tasks DescribeTasks takes at once, and
// listTasksPage how many ListTasks returns at most per page.
const (
	describeTasksBatch = 100
	listTasksPage      = 100
)

// RunningDigests returns the image digests the running tasks of a
// service report, by container image (as the task definition names it),
// each digest once. A running task's container that reports no digest
// (still pending, or ECS did not say) adds "" for its image. It reads
// every running task: ListTasks page after page, DescribeTasks 100 at a
// time.
func (r *Rollout) RunningDigests(ctx context.Context, cluster, service string) (map[string][]string, error) {
	var arns []string
	var next *string
	for {
		if err := r.budget.Wait(ctx, "ListTasks"); err != nil {
			return nil, err
		}
		page, err := r.api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster), ServiceName: aws.String(service),
			DesiredStatus: types.DesiredStatusRunning, MaxResults: aws.Int32(listTasksPage), NextToken: next})
		r.budget.Observe("ListTasks", err)
		if err != nil {
			return nil, fmt.Errorf("list the running tasks of %s: %w", service, err)
		}
		arns = append(arns, page.TaskArns...)
		if next = page.NextToken; aws.ToString(next) == "" {
			break
		}
	}
	out := map[string][]string{}
	for batch := range slices.Chunk(arns, describeTasksBatch) {
		if err := r.budget.Wait(ctx, "DescribeTasks"); err != nil {
			return nil, err
		}
		desc, err := r.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		r.budget.Observe("DescribeTasks", err)
		if err != nil {
			return nil, fmt.Errorf("describe the running tasks of %s: %w", service, err)
		}
		for _, t := range desc.Tasks {
			for _, c := range t.Containers {
				img := aws.ToString(c.Image)
				if d := aws.ToString(c.ImageDigest); !slices.Contains(out[img], d) {
					out[img] = append(out[img], d)
				}
			}
		}
	}
	return out, nil
}

// stoppedTasks explains why tasks of our deployment stopped, from their
// stop reasons and container exit codes: "2 tasks stopped: ...".
func (r *Rollout) stoppedTasks(ctx context.Context, h Handle) (string, error) {
	if err := r.budget.Wait(ctx, "ListTasks"); err != nil {
		return "", err
	}
	list, err := r.api.ListTasks(ctx, &ecs.ListTasksInput{
		Cluster:       aws.String(h.Cluster),
		StartedBy:     aws.String(h.DeploymentID),
		DesiredStatus: types.DesiredStatusStopped,
		MaxResults:    aws.Int32(10),
	})
	r.budget.Observe("ListTasks", err)
	if err != nil {
		return "", fmt.Errorf("list stopped tasks of %s: %w", h.DeploymentID, err)
	}
	if len(list.TaskArns) == 0 {
		return "", nil
	}
	if err := r.budget.Wait(ctx, "DescribeTasks"); err != nil {
		return "", err
	}
	desc, err := r.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(h.Cluster), Tasks: list.TaskArns})
	r.budget.Observe("DescribeTasks", err)
	if err != nil {
		return "", fmt.Errorf("describe stopped tasks of %s: %w", h.DeploymentID, err)
	}
	var order []string
	count := map[string]int{}
	for _, t := range desc.Tasks {
		why := stopReason(t)
		if count[why] == 0 {
			order = append(order, why)
		}
		count[why]++
	}
	parts := make([]string, len(order))
	for i, why := range order {
		parts[i] = why
		if n := count[why]; n > 1 {
			parts[i] = fmt.Sprintf("%s (%d tasks)", why, n)
		}
	}
	return fmt.Sprintf("%d stopped tasks: %s", len(desc.Tasks), strings.Join(parts, "; ")), nil
}

// stopReason says in one line why a task stopped.
func stopReason(t types.Task) string {
	var parts []string
	if s := aws.ToString(t.StoppedReason); s != "" {
		parts = append(parts, s)
	} else if t.StopCode != "" {
		parts = append(parts, string(t.StopCode))
	}
	for _, c := range t.Containers {
		name := aws.ToString(c.Name)
		if c.ExitCode != nil && *c.ExitCode != 0 {
			parts = append(parts, fmt.Sprintf("container %s exited with code %d", name, *c.ExitCode))
		}
		if why := aws.ToString(c.Reason); why != "" {
			parts = append(parts, fmt.Sprintf("container %s: %s", name, why))
		}
	}
	if len(parts) == 0 {
		return "stopped without a reason"
	}
	return strings.Join(parts, ", ")
}
