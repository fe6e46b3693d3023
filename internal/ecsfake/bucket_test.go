package ecsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

// TestTokenBucketThrottlesLikeECS: a bucket of 5 at 2 a second lets 5
// calls through at once and throttles the 6th; half a second later one
// more goes (a token refilled), then none; it never holds more than 5.
func TestTokenBucketThrottlesLikeECS(t *testing.T) {
	t.Parallel()
	clock := clocktest.New(ecsfake.T0)
	b := ecsfake.NewTokenBucket(clock, 2, 5)
	takes := func(n int) (ok int) {
		for range n {
			if b.Take() {
				ok++
			}
		}
		return ok
	}
	for _, step := range []struct {
		after      time.Duration
		try, taken int
	}{
		{0, 6, 5},
		{500 * time.Millisecond, 2, 1},
		{time.Minute, 8, 5},
	} {
		clock.Advance(step.after)
		if got := takes(step.try); got != step.taken {
			t.Errorf("after %s more, %d calls: got %d through, want %d", step.after, step.try, got, step.taken)
		}
	}
}

// TestBucketThrottlesTheOperationsItNames: Server.Bucket answers
// ThrottlingException, the error code ECS gives, once the operations'
// shared bucket is empty, and counts it; other operations go on.
func TestBucketThrottlesTheOperationsItNames(t *testing.T) {
	t.Parallel()
	srv := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app", TaskDefinition: "arn:td/app:1", DesiredCount: 1,
		Before: frame("ecs-svc/1", "COMPLETED")})
	clock := clocktest.New(ecsfake.T0)
	srv.Bucket(clock, 1, 2, "DescribeServices", "ListServices")
	c := srv.Client()
	ctx := context.Background()
	describe := func() error {
		_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(ecsfake.Cluster), Services: []string{"app"}})
		return err
	}
	for i := range 2 {
		if err := describe(); err != nil {
			t.Fatalf("DescribeServices %d of the burst: %v", i+1, err)
		}
	}
	var ae smithy.APIError
	if err := describe(); !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("DescribeServices beyond the burst: got %v, want ThrottlingException", err)
	}
	if _, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(ecsfake.Cluster)}); !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Errorf("ListServices, same bucket: got %v, want ThrottlingException", err)
	}
	if _, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Service: aws.String("app")}); errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException" {
		t.Errorf("ListServiceDeployments, no bucket: throttled, want it answered")
	}
	clock.Advance(time.Second)
	if err := describe(); err != nil {
		t.Errorf("DescribeServices a second later: %v, want a refilled token", err)
	}
	if got := srv.Throttled("DescribeServices"); got != 1 {
		t.Errorf("throttled DescribeServices: got %d, want 1", got)
	}
}
