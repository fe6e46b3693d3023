package rollout

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// revisionsInUse returns the task definitions that ECS says are in use
// in the account and Region: those of every deployment of every service
// (ACTIVE or DRAINING) of every cluster, and those of family's tasks
// whose desired status is RUNNING (pending and running tasks, of services
// or not). A cluster deleted while it is read counts for nothing.
func (r *Rollout) revisionsInUse(ctx context.Context, family string) (map[string]bool, error) {
	clusters, err := r.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	tasks := 0
	for _, c := range clusters {
		n, err := r.clusterInUse(ctx, c, family, used)
		if isClusterGone(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		tasks += n
	}
	r.log.DebugContext(ctx, "task definitions in use", "clusters", len(clusters), "running tasks", tasks, "in use", len(used))
	return used, nil
}

// clusterInUse adds to used the task definitions of one cluster's
// services and of its running tasks of family, and returns how many
// tasks it read.
func (r *Rollout) clusterInUse(ctx context.Context, cluster, family string, used map[string]bool) (int, error) {
	arns, err := r.listServices(ctx, cluster)
	if err != nil {
		return 0, err
	}
	found, err := r.describe(ctx, cluster, arns, false)
	if err != nil {
		return 0, err
	}
	for _, s := range found {
		used[aws.ToString(s.TaskDefinition)] = true
		for _, d := range s.Deployments {
			used[aws.ToString(d.TaskDefinition)] = true
		}
	}
	tasks, err := r.runningTasks(ctx, cluster, family)
	if err != nil {
		return 0, err
	}
	for batch := range slices.Chunk(tasks, describeTasksBatch) {
		if err := r.budget.Wait(ctx, "DescribeTasks"); err != nil {
			return 0, err
		}
		desc, err := r.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		r.budget.Observe("DescribeTasks", err)
		if err != nil {
			return 0, fmt.Errorf("describe the running tasks of cluster %s: %w", cluster, err)
		}
		for _, t := range desc.Tasks {
			used[aws.ToString(t.TaskDefinitionArn)] = true
		}
	}
	return len(tasks), nil
}

// runningTasks lists the tasks of family in a cluster whose desired
// status is RUNNING, page after page: only those can run a revision of
// family, and an account may run thousands of others.
func (r *Rollout) runningTasks(ctx context.Context, cluster, family string) ([]string, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(r.api, &ecs.ListTasksInput{Cluster: aws.String(cluster), Family: aws.String(family),
		DesiredStatus: types.DesiredStatusRunning, MaxResults: aws.Int32(listTasksPage)})
	for p.HasMorePages() {
		if err := r.budget.Wait(ctx, "ListTasks"); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		r.budget.Observe("ListTasks", err)
		if err != nil {
			return nil, fmt.Errorf("list the running tasks of cluster %s: %w", cluster, err)
		}
		arns = append(arns, page.TaskArns...)
	}
	return arns, nil
}
