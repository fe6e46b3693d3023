package rollout

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

type taskDefinitionEntry struct {
	once sync.Once
	out  *ecs.DescribeTaskDefinitionOutput
	err  error
}

// TaskDefinition describes a task definition, with its tags, once per ARN
// for the life of the Rollout.
func (r *Rollout) TaskDefinition(ctx context.Context, arn string) (*ecs.DescribeTaskDefinitionOutput, error) {
	r.tdMu.Lock()
	e, ok := r.tds[arn]
	if !ok {
		e = &taskDefinitionEntry{}
		r.tds[arn] = e
	}
	r.tdMu.Unlock()
	e.once.Do(func() {
		if e.err = r.budget.Wait(ctx, "DescribeTaskDefinition"); e.err != nil {
			return
		}
		e.out, e.err = r.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(arn),
			Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		})
		r.budget.Observe("DescribeTaskDefinition", e.err)
		if e.err != nil {
			e.err = fmt.Errorf("describe task definition %s: %w", arn, e.err)
		}
	})
	if e.err != nil {
		// Do not cache failures (a cancelled context, throttling).
		r.tdMu.Lock()
		if r.tds[arn] == e {
			delete(r.tds, arn)
		}
		r.tdMu.Unlock()
	}
	return e.out, e.err
}
