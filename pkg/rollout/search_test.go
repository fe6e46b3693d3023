package rollout_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

const account = "arn:aws:ecs:eu-west-1:123456789012:"

// accountFake is the ECS of one account and Region: clusters and their
// services, listed a page at a time, and a Resource Groups Tagging API
// over them. It counts every call by operation. It is safe for
// concurrent use.
type accountFake struct {
	rollout.ECSAPI
	clusters []string
	services []types.Service
	// page is how many items List* and GetResources return at once.
	page int
	// taggingErr, when set, is GetResources' answer.
	taggingErr error
	// gone lists clusters that ListClusters names but that no longer exist.
	gone []string
	// described replaces, by service name, the tags DescribeServices
	// reports (nil: none), as if they changed since GetResources read them.
	described map[string][]types.Tag

	mu          sync.Mutex
	calls       map[string]int
	tagRequests []*tagging.GetResourcesInput
}

// acctService is a service of the account: its ARN names its cluster
// unless short (the old ARN format).
func acctService(cluster, name string, short bool, tags ...string) types.Service {
	s := svc(name, tags...)
	s.ClusterArn = aws.String(account + "cluster/" + cluster)
	s.ServiceArn = aws.String(account + "service/" + cluster + "/" + name)
	if short {
		s.ServiceArn = aws.String(account + "service/" + name)
	}
	return s
}

func (f *accountFake) count(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
}

func (f *accountFake) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.calls {
		out[k] = v
	}
	return out
}

// paginate returns the page of items that token starts, and the next token.
func paginate[T any](items []T, token *string, size int) ([]T, *string) {
	start, _ := strconv.Atoi(aws.ToString(token))
	end := min(start+size, len(items))
	if end >= len(items) {
		return items[start:], nil
	}
	return items[start:end], aws.String(strconv.Itoa(end))
}

func (f *accountFake) ListClusters(_ context.Context, in *ecs.ListClustersInput, _ ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	f.count("ListClusters")
	if aws.ToInt32(in.MaxResults) != 100 {
		return nil, &types.InvalidParameterException{Message: aws.String("this test wants pages of 100, the most ECS gives")}
	}
	var arns []string
	for _, c := range append(slices.Clone(f.clusters), f.gone...) {
		arns = append(arns, account+"cluster/"+c)
	}
	page, next := paginate(arns, in.NextToken, f.page)
	return &ecs.ListClustersOutput{ClusterArns: page, NextToken: next}, nil
}

func (f *accountFake) cluster(ref string) (string, error) {
	name := ref[strings.LastIndex(ref, "/")+1:]
	if !slices.Contains(f.clusters, name) {
		return "", &types.ClusterNotFoundException{Message: aws.String("Cluster not found.")}
	}
	return name, nil
}

func (f *accountFake) ListServices(_ context.Context, in *ecs.ListServicesInput, _ ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	f.count("ListServices")
	if aws.ToInt32(in.MaxResults) != 100 {
		return nil, &types.InvalidParameterException{Message: aws.String("this test wants pages of 100, the most ECS gives")}
	}
	c, err := f.cluster(aws.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	var arns []string
	for _, s := range f.services {
		if strings.HasSuffix(aws.ToString(s.ClusterArn), "/"+c) {
			arns = append(arns, aws.ToString(s.ServiceArn))
		}
	}
	page, next := paginate(arns, in.NextToken, f.page)
	return &ecs.ListServicesOutput{ServiceArns: page, NextToken: next}, nil
}

func (f *accountFake) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.count("DescribeServices")
	if len(in.Services) > 10 {
		return nil, &types.InvalidParameterException{Message: aws.String("at most 10 services")}
	}
	c, err := f.cluster(aws.ToString(in.Cluster))
	if err != nil {
		return nil, err
	}
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		i := slices.IndexFunc(f.services, func(s types.Service) bool {
			return strings.HasSuffix(aws.ToString(s.ClusterArn), "/"+c) &&
				(aws.ToString(s.ServiceName) == ref || aws.ToString(s.ServiceArn) == ref)
		})
		if i < 0 {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		s := f.services[i]
		if tags, ok := f.described[aws.ToString(s.ServiceName)]; ok {
			s.Tags = tags
		}
		if !slices.Contains(in.Include, types.ServiceFieldTags) {
			s.Tags = nil
		}
		out.Services = append(out.Services, s)
	}
	return out, nil
}

