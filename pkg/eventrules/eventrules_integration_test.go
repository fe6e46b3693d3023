//go:build integration

package eventrules_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/eventrules"
)

// TestMotoTaskDefinitions makes, on moto, a scheduled rule on the
// default event bus running a task definition's revision, an
// event-pattern rule on a bus of its own running a family (no revision),
// and a rule whose target is a Lambda function; TaskDefinitions names
// the two task definitions and not the function. (Other tests' rules
// share moto, so it checks what it made is there, and no more of it.)
func TestMotoTaskDefinitions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := awstest.Config(t)
	client := eventbridge.NewFromConfig(cfg)
	prefix := "arn:aws:ecs:" + awstest.Region + ":" + awstest.AccountID
	nightly := prefix + ":task-definition/" + awstest.Name(t, "report") + ":4"
	onUpload := prefix + ":task-definition/" + awstest.Name(t, "thumbnail")
	function := "arn:aws:lambda:" + awstest.Region + ":" + awstest.AccountID + ":function:" + awstest.Name(t, "notify")
	bus := awstest.Name(t, "uploads")
	if _, err := client.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	ecsTarget := func(id, taskDefinition string) types.Target {
		return types.Target{Id: aws.String(id), Arn: aws.String(prefix + ":cluster/jobs"), RoleArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":role/events"),
			EcsParameters: &types.EcsParameters{TaskDefinitionArn: aws.String(taskDefinition), TaskCount: aws.Int32(1)}}
	}
	for _, r := range []struct {
		bus, rule, schedule, pattern string
		target                       types.Target
	}{
		{"default", awstest.Name(t, "nightly"), "cron(0 3 * * ? *)", "", ecsTarget("report", nightly)},
		{bus, awstest.Name(t, "on-upload"), "", `{"source":["uploads"]}`, ecsTarget("thumbnail", onUpload)},
		{"default", awstest.Name(t, "notify"), "rate(1 hour)", "", types.Target{Id: aws.String("notify"), Arn: aws.String(function)}},
	} {
		in := &eventbridge.PutRuleInput{Name: aws.String(r.rule), EventBusName: aws.String(r.bus)}
		if r.schedule != "" {
			in.ScheduleExpression = aws.String(r.schedule)
		} else {
			in.EventPattern = aws.String(r.pattern)
		}
		if _, err := client.PutRule(ctx, in); err != nil {
			t.Fatalf("put rule %s: %v", r.rule, err)
		}
		if _, err := client.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.rule), EventBusName: aws.String(r.bus), Targets: []types.Target{r.target}}); err != nil {
			t.Fatalf("put the target of %s: %v", r.rule, err)
		}
	}

	got, err := eventrules.NewFromConfig(cfg).TaskDefinitions(ctx)
	if err != nil {
		t.Fatalf("TaskDefinitions: %v", err)
	}
	for _, want := range []string{nightly, onUpload} {
		if !slices.Contains(got, want) {
			t.Errorf("TaskDefinitions: %s is missing from %v", want, got)
		}
	}
	if slices.Contains(got, function) {
		t.Errorf("TaskDefinitions names the Lambda function %s", function)
	}
}
