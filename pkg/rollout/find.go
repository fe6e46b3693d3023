package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// describeBatch is how many services DescribeServices takes at once;
// listPage is the most ListServices and ListClusters return at once.
const (
	describeBatch = 10
	listPage      = 100
)

// The ECS tags by which legacy projects name their services.
const (
	TagService = "deployment:service"
	TagEnv     = "deployment:env"
)

// FindInput names the services of one cluster.
type FindInput struct {
	Cluster string
	Names   []string
}

// Find describes the named services. A name that does not exist is an
// error (a *NotFoundError listing all of them); nothing is skipped.
func (r *Rollout) Find(ctx context.Context, in FindInput) ([]Service, error) {
	found, err := r.describe(ctx, in.Cluster, in.Names, false)
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(in.Names))
	var missing []string
	for _, name := range in.Names {
		s, ok := found[name]
		if !ok || s.Status == nil || aws.ToString(s.Status) == "INACTIVE" {
			missing = append(missing, name)
			continue
		}
		out = append(out, serviceFrom(in.Cluster, s))
	}
	if len(missing) > 0 {
		return nil, &NotFoundError{Cluster: in.Cluster, Services: missing}
	}
	return out, nil
}

// FindByTagsInput asks for the services of a legacy project: those tagged
// deployment:service=<name> and deployment:env=<Env>. An empty Cluster
// means every cluster of the account and Region.
type FindByTagsInput struct {
	Cluster string
	Env     string
	Names   []string
}

// FindByTags returns, for each name, the one ACTIVE service tagged with
// it and the environment. It lists every service of the cluster and reads
// their tags; with no cluster, it searches every cluster of the account
// and Region (see searchByTags). A name with no match or several is an
// error; all such errors are returned together.
func (r *Rollout) FindByTags(ctx context.Context, in FindByTagsInput) ([]Service, error) {
	if in.Cluster == "" {
		svcs, err := r.searchByTags(ctx, in)
		if err != nil {
			return nil, err
		}
		return matchTagged(in, svcs)
	}
	arns, err := r.listServices(ctx, in.Cluster)
	if err != nil {
		return nil, err
	}
	all, err := r.describe(ctx, in.Cluster, arns, true)
	if err != nil {
		return nil, err
	}
	return matchTagged(in, activeServices(in.Cluster, arns, all))
}

// activeServices returns the ACTIVE services among arns, as described.
func activeServices(cluster string, arns []string, described map[string]types.Service) []Service {
	var out []Service
	for _, arn := range arns {
		if s, ok := described[arn]; ok && aws.ToString(s.Status) == "ACTIVE" {
			out = append(out, serviceFrom(cluster, s))
		}
	}
	return out
}

// matchTagged picks, for each name of in, the one service of svcs tagged
// with it and in.Env. Names with no match make one *NotFoundError, names
// with several an *AmbiguousError each.
func matchTagged(in FindByTagsInput, svcs []Service) ([]Service, error) {
	byName := map[string][]Service{}
	for _, svc := range svcs {
		if svc.Tags[TagEnv] != in.Env {
			continue
		}
		byName[svc.Tags[TagService]] = append(byName[svc.Tags[TagService]], svc)
	}
	var out []Service
	var errs []error
	var missing []string
	for _, name := range in.Names {
		switch m := byName[name]; len(m) {
		case 0:
			missing = append(missing, name)
		case 1:
			out = append(out, m[0])
		default:
			var names []string
			for _, s := range m {
				if in.Cluster == "" {
					names = append(names, clusterName(s.Cluster)+"/"+s.Name)
				} else {
					names = append(names, s.Name)
				}
			}
			slices.Sort(names)
			errs = append(errs, &AmbiguousError{Cluster: in.Cluster, Name: name, Matches: names})
		}
	}
	if len(missing) > 0 {
		errs = append([]error{&NotFoundError{Cluster: in.Cluster, Services: missing}}, errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("find services tagged %s=%s: %w", TagEnv, in.Env, err)
	}
	return out, nil
}

func (r *Rollout) listServices(ctx context.Context, cluster string) ([]string, error) {
	var arns []string
	p := ecs.NewListServicesPaginator(r.api, &ecs.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(listPage)})
	for p.HasMorePages() {
		if err := r.budget.Wait(ctx, "ListServices"); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		r.budget.Observe("ListServices", err)
		if err != nil {
			return nil, fmt.Errorf("list services of cluster %s: %w", cluster, err)
		}
		arns = append(arns, page.ServiceArns...)
	}
	return arns, nil
}

// describe returns services by name (and by ARN), in batches of ten.
func (r *Rollout) describe(ctx context.Context, cluster string, names []string, tags bool) (map[string]types.Service, error) {
	out := map[string]types.Service{}
	for batch := range slices.Chunk(names, describeBatch) {
		in := &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch}
		if tags {
			in.Include = []types.ServiceField{types.ServiceFieldTags}
		}
		if err := r.budget.Wait(ctx, "DescribeServices"); err != nil {
			return nil, err
		}
		resp, err := r.api.DescribeServices(ctx, in)
		r.budget.Observe("DescribeServices", err)
		if err != nil {
			return nil, fmt.Errorf("describe services %v in cluster %s: %w", batch, cluster, err)
		}
		for _, s := range resp.Services {
			out[aws.ToString(s.ServiceName)] = s
			out[aws.ToString(s.ServiceArn)] = s
		}
	}
	return out, nil
}
