package eventrules_test

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/buoy-deploy/buoy/pkg/eventrules"
)

// pagedEvents is an EventBridge that answers every list one item a page:
// two buses, two rules on each, and per rule an ECS target and a queue.
type pagedEvents struct{ calls map[string]int }

// page returns the item at token (a number) and the next token.
func page[T any](items []T, token *string) ([]T, *string) {
	i, _ := strconv.Atoi(aws.ToString(token))
	if i+1 < len(items) {
		return items[i : i+1], aws.String(strconv.Itoa(i + 1))
	}
	return items[i:], nil
}

func (p *pagedEvents) ListEventBuses(_ context.Context, in *eventbridge.ListEventBusesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListEventBusesOutput, error) {
	p.calls["ListEventBuses"]++
	buses, next := page([]types.EventBus{{Name: aws.String("default")}, {Name: aws.String("jobs")}}, in.NextToken)
	return &eventbridge.ListEventBusesOutput{EventBuses: buses, NextToken: next}, nil
}

func (p *pagedEvents) ListRules(_ context.Context, in *eventbridge.ListRulesInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error) {
	p.calls["ListRules"]++
	bus := aws.ToString(in.EventBusName)
	rules, next := page([]types.Rule{{Name: aws.String(bus + "-a")}, {Name: aws.String(bus + "-b")}}, in.NextToken)
	return &eventbridge.ListRulesOutput{Rules: rules, NextToken: next}, nil
}

func (p *pagedEvents) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	p.calls["ListTargetsByRule"]++
	rule := aws.ToString(in.Rule)
	targets, next := page([]types.Target{
		{Id: aws.String("task"), EcsParameters: &types.EcsParameters{TaskDefinitionArn: aws.String("td/" + rule)}},
		{Id: aws.String("queue"), Arn: aws.String("arn:aws:sqs:eu-west-1:123456789012:" + rule)},
	}, in.NextToken)
	return &eventbridge.ListTargetsByRuleOutput{Targets: targets, NextToken: next}, nil
}

// TestTaskDefinitionsReadsEveryPage: every bus, rule and target page is
// read, and only ECS targets count.
func TestTaskDefinitionsReadsEveryPage(t *testing.T) {
	t.Parallel()
	api := &pagedEvents{calls: map[string]int{}}
	got, err := eventrules.New(api).TaskDefinitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"td/default-a", "td/default-b", "td/jobs-a", "td/jobs-b"}
	if !slices.Equal(got, want) {
		t.Errorf("task definitions: got %v, want %v", got, want)
	}
	for op, n := range map[string]int{"ListEventBuses": 2, "ListRules": 4, "ListTargetsByRule": 8} {
		if api.calls[op] != n {
			t.Errorf("%s calls: got %d, want %d (one per page)", op, api.calls[op], n)
		}
	}
}
