package awsconfig

import (
	"context"
	"maps"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts API calls by "service:operation" (e.g. "ECS:DescribeServices",
// "ResourceGroupsTaggingAPI:GetResources").
// Install it on a configuration with Counter.Install. It is safe for
// concurrent use. Each attempt of a retried call counts once.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int
}

// Install adds the counter to cfg's API options, so every client made
// from cfg counts its calls.
func (c *Counter) Install(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("buoy-call-counter",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.add(callKey(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

// callKey names the call ctx is made for, "service:operation", the
// service as its SDK identifies it without spaces ("Resource Groups
// Tagging API" is "ResourceGroupsTaggingAPI").
func callKey(ctx context.Context) string {
	return strings.ReplaceAll(awsmiddleware.GetServiceID(ctx), " ", "") + ":" + awsmiddleware.GetOperationName(ctx)
}

func (c *Counter) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[key]++
}

// Counts returns a copy of the counts so far.
func (c *Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Stats returns the counts by "Service.Operation" (e.g.
// "ECS.UpdateService"), as buoy's results report them.
func (c *Counter) Stats() map[string]int {
	out := map[string]int{}
	for k, n := range c.Counts() {
		out[strings.Replace(k, ":", ".", 1)] += n
	}
	return out
}

// Total returns how many calls were counted.
func (c *Counter) Total() int {
	n := 0
	for _, v := range c.Counts() {
		n += v
	}
	return n
}

// counterKey is the context key of the Counter WithCounter attaches.
type counterKey struct{}

// WithCounter returns a copy of ctx that makes the calls made with it, by
// clients whose configuration has CountFromContext installed, count in c.
// It lets a client shared by several operations (a history store opened
// once) count each call in the operation that made it.
func WithCounter(ctx context.Context, c *Counter) context.Context {
	return context.WithValue(ctx, counterKey{}, c)
}

// contextCounterID names CountFromContext's middleware.
const contextCounterID = "buoy-context-call-counter"

// CountFromContext adds to cfg's API options a middleware that counts each
// call in the Counter its context carries (see WithCounter); calls whose
// context carries none are not counted. Installing it more than once on
// the same configuration counts each call once.
func CountFromContext(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions[:len(cfg.APIOptions):len(cfg.APIOptions)], func(s *middleware.Stack) error {
		if _, ok := s.Finalize.Get(contextCounterID); ok {
			return nil
		}
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc(contextCounterID,
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if c, ok := ctx.Value(counterKey{}).(*Counter); ok {
					c.add(callKey(ctx))
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}
