package deploy

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	taggingtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/rollout"
)

const spanAccount = "arn:aws:ecs:eu-west-1:123456789012:"

// spanECS is an account's ECS whose services live in several clusters,
// with a tagging API over them. UpdateService starts a deployment that is
// COMPLETED at once. Every call is logged as "Operation cluster".
type spanECS struct {
	rollout.ECSAPI

	mu       sync.Mutex
	services map[string]*ecstypes.Service // by cluster/name
	calls    []string
}

func newSpanECS() *spanECS { return &spanECS{services: map[string]*ecstypes.Service{}} }

func (f *spanECS) add(cluster, name string, tags ...string) {
	s := &ecstypes.Service{ServiceName: aws.String(name), ServiceArn: aws.String(spanAccount + "service/" + cluster + "/" + name),
		ClusterArn: aws.String(spanAccount + "cluster/" + cluster), Status: aws.String("ACTIVE"),
		TaskDefinition: aws.String(tdAPI), DesiredCount: 2, RunningCount: 2,
		Deployments: []ecstypes.Deployment{{Id: aws.String("ecs-svc/0000"), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdAPI),
			DesiredCount: 2, RunningCount: 2, RolloutState: ecstypes.DeploymentRolloutStateCompleted}}}
	for i := 0; i+1 < len(tags); i += 2 {
		s.Tags = append(s.Tags, ecstypes.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	f.services[cluster+"/"+name] = s
}

func (f *spanECS) log(op, cluster string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+cluster[strings.LastIndex(cluster, "/")+1:])
}

func (f *spanECS) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *spanECS) find(cluster, ref string) *ecstypes.Service {
	c := cluster[strings.LastIndex(cluster, "/")+1:]
	return f.services[c+"/"+ref[strings.LastIndex(ref, "/")+1:]]
}

func (f *spanECS) GetResources(_ context.Context, in *tagging.GetResourcesInput, _ ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error) {
	f.log("GetResources", "")
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &tagging.GetResourcesOutput{}
	var keys []string
	for k := range f.services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := f.services[k]
		tags := map[string]string{}
		for _, t := range s.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		ok := true
		for _, tf := range in.TagFilters {
			ok = ok && slices.Contains(tf.Values, tags[aws.ToString(tf.Key)])
		}
		if ok {
			out.ResourceTagMappingList = append(out.ResourceTagMappingList, taggingtypes.ResourceTagMapping{ResourceARN: s.ServiceArn})
		}
	}
	return out, nil
}

func (f *spanECS) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	f.log("DescribeServices", aws.ToString(in.Cluster))
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		if s := f.find(aws.ToString(in.Cluster), ref); s != nil {
			out.Services = append(out.Services, *s)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
		}
	}
	return out, nil
}

func (f *spanECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.log("DescribeTaskDefinition", "")
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: &ecstypes.TaskDefinition{TaskDefinitionArn: in.TaskDefinition,
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(ecrHost + "demo/api:env.stage")}}}}, nil
}

func (f *spanECS) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.log("UpdateService", aws.ToString(in.Cluster))
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.find(aws.ToString(in.Cluster), aws.ToString(in.Service))
	if s == nil {
		return nil, &ecstypes.ServiceNotFoundException{Message: aws.String("no service " + aws.ToString(in.Service) + " in " + aws.ToString(in.Cluster))}
	}
	s.Deployments = []ecstypes.Deployment{{Id: aws.String(ourID), Status: aws.String("PRIMARY"), TaskDefinition: s.TaskDefinition,
		DesiredCount: 2, RunningCount: 2, RolloutState: ecstypes.DeploymentRolloutStateCompleted, CreatedAt: aws.Time(ecsfake.T0)}}
	c := *s
	return &ecs.UpdateServiceOutput{Service: &c}, nil
}

func (f *spanECS) ListTasks(_ context.Context, in *ecs.ListTasksInput, _ ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	f.log("ListTasks", aws.ToString(in.Cluster))
	if f.find(aws.ToString(in.Cluster), aws.ToString(in.ServiceName)) == nil {
		return nil, &ecstypes.ServiceNotFoundException{Message: aws.String("no such service in this cluster")}
	}
	return &ecs.ListTasksOutput{}, nil
}

