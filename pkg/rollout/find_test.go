package rollout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/buoy-deploy/buoy/pkg/rollout"
)

// servicesFake holds services by name and records the calls made.
type servicesFake struct {
	rollout.ECSAPI
	services  []types.Service
	describes [][]string
	updates   []*ecs.UpdateServiceInput
}

func svc(name string, tags ...string) types.Service {
	s := types.Service{ServiceName: aws.String(name), ServiceArn: aws.String("arn:aws:ecs:eu-west-1:1:service/c/" + name),
		Status: aws.String("ACTIVE"), TaskDefinition: aws.String(tdOld), DesiredCount: 2, RunningCount: 2,
		Deployments: []types.Deployment{{Id: aws.String(oldID), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdOld)}}}
	for i := 0; i+1 < len(tags); i += 2 {
		s.Tags = append(s.Tags, types.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	return s
}

func (f *servicesFake) ListServices(context.Context, *ecs.ListServicesInput, ...func(*ecs.Options)) (*ecs.ListServicesOutput, error) {
	out := &ecs.ListServicesOutput{}
	for _, s := range f.services {
		out.ServiceArns = append(out.ServiceArns, aws.ToString(s.ServiceArn))
	}
	return out, nil
}

func (f *servicesFake) DescribeServices(_ context.Context, in *ecs.DescribeServicesInput, _ ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	if len(in.Services) > 10 {
		return nil, &types.InvalidParameterException{Message: aws.String("at most 10 services")}
	}
	f.describes = append(f.describes, in.Services)
	out := &ecs.DescribeServicesOutput{}
	for _, ref := range in.Services {
		i := slices.IndexFunc(f.services, func(s types.Service) bool {
			return aws.ToString(s.ServiceName) == ref || aws.ToString(s.ServiceArn) == ref
		})
		if i < 0 {
			out.Failures = append(out.Failures, types.Failure{Arn: aws.String(ref), Reason: aws.String("MISSING")})
			continue
		}
		s := f.services[i]
		if !slices.Contains(in.Include, types.ServiceFieldTags) {
			s.Tags = nil
		}
		out.Services = append(out.Services, s)
	}
	return out, nil
}

func (f *servicesFake) UpdateService(_ context.Context, in *ecs.UpdateServiceInput, _ ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	f.updates = append(f.updates, in)
	s := svc(aws.ToString(in.Service))
	s.Deployments = []types.Deployment{
		{Id: aws.String(ourID), Status: aws.String("PRIMARY"), TaskDefinition: aws.String(tdOld)},
		{Id: aws.String(oldID), Status: aws.String("ACTIVE"), TaskDefinition: aws.String(tdOld)},
	}
	return &ecs.UpdateServiceOutput{Service: &s}, nil
}

func TestFind(t *testing.T) {
	t.Parallel()
	var many []types.Service
	var names []string
	for i := range 25 {
		many = append(many, svc(fmt.Sprintf("s%02d", i)))
		names = append(names, fmt.Sprintf("s%02d", i))
	}
	fake := &servicesFake{services: many}
	got, err := rollout.New(fake).Find(context.Background(), rollout.FindInput{Cluster: "c", Names: names})
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	if len(got) != 25 || got[24].Name != "s24" || got[0].PrimaryDeployment != oldID || got[0].TaskDefinition != tdOld {
		t.Errorf("Find: got %d services, first %+v; want 25 in order with deployment and task definition", len(got), got[0])
	}
	if len(fake.describes) != 3 {
		t.Errorf("DescribeServices calls: got %d, want 3 (batches of 10)", len(fake.describes))
	}

	_, err = rollout.New(fake).Find(context.Background(), rollout.FindInput{Cluster: "c", Names: []string{"s01", "nope", "gone"}})
	var nf *rollout.NotFoundError
	if !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"nope", "gone"}) {
		t.Errorf("Find with missing services: got %v, want a NotFoundError naming nope and gone", err)
	}
}

func TestFindByTags(t *testing.T) {
	t.Parallel()
	fake := &servicesFake{services: []types.Service{
		svc("api-prod", rollout.TagService, "api", rollout.TagEnv, "prod"),
		svc("api-stage", rollout.TagService, "api", rollout.TagEnv, "stage"),
		svc("worker-a", rollout.TagService, "worker", rollout.TagEnv, "prod"),
		svc("worker-b", rollout.TagService, "worker", rollout.TagEnv, "prod"),
	}}
	r := rollout.New(fake)
	got, err := r.FindByTags(context.Background(), rollout.FindByTagsInput{Cluster: "c", Env: "prod", Names: []string{"api"}})
	if err != nil || len(got) != 1 || got[0].Name != "api-prod" {
		t.Fatalf("FindByTags api/prod: got %+v, %v; want api-prod", got, err)
	}
	_, err = r.FindByTags(context.Background(), rollout.FindByTagsInput{Cluster: "c", Env: "prod", Names: []string{"api", "worker", "web"}})
	var amb *rollout.AmbiguousError
	var nf *rollout.NotFoundError
	if !errors.As(err, &amb) || !slices.Equal(amb.Matches, []string{"worker-a", "worker-b"}) {
		t.Errorf("ambiguous: got %v, want an AmbiguousError naming worker-a and worker-b", err)
	}
	if !errors.As(err, &nf) || !slices.Equal(nf.Services, []string{"web"}) {
		t.Errorf("missing: got %v, want a NotFoundError naming web", err)
	}
}

func TestRedeployTagStrategy(t *testing.T) {
	t.Parallel()
	fake := &servicesFake{services: []types.Service{svc("api")}}
	r := rollout.New(fake)
	ctx := context.Background()
	svcs, err := r.Find(ctx, rollout.FindInput{Cluster: "c", Names: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := r.Redeploy(ctx, svcs[0], rollout.RedeployInput{})
	if err != nil {
		t.Fatalf("Redeploy: %v", err)
	}
	if len(fake.updates) != 1 || !fake.updates[0].ForceNewDeployment || fake.updates[0].TaskDefinition != nil {
		t.Errorf("UpdateService: got %+v, want one call with ForceNewDeployment and no task definition", fake.updates)
	}
	want := rollout.Handle{Cluster: "c", Service: "api", ServiceARN: "arn:aws:ecs:eu-west-1:1:service/c/api", DeploymentID: ourID,
		TaskDefinition: tdOld, DesiredCount: 2, PreviousDeploymentID: oldID, PreviousTaskDefinition: tdOld, PreviousDesiredCount: 2}
	h.StartedAt = want.StartedAt
	if h != want {
		t.Errorf("handle:\ngot  %+v\nwant %+v", h, want)
	}
}