// GetResources answers as AWS documents it: resources of the types asked
// for whose tags match every filter (a filter matches a tag with its key
// and one of its values), at most 20 values a filter and 100 resources a
// page.
func (f *accountFake) GetResources(_ context.Context, in *tagging.GetResourcesInput, _ ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error) {
	f.count("GetResources")
	f.mu.Lock()
	f.tagRequests = append(f.tagRequests, in)
	f.mu.Unlock()
	if f.taggingErr != nil {
		return nil, f.taggingErr
	}
	if !slices.Equal(in.ResourceTypeFilters, []string{"ecs:service"}) {
		return nil, &taggingtypes.InvalidParameterException{Message: aws.String("want only ecs:service in this test")}
	}
	if n := aws.ToInt32(in.ResourcesPerPage); n < 1 || n > 100 {
		return nil, &taggingtypes.InvalidParameterException{Message: aws.String("ResourcesPerPage must be between 1 and 100")}
	}
	for _, tf := range in.TagFilters {
		if len(tf.Values) > 20 {
			return nil, &taggingtypes.InvalidParameterException{Message: aws.String("a tag filter takes at most 20 values")}
		}
	}
	var matches []taggingtypes.ResourceTagMapping
	for _, s := range f.services {
		tags := map[string]string{}
		for _, t := range s.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		ok := len(tags) > 0
		for _, tf := range in.TagFilters {
			v, has := tags[aws.ToString(tf.Key)]
			ok = ok && has && (len(tf.Values) == 0 || slices.Contains(tf.Values, v))
		}
		if ok {
			m := taggingtypes.ResourceTagMapping{ResourceARN: s.ServiceArn}
			for k, v := range tags {
				m.Tags = append(m.Tags, taggingtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			matches = append(matches, m)
		}
	}
	page, next := paginate(matches, in.PaginationToken, min(f.page, int(aws.ToInt32(in.ResourcesPerPage))))
	return &tagging.GetResourcesOutput{ResourceTagMappingList: page, PaginationToken: next}, nil
}

// crowded returns an account of clusters a, b and c, holding api and
// worker tagged for stage (api in b, worker in c), api for prod in a, and
// n unrelated services spread over the clusters: some tagged for stage
// under other names, some with other tags, some untagged.
func crowded(n int) *accountFake {
	f := &accountFake{clusters: []string{"a", "b", "c"}, page: 100}
	f.services = append(f.services,
		acctService("b", "api-stage", false, rollout.TagService, "api", rollout.TagEnv, "stage"),
		acctService("c", "worker-stage", false, rollout.TagService, "worker", rollout.TagEnv, "stage"),
		acctService("a", "api-prod", false, rollout.TagService, "api", rollout.TagEnv, "prod"))
	for i := range n {
		c := f.clusters[i%3]
		name := fmt.Sprintf("other-%03d", i)
		switch i % 3 {
		case 0:
			f.services = append(f.services, acctService(c, name, false, rollout.TagService, name, rollout.TagEnv, "stage"))
		case 1:
			f.services = append(f.services, acctService(c, name, false, "team", "search"))
		default:
			f.services = append(f.services, acctService(c, name, false))
		}
	}
	return f
}

// searchRollout returns a Rollout over f (with its tagging API unless
// noTagging) whose events and debug log the test reads.
func searchRollout(f *accountFake, noTagging bool) (*rollout.Rollout, *[]event.Event, *bytes.Buffer) {
	var mu sync.Mutex
	var events []event.Event
	var log bytes.Buffer
	opts := []rollout.Option{
		rollout.WithSink(event.Func(func(e event.Event) { mu.Lock(); events = append(events, e); mu.Unlock() })),
		rollout.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	if !noTagging {
		opts = append(opts, rollout.WithTaggingAPI(f))
	}
	return rollout.New(f, opts...), &events, &log
}

func names(svcs []rollout.Service) []string {
	var out []string
	for _, s := range svcs {
		out = append(out, clusterOf(s)+"/"+s.Name)
	}
	return out
}

func clusterOf(s rollout.Service) string { return s.Cluster[strings.LastIndex(s.Cluster, "/")+1:] }

// TestSearchAcrossClustersThroughTheTaggingAPI finds api and worker in the
// clusters they run in with one GetResources and one DescribeServices
// per cluster found, whether the account holds 0 or 600 unrelated
// services.
func TestSearchAcrossClustersThroughTheTaggingAPI(t *testing.T) {
	t.Parallel()
	for _, unrelated := range []int{0, 600} {
		t.Run(fmt.Sprintf("%d unrelated services", unrelated), func(t *testing.T) {
			t.Parallel()
			f := crowded(unrelated)
			r, events, log := searchRollout(f, false)
			got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"api", "worker"}})
			if err != nil {
				t.Fatalf("FindByTags: %v", err)
			}
			if want := []string{"b/api-stage", "c/worker-stage"}; !slices.Equal(names(got), want) {
				t.Errorf("found %v, want %v", names(got), want)
			}
			if got[0].Tags[rollout.TagService] != "api" || got[0].TaskDefinition != tdOld {
				t.Errorf("api: got tags %v, task definition %s; want them described", got[0].Tags, got[0].TaskDefinition)
			}
			want := map[string]int{"GetResources": 1, "DescribeServices": 2}
			if c := f.counts(); !mapsEqual(c, want) {
				t.Errorf("calls: got %v, want %v", c, want)
			}
			in := f.tagRequests[0]
			if len(in.TagFilters) != 2 || aws.ToString(in.TagFilters[0].Key) != rollout.TagEnv || !slices.Equal(in.TagFilters[0].Values, []string{"stage"}) ||
				aws.ToString(in.TagFilters[1].Key) != rollout.TagService || !slices.Equal(in.TagFilters[1].Values, []string{"api", "worker"}) {
				t.Errorf("GetResources filters: got %+v, want deployment:env=stage and deployment:service in api, worker", in.TagFilters)
			}
			if !strings.Contains(log.String(), "path=ResourceGroupsTaggingAPI.GetResources") {
				t.Errorf("debug log does not say the tagging API was used:\n%s", log)
			}
			if len(*events) != 0 {
				t.Errorf("events: got %v, want none", *events)
			}
		})
	}
}

