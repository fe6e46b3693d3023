package ecsfake_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/buoy-deploy/buoy/internal/ecsfake"
)

// TestWithTaskDefinitionsAt: task-definition calls reach the other
// endpoint, service calls the scripted server.
func TestWithTaskDefinitionsAt(t *testing.T) {
	t.Parallel()
	tds := ecsfake.New(t, ecsfake.Unsupported)
	arn := "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7"
	tds.AddTaskDefinitions(ecsfake.TaskDefinition{ARN: arn, Containers: []ecsfake.ContainerDefinition{{Name: "api", Image: "api:env.stage"}}})
	svc := ecsfake.New(t, ecsfake.Unsupported, ecsfake.Service{Name: "app", DesiredCount: 1,
		Before: ecsfake.Frame{Deployments: []ecsfake.Deployment{{ID: "d0", Status: "PRIMARY", RolloutState: "COMPLETED"}}}})

	c := ecs.NewFromConfig(aws.Config{Region: "eu-west-1", RetryMaxAttempts: 1,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(svc.WithTaskDefinitionsAt(t, tds.URL))})
	ctx := context.Background()
	td, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
	if err != nil || aws.ToString(td.TaskDefinition.TaskDefinitionArn) != arn {
		t.Fatalf("DescribeTaskDefinition through the router: %v, %v; want %s from the other endpoint", td, err, arn)
	}
	if _, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(ecsfake.Cluster), Services: []string{"app"}}); err != nil {
		t.Fatalf("DescribeServices through the router: %v", err)
	}
	if got := [4]int{tds.Calls("DescribeTaskDefinition"), svc.Calls("DescribeTaskDefinition"), svc.Calls("DescribeServices"), tds.Calls("DescribeServices")}; got != [4]int{1, 0, 1, 0} {
		t.Errorf("calls (td server DescribeTaskDefinition, service server DescribeTaskDefinition, service server DescribeServices, td server DescribeServices) = %v, want [1 0 1 0]", got)
	}
}

// TestWithTaskDefinitionsAtSendsOtherServicesThere: a call of another
// JSON service (EventBridge, CloudWatch Logs) reaches the other endpoint,
// not the scripted ECS server.
func TestWithTaskDefinitionsAtSendsOtherServicesThere(t *testing.T) {
	t.Parallel()
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("X-Amz-Target"))
		_, _ = w.Write([]byte("{}"))
	}))
	t.Cleanup(other.Close)
	svc := ecsfake.New(t, ecsfake.Unsupported)
	router := svc.WithTaskDefinitionsAt(t, other.URL)
	for _, target := range []string{"AWSEvents.ListRules", "Logs_20140328.GetLogEvents"} {
		req, err := http.NewRequest(http.MethodPost, router, strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	if want := []string{"AWSEvents.ListRules", "Logs_20140328.GetLogEvents"}; !slices.Equal(got, want) {
		t.Errorf("the other endpoint got %v, want %v", got, want)
	}
	if n := svc.TotalCalls(); n != 0 {
		t.Errorf("the scripted server got %d calls, want none", n)
	}
}
