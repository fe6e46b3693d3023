package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// GetResources takes at most this many values per tag filter, and
// returns at most this many resources a page.
const (
	maxTagValues     = 20
	resourcesPerPage = 100
)

// errNoTagging says that the tagging API cannot serve a search, which
// then lists every cluster.
var errNoTagging = errors.New("the tagging API cannot search")

// searchByTags returns the ACTIVE services of every cluster of the
// account and Region that may be tagged with in.Env and one of in.Names.
//
// With a tagging API (WithTaggingAPI), GetResources names the services
// tagged deployment:env=in.Env and deployment:service in in.Names (20
// names a call, 100 services a page), and DescribeServices, per cluster,
// confirms their status and tags: the calls grow with the services found,
// not with the account. Where the tagging API is denied or unsupported,
// it lists every cluster, every service of each, and describes them all.
// The debug log says which path was taken; a denial is also a warning
// event naming the missing permission.
func (r *Rollout) searchByTags(ctx context.Context, in FindByTagsInput) ([]Service, error) {
	svcs, err := r.searchTagging(ctx, in)
	if !errors.Is(err, errNoTagging) {
		return svcs, err
	}
	svcs, err = r.searchClusters(ctx)
	if err != nil {
		return nil, err
	}
	r.log.DebugContext(ctx, "services found by listing every cluster", "path", "ListClusters+ListServices+DescribeServices",
		"env", in.Env, "names", len(in.Names), "active services", len(svcs))
	return svcs, nil
}

// searchTagging is searchByTags through the tagging API; errNoTagging
// when it cannot serve.
func (r *Rollout) searchTagging(ctx context.Context, in FindByTagsInput) ([]Service, error) {
	if r.tagging == nil {
		r.log.DebugContext(ctx, "no tagging API client: searching every cluster", "env", in.Env)
		return nil, errNoTagging
	}
	if r.taggingAPI.Load() == apiUnavailable {
		r.log.DebugContext(ctx, "the tagging API was unavailable earlier: searching every cluster", "env", in.Env)
		return nil, errNoTagging
	}
	arns, tags, err := r.taggedServices(ctx, in)
	if err != nil {
		if denied, ok := taggingUnavailable(err); ok && ctx.Err() == nil {
			r.noTagging(ctx, denied, err)
			return nil, errNoTagging
		}
		return nil, err
	}
	r.taggingAPI.CompareAndSwap(apiUnknown, apiAllowed)
	svcs, err := r.describeARNs(ctx, arns)
	if err != nil {
		return nil, err
	}
	for i := range svcs {
		// DescribeServices was asked for the tags. When it reports none
		// (all removed a moment ago, or an answer without them, which
		// moto gives under concurrent requests), the tagging API's,
		// read a moment before, stand in; tags it does report decide.
		if len(svcs[i].Tags) == 0 {
			svcs[i].Tags = tags[svcs[i].ARN]
		}
	}
	r.log.DebugContext(ctx, "services found through the tagging API", "path", "ResourceGroupsTaggingAPI.GetResources",
		"env", in.Env, "names", len(in.Names), "tagged", len(arns), "active", len(svcs))
	return svcs, nil
}

// taggedServices returns the ARNs of the services GetResources finds
// tagged with in.Env and one of in.Names, and their tags by ARN.
func (r *Rollout) taggedServices(ctx context.Context, in FindByTagsInput) ([]string, map[string]map[string]string, error) {
	var names []string
	for _, n := range in.Names {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var arns []string
	tags := map[string]map[string]string{}
	for chunk := range slices.Chunk(names, maxTagValues) {
		p := tagging.NewGetResourcesPaginator(r.tagging, &tagging.GetResourcesInput{
			ResourceTypeFilters: []string{"ecs:service"},
			ResourcesPerPage:    aws.Int32(resourcesPerPage),
			TagFilters: []taggingtypes.TagFilter{
				{Key: aws.String(TagEnv), Values: []string{in.Env}},
				{Key: aws.String(TagService), Values: chunk},
			},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("find the ECS services tagged %s=%s through the Resource Groups Tagging API: %w", TagEnv, in.Env, err)
			}
			for _, m := range page.ResourceTagMappingList {
				a := aws.ToString(m.ResourceARN)
				if a == "" || tags[a] != nil {
					continue
				}
				arns = append(arns, a)
				tags[a] = map[string]string{}
				for _, t := range m.Tags {
					tags[a][aws.ToString(t.Key)] = aws.ToString(t.Value)
				}
			}
		}
	}
	return arns, tags, nil
}

// noTagging turns the tagging API off for the rest of the Rollout's life
// and says why, once.
func (r *Rollout) noTagging(ctx context.Context, denied bool, err error) {
	if r.taggingAPI.Swap(apiUnavailable) == apiUnavailable {
		return
	}
	r.log.DebugContext(ctx, "the tagging API is unavailable: searching every cluster", "denied", denied, "err", err)
	if denied {
		r.emit(event.Event{Kind: event.Warning, Message: "the Resource Groups Tagging API is denied (" + err.Error() +
			"); buoy finds the services by listing every cluster and service of the account instead, which takes more calls as the account grows. Allow tag:GetResources for the short search"})
	}
}

// taggingUnavailable reports whether err says the tagging API cannot be
// used here: denied (denied is then true), or not implemented by this
// endpoint. Other errors (throttling, a failure) end the search.
func taggingUnavailable(err error) (denied, ok bool) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "UnauthorizedException":
			return true, true
		case "UnknownOperationException", "UnknownOperation", "InvalidAction", "NotImplemented", "NotImplementedException", "UnsupportedOperation":
			return false, true
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() == 501 || re.HTTPStatusCode() == 404) {
		return false, true
	}
	return false, false
}