// TestSearchPaginatesTheTaggingAPI asks 45 names: three calls of at most
// 20 values, each read a page of 7 at a time.
func TestSearchPaginatesTheTaggingAPI(t *testing.T) {
	t.Parallel()
	f := &accountFake{clusters: []string{"a", "b"}, page: 7}
	var want, ask []string
	for i := range 45 {
		c := []string{"a", "b"}[i%2]
		name := fmt.Sprintf("svc-%02d", i)
		f.services = append(f.services, acctService(c, name, false, rollout.TagService, name, rollout.TagEnv, "stage"))
		want = append(want, c+"/"+name)
		ask = append(ask, name)
	}
	r, _, _ := searchRollout(f, false)
	got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: ask})
	if err != nil {
		t.Fatalf("FindByTags: %v", err)
	}
	if !slices.Equal(names(got), want) {
		t.Errorf("found %v, want %v", names(got), want)
	}
	var values []int
	for _, in := range f.tagRequests {
		if in.PaginationToken == nil {
			values = append(values, len(in.TagFilters[1].Values))
		}
	}
	// Pages: 20 names -> 3 pages, 20 -> 3, 5 -> 1.
	if !slices.Equal(values, []int{20, 20, 5}) || f.counts()["GetResources"] != 7 {
		t.Errorf("GetResources: %d calls, first pages asking %v names; want 7 calls, first pages asking [20 20 5]", f.counts()["GetResources"], values)
	}
	// 23 services in a, 22 in b: 3 and 3 DescribeServices.
	if got := f.counts()["DescribeServices"]; got != 6 {
		t.Errorf("DescribeServices: got %d calls, want 6 (batches of 10 per cluster)", got)
	}
}

// TestSearchFallsBackToListingClusters covers the tagging API denied, not
// implemented by the endpoint (by error code or HTTP 501), and absent:
// the search lists every cluster and service instead, a page at a time,
// and says why; only a denial is a warning, naming the permission. A
// second search in the same Rollout does not ask the tagging API again.
func TestSearchFallsBackToListingClusters(t *testing.T) {
	t.Parallel()
	notImplemented := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotImplemented}}, Err: errors.New("not implemented")}}
	for _, tc := range []struct {
		name      string
		err       error
		noTagging bool
		warns     bool
	}{
		{"denied", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform tag:GetResources"}, false, true},
		{"unknown operation", &smithy.GenericAPIError{Code: "UnknownOperationException"}, false, false},
		{"HTTP 501", notImplemented, false, false},
		{"no tagging client", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := crowded(12)
			f.page = 2
			f.taggingErr = tc.err
			r, events, log := searchRollout(f, tc.noTagging)
			for i := range 2 {
				got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"api", "worker"}})
				if err != nil {
					t.Fatalf("FindByTags %d: %v", i+1, err)
				}
				if want := []string{"b/api-stage", "c/worker-stage"}; !slices.Equal(names(got), want) {
					t.Errorf("search %d found %v, want %v", i+1, names(got), want)
				}
			}
			// Each search: 2 pages of clusters; per cluster 3 pages of
			// its 5 services, described in one call.
			want := map[string]int{"ListClusters": 4, "ListServices": 18, "DescribeServices": 6}
			if !tc.noTagging {
				want["GetResources"] = 1
			}
			if c := f.counts(); !mapsEqual(c, want) {
				t.Errorf("calls: got %v, want %v", c, want)
			}
			if !strings.Contains(log.String(), "path=ListClusters+ListServices+DescribeServices") {
				t.Errorf("debug log does not say every cluster was listed:\n%s", log)
			}
			var warnings []string
			for _, e := range *events {
				if e.Kind == event.Warning {
					warnings = append(warnings, e.Message)
				}
			}
			switch {
			case tc.warns && (len(warnings) != 1 || !strings.Contains(warnings[0], "tag:GetResources")):
				t.Errorf("warnings: got %q, want one naming tag:GetResources", warnings)
			case !tc.warns && len(warnings) != 0:
				t.Errorf("warnings: got %q, want none", warnings)
			}
		})
	}
}

