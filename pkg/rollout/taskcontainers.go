package rollout

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// containerResults says, for each container of task (as DescribeTasks
// showed it) whether its definition makes it essential, how it exited
// and where it logs. Without the task definition every container counts
// as essential.
func (r *Rollout) containerResults(ctx context.Context, t Task, task types.Task) []ContainerResult {
	defs := map[string]types.ContainerDefinition{}
	if td, err := r.TaskDefinition(ctx, t.TaskDefinition); err != nil {
		r.log.DebugContext(ctx, "could not read the task's definition", "taskDefinition", t.TaskDefinition, "err", err)
	} else if td.TaskDefinition != nil {
		for _, c := range td.TaskDefinition.ContainerDefinitions {
			defs[aws.ToString(c.Name)] = c
		}
	}
	var out []ContainerResult
	for _, c := range task.Containers {
		name := aws.ToString(c.Name)
		def := defs[name]
		out = append(out, ContainerResult{Name: name, Essential: def.Essential == nil || *def.Essential, ExitCode: c.ExitCode,
			Reason: aws.ToString(c.Reason), Logs: logStream(def, t, c)})
	}
	return out
}
