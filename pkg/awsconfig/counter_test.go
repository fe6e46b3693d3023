package awsconfig_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

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