// spanTarget is a target with no cluster, as legacy manifests have.
var spanTarget = manifest.Target{Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/ci"}

func spanCluster(f *spanECS) Cluster {
	return NewECSCluster(f, ClusterParams{Config: aws.Config{Region: "eu-west-1"}, Target: spanTarget, Clock: clocktest.NewAuto(ecsfake.T0)},
		rollout.WithTaggingAPI(f), rollout.WithoutServiceDeploymentsAPI())
}

// TestClusterWithNoClusterSpansTheClustersItsServicesRunIn: a target with
// no cluster finds api in cluster b and worker in c through the tagging
// API, and redeploys, waits for and reads the tasks of each in its own
// cluster.
func TestClusterWithNoClusterSpansTheClustersItsServicesRunIn(t *testing.T) {
	t.Parallel()
	f := newSpanECS()
	f.add("b", "api-stage", rollout.TagService, "api", rollout.TagEnv, "stage")
	f.add("c", "worker-stage", rollout.TagService, "worker", rollout.TagEnv, "stage")
	f.add("a", "api-prod", rollout.TagService, "api", rollout.TagEnv, "prod")
	ctx := context.Background()
	c := spanCluster(f)
	refs, err := c.Find(ctx, FindInput{ByTags: true, Environment: "stage", Names: []string{"api", "worker"}})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.Key+"="+r.Cluster+"/"+r.Name)
	}
	if want := []string{"api=b/api-stage", "worker=c/worker-stage"}; !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	var started []Started
	for _, r := range refs {
		st, err := c.Redeploy(ctx, r, "")
		if err != nil {
			t.Fatalf("Redeploy %s: %v", r.Name, err)
		}
		started = append(started, st)
		if _, err := c.Tasks(ctx, r); err != nil {
			t.Fatalf("Tasks %s: %v", r.Name, err)
		}
	}
	outs, err := c.Wait(ctx, started, time.Minute)
	if err != nil || len(outs) != 2 || outs[0].Status != "succeeded" || outs[1].Status != "succeeded" {
		t.Fatalf("Wait: %+v, %v; want both succeeded", outs, err)
	}
	calls := f.callLog()
	for _, want := range []string{"UpdateService b", "UpdateService c", "ListTasks b", "ListTasks c"} {
		if !slices.Contains(calls, want) {
			t.Errorf("calls %v lack %q", calls, want)
		}
	}
	polls := 0
	for _, call := range calls {
		if call == "DescribeServices b" || call == "DescribeServices c" {
			polls++
		}
		op, cluster, _ := strings.Cut(call, " ")
		if cluster == "a" || cluster == "" && op != "GetResources" && op != "DescribeTaskDefinition" {
			t.Errorf("call %q: addressed no cluster or the wrong one", call)
		}
	}
	if polls < 4 { // the search's two, and the wait's first poll in each cluster
		t.Errorf("DescribeServices per cluster: %d calls in %v, want the search's and the wait's", polls, calls)
	}
}

// TestSearchAcrossClustersIsMadeOncePerSession: within one operation
// (session), a second Find of the same environment's services makes no
// AWS call; another environment is searched on its own; a new operation
// searches again.
func TestSearchAcrossClustersIsMadeOncePerSession(t *testing.T) {
	t.Parallel()
	f := newSpanECS()
	f.add("b", "api-stage", rollout.TagService, "api", rollout.TagEnv, "stage")
	f.add("a", "api-prod", rollout.TagService, "api", rollout.TagEnv, "prod")
	proj := &manifest.Project{ID: "p"}
	d, err := New(proj, newStore(time.Now), WithCluster(func(p ClusterParams) (Cluster, error) {
		return NewECSCluster(f, p, rollout.WithTaggingAPI(f)), nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	find := func(s *session, env string) {
		t.Helper()
		c, err := s.cluster(ctx, spanTarget)
		if err != nil {
			t.Fatal(err)
		}
		refs, err := c.Find(ctx, FindInput{ByTags: true, Environment: env, Names: []string{"api"}})
		if err != nil || len(refs) != 1 {
			t.Fatalf("Find %s: %v, %v", env, refs, err)
		}
	}
	s, _ := d.newSession(ctx)
	for _, step := range []struct {
		what      string
		s         *session
		env       string
		wantCalls int
	}{
		{"first search of stage", s, "stage", 3}, // GetResources, DescribeServices, DescribeTaskDefinition
		{"second Find of stage in the session", s, "stage", 0},
		{"prod in the same session", s, "prod", 2}, // its task definition is known
		{"stage in a new session", func() *session { s2, _ := d.newSession(ctx); return s2 }(), "stage", 3},
	} {
		before := len(f.callLog())
		find(step.s, step.env)
		if got := len(f.callLog()) - before; got != step.wantCalls {
			t.Errorf("%s: %d calls (%v), want %d", step.what, got, f.callLog()[before:], step.wantCalls)
		}
	}
}

// TestMissingServiceSaysEveryClusterWasSearched: a name tagged nowhere is
// a MissingError saying where buoy looked.
func TestMissingServiceSaysEveryClusterWasSearched(t *testing.T) {
	t.Parallel()
	f := newSpanECS()
	f.add("b", "api-stage", rollout.TagService, "api", rollout.TagEnv, "stage")
	_, err := spanCluster(f).Find(context.Background(), FindInput{ByTags: true, Environment: "stage", Names: []string{"api", "web"}})
	want := "service not found: web in any cluster of account 123456789012 in region eu-west-1"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	if got := targetWhere("", "", ""); got != "any cluster of the credentials' account in the default region" {
		t.Errorf("targetWhere with nothing known: got %q", got)
	}
}

// TestAmbiguousAndMissingServicesAreNamedTogether: one id tagged on
// services of two clusters and one tagged nowhere make one bad-input
// error naming both, with the clusters of the ambiguous one.
func TestAmbiguousAndMissingServicesAreNamedTogether(t *testing.T) {
	t.Parallel()
	f := newSpanECS()
	f.add("b", "api-stage", rollout.TagService, "api", rollout.TagEnv, "stage")
	f.add("c", "api-copy", rollout.TagService, "api", rollout.TagEnv, "stage")
	_, err := spanCluster(f).Find(context.Background(), FindInput{ByTags: true, Environment: "stage", Names: []string{"api", "web"}})
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("got %v, want ErrInvalidInput", err)
	}
	for _, want := range []string{"web not found", `"api"`, "b/api-stage", "c/api-copy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
