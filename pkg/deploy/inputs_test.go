package deploy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/buoy-deploy/buoy/pkg/event"
)

// TestNegativeNumbersAreRefused: a negative timeout or history limit is
// refused with ErrInvalidInput before anything is recorded or changed,
// rather than silently taken as the default (0 still means the default).
func TestNegativeNumbersAreRefused(t *testing.T) {
	t.Parallel()
	neg := Request{Environment: "stage", Timeout: -5 * time.Second}
	tests := []struct {
		name string
		run  func(f *fixture) error
		want string
	}{
		{"release-deploy", func(f *fixture) error {
			_, err := f.d.ReleaseDeploy(context.Background(), ReleaseDeployInput{Request: neg})
			return err
		}, "timeout -5s is negative: give how long to wait for ECS, or 0 for the default of 30m0s"},
		{"deploy", func(f *fixture) error {
			_, err := f.d.Deploy(context.Background(), DeployInput{Request: neg})
			return err
		}, "timeout -5s is negative"},
		{"promote", func(f *fixture) error {
			_, err := f.d.Promote(context.Background(), PromoteInput{Request: Request{Environment: "prod", Timeout: -time.Nanosecond}})
			return err
		}, "timeout -1ns is negative"},
		{"rollback", func(f *fixture) error {
			_, err := f.d.Rollback(context.Background(), RollbackInput{Request: neg})
			return err
		}, "timeout -5s is negative"},
		{"history", func(f *fixture) error {
			_, err := f.d.History(context.Background(), HistoryInput{Limit: -1})
			return err
		}, "history limit -1 is negative: give how many releases and deployments to list, or 0 for 20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			err := tt.run(f)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error: got %v, want ErrInvalidInput saying %q", err, tt.want)
			}
			if got := f.w.sideEffects(); len(got) != 0 {
				t.Errorf("refused request changed AWS: %q", got)
			}
			if n := len(f.store.deps); n != 0 {
				t.Errorf("refused request recorded %d deployments, want none", n)
			}
		})
	}
	t.Run("zero timeout is the default", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		if _, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Timeout = 0 }); err != nil {
			t.Fatalf("release-deploy with timeout 0: %v, want the default timeout", err)
		}
	})
}

// TestDeploySingleRefusesBadNumbers: the classic ecs-deploy's numbers
// that ECS would take to mean something else (a negative desired count,
// percentages out of range) or that would silently become a default (a
// negative timeout or max definitions) are refused before any AWS call,
// so no revision is registered.
func TestDeploySingleRefusesBadNumbers(t *testing.T) {
	t.Parallel()
	i32 := func(v int32) *int32 { return &v }
	base := SingleInput{Cluster: "main", Service: "api", Image: "repo/api:v1"}
	tests := []struct {
		name string
		mod  func(*SingleInput)
		want string
	}{
		{"negative desired count", func(in *SingleInput) { in.DesiredCount = i32(-5) }, "desired count -5 is negative"},
		{"minimum over 100", func(in *SingleInput) { in.MinimumHealthyPercent = i32(101) }, "minimum healthy percent 101 is not from 0 to 100"},
		{"negative minimum", func(in *SingleInput) { in.MinimumHealthyPercent = i32(-1) }, "minimum healthy percent -1 is not from 0 to 100"},
		{"maximum below 100", func(in *SingleInput) { in.MaximumPercent = i32(99) }, "maximum percent 99 is below 100"},
		{"negative timeout", func(in *SingleInput) { in.Timeout = -time.Second }, "timeout -1s is negative"},
		{"negative max definitions", func(in *SingleInput) { in.MaxDefinitions = -2 }, "max definitions -2 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			cfg := aws.Config{
				Region:      "eu-west-1",
				Credentials: credentials.NewStaticCredentialsProvider("x", "y", ""),
				HTTPClient: roundTrip(func(*http.Request) (*http.Response, error) {
					calls.Add(1)
					return nil, errors.New("no AWS call may be made")
				}),
			}
			in := base
			tt.mod(&in)
			_, err := DeploySingle(context.Background(), cfg, event.Discard{}, in)
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %v, want ErrInvalidInput saying %q", err, tt.want)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d AWS calls made, want none", n)
			}
		})
	}
}

// roundTrip is an HTTP client made of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) Do(r *http.Request) (*http.Response, error) { return f(r) }
