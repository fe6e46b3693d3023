package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go/middleware"
)

// ConnectTimeout is how long a connection to an AWS endpoint may take to
// open, rather than the SDK's 30 s: an endpoint that does not answer in
// that time is as good as unreachable.
const ConnectTimeout = 5 * time.Second

// Retry is one retry of an AWS call, reported to a Watch's notify before
// the retry's backoff.
type Retry struct {
	Service   string // e.g. "DynamoDB"
	Operation string // e.g. "PutItem"
	// Attempt is the attempt that failed, counting from 1.
	Attempt int
	// Err is why it failed.
	Err error
}

func (r Retry) String() string {
	return fmt.Sprintf("AWS call %s.%s failed (attempt %d), retrying: %v", r.Service, r.Operation, r.Attempt, r.Err)
}

// UnreachableError says that an AWS endpoint could not be reached at all
// (its name does not resolve, nothing listens, the connection does not
// open in ConnectTimeout) before any call had reached it: most often a
// wrong region or endpoint, which no retry mends.
type UnreachableError struct {
	Service  string // e.g. "DynamoDB"
	Region   string
	Endpoint string // the URL called, if known
	Err      error
}

func (e *UnreachableError) Error() string {
	at := ""
	if e.Endpoint != "" {
		at = " at " + e.Endpoint
	}
	return fmt.Sprintf("cannot reach %s%s in region %s (%s): check the region and, if set, the endpoint (AWS_ENDPOINT_URL)", e.Service, at, e.Region, netText(e.Err))
}

// netText is the network error inside err, which says what failed
// without the layers of the request around it.
func netText(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Error()
	}
	return err.Error()
}

// Unwrap returns the network error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// RetryableError tells the SDK's retryers not to retry it.
func (e *UnreachableError) RetryableError() bool { return false }

// Watch makes the calls of every client made from cfg fail fast when
// their endpoint cannot be reached, and report their retries:
//
//   - a connection opens within ConnectTimeout (when cfg's HTTP client is
//     the SDK's own);
//   - until one call of a client has reached its endpoint (any answer, even
//     an error), an attempt that cannot reach it (*UnreachableError) is not
//     retried: a wrong region or endpoint fails at once rather than after
//     minutes of retries;
//   - every retry is reported to notify, if not nil (it must be safe for
//     concurrent use).
//
// The retry policy itself (attempts, backoff, mode) is cfg's, or the SDK's
// when cfg has none. Call it after DefaultRetries.
func Watch(cfg *aws.Config, notify func(Retry)) {
	if c, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = c.WithDialerOptions(func(d *net.Dialer) { d.Timeout = ConnectTimeout })
	} else if cfg.HTTPClient == nil {
		cfg.HTTPClient = awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) { d.Timeout = ConnectTimeout })
	}
	base := cfg.Retryer
	if base == nil {
		mode, maxAttempts := cfg.RetryMode, cfg.RetryMaxAttempts
		base = func() aws.Retryer {
			standard := func(o *retry.StandardOptions) {
				if maxAttempts != 0 {
					o.MaxAttempts = maxAttempts
				}
			}
			if mode == aws.RetryModeAdaptive {
				return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
					o.StandardOptions = append(o.StandardOptions, standard)
				})
			}
			return retry.NewStandard(standard)
		}
	}
	cfg.Retryer = func() aws.Retryer {
		return &watcher{RetryerV2: asV2(base()), notify: notify}
	}
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("buoy-reach", reach), middleware.After)
	})
}

// attemptsKey is the context key of a call's attempt count.
type attemptsKey struct{}

// reach counts a call's attempts for its retryer, and makes the error of
// a call that could not reach its endpoint on its only attempt an
// *UnreachableError.
func reach(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	attempts := new(atomic.Int32)
	out, md, err := next.HandleInitialize(context.WithValue(ctx, attemptsKey{}, attempts), in)
	if err != nil && ctx.Err() == nil && attempts.Load() == 1 && cannotConnect(err) {
		err = &UnreachableError{Service: awsmiddleware.GetServiceID(ctx), Region: awsmiddleware.GetRegion(ctx), Endpoint: endpointOf(err), Err: err}
	}
	return out, md, err
}

// watcher is a client's retryer, as Watch describes.
type watcher struct {
	aws.RetryerV2
	notify  func(Retry)
	reached atomic.Bool // a call of this client has reached its endpoint
}

// GetAttemptToken counts the call's attempt.
func (w *watcher) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Add(1)
	}
	release, err := w.RetryerV2.GetAttemptToken(ctx)
	if err != nil {
		return release, err
	}
	return func(attemptErr error) error {
		if attemptErr == nil || !cannotConnect(attemptErr) {
			w.reached.Store(true)
		}
		return release(attemptErr)
	}, nil
}

// IsErrorRetryable refuses to retry a client's first contact with an
// endpoint it cannot reach.
func (w *watcher) IsErrorRetryable(err error) bool {
	if !w.reached.Load() && cannotConnect(err) {
		return false
	}
	return w.RetryerV2.IsErrorRetryable(err)
}

// GetRetryToken reports the retry that is about to happen.
func (w *watcher) GetRetryToken(ctx context.Context, err error) (func(error) error, error) {
	release, tokenErr := w.RetryerV2.GetRetryToken(ctx, err)
	if tokenErr == nil && w.notify != nil {
		attempt := 0
		if n, ok := ctx.Value(attemptsKey{}).(*atomic.Int32); ok {
			attempt = int(n.Load())
		}
		w.notify(Retry{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx), Attempt: attempt, Err: err})
	}
	return release, tokenErr
}

// cannotConnect reports whether err says the endpoint was not reached: a
// name that does not resolve, or a connection that did not open.
func cannotConnect(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// asV2 adapts a retryer to aws.RetryerV2.
func asV2(r aws.Retryer) aws.RetryerV2 {
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2
	}
	return v1{r}
}

type v1 struct{ aws.Retryer }

func (r v1) GetAttemptToken(context.Context) (func(error) error, error) {
	return r.GetInitialToken(), nil
}

// endpointOf returns the URL an error's request was sent to, or "".
func endpointOf(err error) string {
	var u *url.Error
	if errors.As(err, &u) {
		return u.URL
	}
	return ""
}
