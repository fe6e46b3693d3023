package awsconfig_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

func TestCounterCountsCallsByOperation(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app"})
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	var c awsconfig.Counter
	c.Install(&cfg)
	client := ecs.NewFromConfig(cfg)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _ = client.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"app"}})
		})
	}
	wg.Wait()
	_, _ = client.ListServices(context.Background(), &ecs.ListServicesInput{})
	want := map[string]int{"ECS:DescribeServices": 8, "ECS:ListServices": 1}
	got := c.Counts()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: got %d calls, want %d (all counts %v)", k, got[k], n, got)
		}
	}
	if c.Total() != 9 || srv.TotalCalls() != 9 {
		t.Errorf("total: got %d counted, %d served; want 9", c.Total(), srv.TotalCalls())
	}
}

func TestCountFromContextCountsInTheContextsCounter(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app"})
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	awsconfig.CountFromContext(&cfg)
	client := ecs.NewFromConfig(cfg)
	var a, b awsconfig.Counter
	describe := func(ctx context.Context) {
		_, _ = client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"app"}})
	}
	describe(awsconfig.WithCounter(context.Background(), &a))
	describe(awsconfig.WithCounter(context.Background(), &a))
	describe(awsconfig.WithCounter(context.Background(), &b))
	describe(context.Background())
	if got := a.Counts()["ECS:DescribeServices"]; got != 2 {
		t.Errorf("first counter: got %d calls, want 2", got)
	}
	if got := b.Counts()["ECS:DescribeServices"]; got != 1 {
		t.Errorf("second counter: got %d calls, want 1", got)
	}
	if srv.TotalCalls() != 4 {
		t.Errorf("served: got %d calls, want 4", srv.TotalCalls())
	}
}

// TestCounterNamesServicesWithoutSpaces: the Resource Groups Tagging API,
// whose SDK service id has spaces, is counted as
// "ResourceGroupsTaggingAPI:GetResources", the name Result.Stats and the
// IAM permission list use.
func TestCounterNamesServicesWithoutSpaces(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"ResourceTagMappingList":[]}`))
	}))
	defer srv.Close()
	cfg := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1}
	var installed, fromCtx awsconfig.Counter
	installed.Install(&cfg)
	awsconfig.CountFromContext(&cfg)
	_, err := resourcegroupstaggingapi.NewFromConfig(cfg).GetResources(awsconfig.WithCounter(context.Background(), &fromCtx), &resourcegroupstaggingapi.GetResourcesInput{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"ResourceGroupsTaggingAPI:GetResources": 1}
	for name, c := range map[string]*awsconfig.Counter{"Install": &installed, "CountFromContext": &fromCtx} {
		if got := c.Counts(); len(got) != 1 || got["ResourceGroupsTaggingAPI:GetResources"] != 1 {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
}