// describeARNs describes services by ARN, each in its cluster, with their
// tags, and returns the ACTIVE ones. An ARN of the old format, which
// names no cluster, is looked for in every cluster.
func (r *Rollout) describeARNs(ctx context.Context, arns []string) ([]Service, error) {
	byCluster := map[string][]string{}
	var clusters, unplaced []string
	for _, a := range arns {
		c, ok := clusterOfService(a)
		if !ok {
			unplaced = append(unplaced, a)
			continue
		}
		if _, seen := byCluster[c]; !seen {
			clusters = append(clusters, c)
		}
		byCluster[c] = append(byCluster[c], a)
	}
	var out []Service
	for _, c := range clusters {
		found, err := r.describe(ctx, c, byCluster[c], true)
		if isClusterGone(err) {
			continue // deleted since it was tagged: its services are gone
		}
		if err != nil {
			return nil, err
		}
		out = append(out, activeServices(c, byCluster[c], found)...)
	}
	if len(unplaced) == 0 {
		return out, nil
	}
	all, err := r.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range all {
		if len(unplaced) == 0 {
			break
		}
		found, err := r.describe(ctx, c, unplaced, true)
		if isClusterGone(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, activeServices(c, unplaced, found)...)
		unplaced = slices.DeleteFunc(unplaced, func(a string) bool { _, ok := found[a]; return ok })
	}
	return out, nil
}

// searchClusters returns the ACTIVE services of every cluster, with
// their tags.
func (r *Rollout) searchClusters(ctx context.Context) ([]Service, error) {
	clusters, err := r.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	var out []Service
	for _, c := range clusters {
		arns, err := r.listServices(ctx, c)
		if isClusterGone(err) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, err
		}
		found, err := r.describe(ctx, c, arns, true)
		if isClusterGone(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, activeServices(c, arns, found)...)
	}
	return out, nil
}

// listClusters returns the ARNs of every cluster of the account and
// Region.
func (r *Rollout) listClusters(ctx context.Context) ([]string, error) {
	var arns []string
	p := ecs.NewListClustersPaginator(r.api, &ecs.ListClustersInput{MaxResults: aws.Int32(listPage)})
	for p.HasMorePages() {
		if err := r.budget.Wait(ctx, "ListClusters"); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		r.budget.Observe("ListClusters", err)
		if err != nil {
			return nil, fmt.Errorf("list the ECS clusters of the account: %w", err)
		}
		arns = append(arns, page.ClusterArns...)
	}
	return arns, nil
}

// isClusterGone reports whether err says the cluster does not exist.
func isClusterGone(err error) bool {
	var nf *types.ClusterNotFoundException
	return errors.As(err, &nf)
}

// clusterOfService returns the cluster a service ARN names
// (arn:aws:ecs:region:account:service/cluster/name); false for an ARN of
// the old format (service/name), which names none.
func clusterOfService(arn string) (string, bool) {
	_, res, ok := strings.Cut(arn, ":service/")
	if !ok {
		return "", false
	}
	c, _, ok := strings.Cut(res, "/")
	return c, ok && c != ""
}

// clusterName returns the name of a cluster given by name or ARN.
func clusterName(cluster string) string {
	if _, name, ok := strings.Cut(cluster, ":cluster/"); ok {
		return name
	}
	return cluster
}