// TestSearchFailsOnOtherTaggingErrors: a throttled or failing tagging API
// ends the search with its error; it is not taken for a denial.
func TestSearchFailsOnOtherTaggingErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&taggingtypes.ThrottledException{Message: aws.String("Rate exceeded")},
		&taggingtypes.InternalServiceException{Message: aws.String("try again")},
	} {
		f := crowded(3)
		f.taggingErr = err
		r, _, _ := searchRollout(f, false)
		_, got := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"api"}})
		if !errors.Is(got, err) {
			t.Errorf("tagging API answering %T: got %v, want that error", err, got)
		}
		if n := f.counts()["ListClusters"]; n != 0 {
			t.Errorf("tagging API answering %T: listed clusters %d times, want none", err, n)
		}
	}
}

// TestSearchReportsAmbiguousAndMissingNamesAcrossClusters: on both
// paths, a name tagged on services of two clusters and names tagged
// nowhere (or on a service that is no longer ACTIVE) are reported all
// together.
func TestSearchReportsAmbiguousAndMissingNamesAcrossClusters(t *testing.T) {
	t.Parallel()
	for _, noTagging := range []bool{false, true} {
		t.Run(fmt.Sprintf("tagging API %v", !noTagging), func(t *testing.T) {
			t.Parallel()
			f := crowded(6)
			inactive := acctService("a", "gone-stage", false, rollout.TagService, "gone", rollout.TagEnv, "stage")
			inactive.Status = aws.String("INACTIVE")
			f.services = append(f.services, inactive,
				acctService("a", "api-copy", false, rollout.TagService, "api", rollout.TagEnv, "stage"))
			r, _, _ := searchRollout(f, noTagging)
			_, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"api", "worker", "web", "gone"}})
			var amb *rollout.AmbiguousError
			var nf *rollout.NotFoundError
			if !errors.As(err, &amb) || amb.Name != "api" || !slices.Equal(amb.Matches, []string{"a/api-copy", "b/api-stage"}) {
				t.Errorf("got %v, want an AmbiguousError naming a/api-copy and b/api-stage", err)
			}
			if !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"web", "gone"}) || nf.Cluster != "" {
				t.Errorf("got %v, want a NotFoundError naming web and gone in no one cluster", err)
			}
			if err != nil && !strings.Contains(err.Error(), "any cluster of the account") {
				t.Errorf("error %q does not say every cluster was searched", err)
			}
		})
	}
}

// TestSearchFindsServicesWithOldARNs: a service ARN of the old format
// names no cluster; the search looks for it in every cluster, and skips
// a cluster deleted since it was listed.
func TestSearchFindsServicesWithOldARNs(t *testing.T) {
	t.Parallel()
	f := crowded(0)
	f.gone = []string{"deleted"}
	f.services = append(f.services, acctService("c", "legacy-stage", true, rollout.TagService, "legacy", rollout.TagEnv, "stage"))
	for _, noTagging := range []bool{false, true} {
		r, _, _ := searchRollout(f, noTagging)
		got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"legacy", "api"}})
		if err != nil {
			t.Fatalf("tagging API %v: FindByTags: %v", !noTagging, err)
		}
		if want := []string{"c/legacy-stage", "b/api-stage"}; !slices.Equal(names(got), want) {
			t.Errorf("tagging API %v: found %v, want %v", !noTagging, names(got), want)
		}
	}
}

// TestSearchTrustsTheTagsECSReports: the tags DescribeServices reports
// decide (worker, retagged for prod since GetResources read it, is not
// stage's); when it reports none for a service the tagging API found
// (api), the tagging API's tags stand.
func TestSearchTrustsTheTagsECSReports(t *testing.T) {
	t.Parallel()
	f := crowded(0)
	f.described = map[string][]types.Tag{
		"api-stage":    nil,
		"worker-stage": {{Key: aws.String(rollout.TagService), Value: aws.String("worker")}, {Key: aws.String(rollout.TagEnv), Value: aws.String("prod")}},
	}
	r, _, _ := searchRollout(f, false)
	got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"api"}})
	if err != nil || !slices.Equal(names(got), []string{"b/api-stage"}) || got[0].Tags[rollout.TagEnv] != "stage" {
		t.Errorf("api: got %v, %v; want b/api-stage with the tagging API's tags", names(got), err)
	}
	_, err = r.FindByTags(context.Background(), rollout.FindByTagsInput{Env: "stage", Names: []string{"worker"}})
	var nf *rollout.NotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"worker"}) {
		t.Errorf("worker: got %v, want a NotFoundError: ECS says it is prod's now", err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
