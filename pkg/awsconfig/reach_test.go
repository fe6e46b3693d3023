package awsconfig_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/buoy-deploy/buoy/pkg/awsconfig"
)

// watched is a DynamoDB client on endpoint, made from a configuration
// with a retry policy of maxAttempts and no backoff, passed through
// Watch; it records the retries reported and counts the attempts made.
type watched struct {
	client  *dynamodb.Client
	counter *awsconfig.Counter
	mu      sync.Mutex
	retries []awsconfig.Retry
}

func newWatched(endpoint string, maxAttempts int) *watched {
	w := &watched{counter: &awsconfig.Counter{}}
	cfg := aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("x", "y", ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = maxAttempts
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
	awsconfig.Watch(&cfg, func(r awsconfig.Retry) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.retries = append(w.retries, r)
	})
	w.counter.Install(&cfg)
	w.client = dynamodb.NewFromConfig(cfg)
	return w
}

func (w *watched) get(ctx context.Context) error {
	_, err := w.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("buoy-history"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p"}}})
	return err
}

func (w *watched) reported() []awsconfig.Retry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]awsconfig.Retry(nil), w.retries...)
}

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestFirstContactFailsFast: a client whose endpoint cannot be reached
// (nothing listens; the name does not resolve) makes one attempt, not
// ten, and says what it could not reach, where.
func TestFirstContactFailsFast(t *testing.T) {
	t.Parallel()
	for name, endpoint := range map[string]string{
		"closed port":     closedPort(t),
		"unresolved name": "http://dynamodb.eu-wset-1.invalid",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := newWatched(endpoint, 10)
			err := w.get(context.Background())
			var unreachable *awsconfig.UnreachableError
			if !errors.As(err, &unreachable) {
				t.Fatalf("err = %v, want an *UnreachableError", err)
			}
			for _, want := range []string{"cannot reach DynamoDB at " + endpoint, "in region eu-west-1", "check the region"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to say %q", err, want)
				}
			}
			if got := w.counter.Total(); got != 1 {
				t.Errorf("attempts = %d, want 1", got)
			}
			if r := w.reported(); len(r) != 0 {
				t.Errorf("retries reported: %v, want none", r)
			}
		})
	}
}

// TestRetriesAreReported: once a client has reached its endpoint, a call
// that fails is retried as its policy says, each retry reported with the
// attempt that failed; a connection refused later is retried too (the
// endpoint was there: it may come back).
func TestRetriesAreReported(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if hits.Add(1) == 1 {
			_, _ = rw.Write([]byte(`{}`))
			return
		}
		rw.WriteHeader(http.StatusInternalServerError)
		_, _ = rw.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}`))
	}))
	w := newWatched(srv.URL, 4)
	ctx := context.Background()
	if err := w.get(ctx); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if err := w.get(ctx); err == nil {
		t.Fatal("second call succeeded, want it to fail after its retries")
	}
	if got := hits.Load(); got != 5 {
		t.Errorf("requests = %d, want 1 + 4 attempts", got)
	}
	retries := w.reported()
	if len(retries) != 3 {
		t.Fatalf("retries reported = %v, want 3 (attempts 1, 2 and 3 failed and were retried)", retries)
	}
	for i, r := range retries {
		if r.Service != "DynamoDB" || r.Operation != "GetItem" || r.Attempt != i+1 || !strings.Contains(r.String(), "boom") {
			t.Errorf("retry %d = %+v (%s), want DynamoDB.GetItem attempt %d saying boom", i, r, r, i+1)
		}
	}

	srv.Close()
	before := w.counter.Total()
	if err := w.get(ctx); err == nil {
		t.Fatal("a call to a closed server succeeded")
	}
	if got := w.counter.Total() - before; got != 4 {
		t.Errorf("attempts to the closed server = %d, want 4 (it had been reached: retried)", got)
	}
}
