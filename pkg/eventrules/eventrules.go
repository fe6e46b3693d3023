// Package eventrules reads the Amazon EventBridge rules of an account and
// Region that run ECS tasks (scheduled rules and event-pattern rules with
// an ECS target): which task definitions they run, so that buoy never
// deregisters one of them. It is buoy's only way to EventBridge.
package eventrules

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
)

// EventsAPI is the part of the EventBridge API that Reader calls.
// *eventbridge.Client satisfies it.
type EventsAPI interface {
	ListEventBuses(ctx context.Context, in *eventbridge.ListEventBusesInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListEventBusesOutput, error)
	ListRules(ctx context.Context, in *eventbridge.ListRulesInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
	ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
}

var _ EventsAPI = (*eventbridge.Client)(nil)

// pageSize is the most items each list call is asked for (EventBridge
// allows up to 100).
const pageSize = 100

// Reader reads the ECS targets of EventBridge rules. It is safe for
// concurrent use.
type Reader struct {
	api EventsAPI
}

// New returns a Reader that calls api.
func New(api EventsAPI) *Reader { return &Reader{api: api} }

// NewFromConfig returns a Reader that calls EventBridge with a client
// made from cfg.
func NewFromConfig(cfg aws.Config) *Reader { return New(eventbridge.NewFromConfig(cfg)) }

// Target is one ECS target of a rule.
type Target struct {
	EventBus string
	Rule     string
	// TaskDefinition is the target's task definition ARN, with or
	// without a revision (without one, the family's latest ACTIVE
	// revision runs).
	TaskDefinition string
}

// ECSTargets returns every ECS target of every rule of every event bus
// of the account and Region: ListEventBuses, then ListRules and
// ListTargetsByRule page after page.
func (r *Reader) ECSTargets(ctx context.Context) ([]Target, error) {
	buses, err := r.buses(ctx)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, bus := range buses {
		rules, err := r.rules(ctx, bus)
		if err != nil {
			return nil, err
		}
		for _, rule := range rules {
			targets, err := r.targets(ctx, bus, rule)
			if err != nil {
				return nil, err
			}
			out = append(out, targets...)
		}
	}
	return out, nil
}

// TaskDefinitions returns the task definitions the ECS targets of the
// account's rules run (ECSTargets), each once, sorted.
func (r *Reader) TaskDefinitions(ctx context.Context) ([]string, error) {
	targets, err := r.ECSTargets(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range targets {
		if !slices.Contains(out, t.TaskDefinition) {
			out = append(out, t.TaskDefinition)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (r *Reader) buses(ctx context.Context) ([]string, error) {
	var out []string
	in := &eventbridge.ListEventBusesInput{Limit: aws.Int32(pageSize)}
	for {
		page, err := r.api.ListEventBuses(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the EventBridge event buses: %w", err)
		}
		for _, b := range page.EventBuses {
			out = append(out, aws.ToString(b.Name))
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func (r *Reader) rules(ctx context.Context, bus string) ([]string, error) {
	var out []string
	in := &eventbridge.ListRulesInput{EventBusName: aws.String(bus), Limit: aws.Int32(pageSize)}
	for {
		page, err := r.api.ListRules(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the EventBridge rules of event bus %s: %w", bus, err)
		}
		for _, rule := range page.Rules {
			out = append(out, aws.ToString(rule.Name))
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

func (r *Reader) targets(ctx context.Context, bus, rule string) ([]Target, error) {
	var out []Target
	in := &eventbridge.ListTargetsByRuleInput{EventBusName: aws.String(bus), Rule: aws.String(rule), Limit: aws.Int32(pageSize)}
	for {
		page, err := r.api.ListTargetsByRule(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the targets of EventBridge rule %s: %w", rule, err)
		}
		for _, t := range page.Targets {
			if t.EcsParameters != nil && aws.ToString(t.EcsParameters.TaskDefinitionArn) != "" {
				out = append(out, Target{EventBus: bus, Rule: rule, TaskDefinition: aws.ToString(t.EcsParameters.TaskDefinitionArn)})
			}
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}
