package rollout

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// CleanupInput says which old task definition revisions to deregister.
type CleanupInput struct {
	// Family is the task definition family, e.g. "app".
	Family string
	// Keep is how many of the newest ACTIVE revisions to keep (at least 1).
	Keep int
	// InUse are revisions to keep whatever else holds: the new and the
	// previous deployment's task definitions, and what ECS cannot tell
	// (the task definitions EventBridge rules run). An ARN without a
	// revision stands for the family's latest, which Keep always keeps.
	InUse []string
}

// Cleanup deregisters the ACTIVE revisions of a family beyond the Keep
// newest, never one in use anywhere ECS can tell in the account and
// Region (revisionsInUse: any deployment of any service of any cluster,
// any running task of the family), nor one in InUse. Call it only after the deployment
// succeeded. It returns the revisions it deregistered; a revision it
// could not deregister does not stop the others, and the error joins one
// error per such revision, naming it.
func (r *Rollout) Cleanup(ctx context.Context, in CleanupInput) ([]string, error) {
	revs, err := r.activeRevisions(ctx, in.Family)
	if err != nil {
		return nil, err
	}
	keep := max(in.Keep, 1)
	if len(revs) <= keep {
		return nil, nil
	}
	used, err := r.revisionsInUse(ctx, in.Family)
	if err != nil {
		return nil, fmt.Errorf("find the revisions of %s in use: %w", in.Family, err)
	}
	for _, u := range in.InUse {
		used[u] = true
	}
	var gone []string
	var errs []error
	for _, arn := range revs[keep:] {
		if used[arn] {
			continue
		}
		if err := r.budget.Wait(ctx, "DeregisterTaskDefinition"); err != nil {
			return gone, errors.Join(append(errs, err)...)
		}
		_, err := r.api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)})
		r.budget.Observe("DeregisterTaskDefinition", err)
		if err != nil {
			errs = append(errs, fmt.Errorf("deregister old task definition %s: %w", shortARN(arn), err))
			continue
		}
		gone = append(gone, arn)
	}
	return gone, errors.Join(errs...)
}

// activeRevisions lists the family's ACTIVE revisions, newest first.
func (r *Rollout) activeRevisions(ctx context.Context, family string) ([]string, error) {
	var revs []string
	p := ecs.NewListTaskDefinitionsPaginator(r.api, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive, Sort: types.SortOrderDesc,
	})
	for p.HasMorePages() {
		if err := r.budget.Wait(ctx, "ListTaskDefinitions"); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		r.budget.Observe("ListTaskDefinitions", err)
		if err != nil {
			return nil, fmt.Errorf("list task definitions of family %s: %w", family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			// FamilyPrefix also matches longer families (app-worker).
			if f, _, ok := strings.Cut(shortARN(arn), ":"); ok && f == family {
				revs = append(revs, arn)
			}
		}
	}
	// Order by revision number, newest first, whatever order the API used.
	slices.SortFunc(revs, func(a, b string) int { return cmp.Compare(revision(b), revision(a)) })
	return revs, nil
}

// revision returns the revision number at the end of a task definition ARN.
func revision(arn string) int {
	_, n, _ := strings.Cut(shortARN(arn), ":")
	v, _ := strconv.Atoi(n)
	return v
}
