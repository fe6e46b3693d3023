package ecsdeploy

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

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
)

// TestDeployRefusesBadNumbers: the classic ecs-deploy's numbers
// that ECS would take to mean something else (a negative desired count,
// percentages out of range) or that would silently become a default (a
// negative timeout or max definitions) are refused before any AWS call,
// so no revision is registered.
func TestDeployRefusesBadNumbers(t *testing.T) {
	t.Parallel()
	i32 := func(v int32) *int32 { return &v }
	base := Input{Cluster: "main", Service: "api", Image: "repo/api:v1"}
	tests := []struct {
		name string
		mod  func(*Input)
		want string
	}{
		{"negative desired count", func(in *Input) { in.DesiredCount = i32(-5) }, "desired count -5 is negative"},
		{"minimum over 100", func(in *Input) { in.MinimumHealthyPercent = i32(101) }, "minimum healthy percent 101 is not from 0 to 100"},
		{"negative minimum", func(in *Input) { in.MinimumHealthyPercent = i32(-1) }, "minimum healthy percent -1 is not from 0 to 100"},
		{"maximum below 100", func(in *Input) { in.MaximumPercent = i32(99) }, "maximum percent 99 is below 100"},
		{"negative timeout", func(in *Input) { in.Timeout = -time.Second }, "timeout -1s is negative"},
		{"negative max definitions", func(in *Input) { in.MaxDefinitions = -2 }, "max definitions -2 is negative"},
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
			_, err := Deploy(context.Background(), cfg, event.Discard{}, in)
			if !errors.Is(err, deploy.ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %v, want deploy.ErrInvalidInput saying %q", err, tt.want)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("%d AWS calls made, want none", n)
			}
		})
	}
}

// TestDeployRefusesWhatItCannotDo: an input that names nothing to deploy,
// two things, or something the run would ignore is refused before any AWS
// call, saying what to give instead.
func TestDeployRefusesWhatItCannotDo(t *testing.T) {
	t.Parallel()
	svc := func(mod func(*Input)) Input {
		in := Input{Cluster: "main", Service: "api"}
		mod(&in)
		return in
	}
	td := func(mod func(*Input)) Input {
		in := Input{Cluster: "main", TaskDefinition: "migrate"}
		mod(&in)
		return in
	}
	tests := []struct {
		name string
		in   Input
		want string
	}{
		{"nothing to deploy", svc(func(*Input) {}), "an image is required"},
		{"no service nor task definition", Input{Cluster: "main", Image: "repo/api:v1"}, "a service (or a task definition) is required"},
		{"a service without its cluster", Input{Service: "api", Image: "repo/api:v1"}, "a service needs its cluster"},
		{"an image and a tag for every container", svc(func(in *Input) { in.Image, in.TagOnly = "repo/api:v1", "v2" }), "either an image or a tag"},
		{"a tag for every container and the image's tag", svc(func(in *Input) { in.TagOnly, in.Tag = "v2", "v3" }), "both given"},
		{"a tag for every container that is no tag", svc(func(in *Input) { in.TagOnly = "-v2" }), `the tag for every container's image: tag "-v2" is not valid`},
		{"containers to retag without a tag", svc(func(in *Input) { in.Image, in.TagOnlyContainers = "repo/api:v1", []string{"api"} }), "need the tag"},
		{"an empty container name to retag", svc(func(in *Input) { in.TagOnly, in.TagOnlyContainers = "v2", []string{"api", ""} }), "empty name"},
		{"a forced deployment of no service", td(func(in *Input) { in.ForceNewDeployment = true; in.TaskDefinition = "" }), "a service (or a task definition) is required"},
		{"a forced deployment of a task definition", Input{Cluster: "main", TaskDefinition: "migrate", ForceNewDeployment: true}, "redeploys a service"},
		{"a forced deployment with an image", svc(func(in *Input) { in.ForceNewDeployment, in.Image = true, "repo/api:v1" }), "takes no image"},
		{"a forced deployment with a tag for every container", svc(func(in *Input) { in.ForceNewDeployment, in.TagOnly = true, "v2" }), "takes no image"},
		{"a forced deployment that cleans up", svc(func(in *Input) { in.ForceNewDeployment, in.MaxDefinitions = true, 5 }), "takes no image"},
		{"a forced deployment of the latest revision", svc(func(in *Input) { in.ForceNewDeployment, in.UseLatestTaskDefinition = true, true }), "takes no image"},
		{"a one-off task of a service", svc(func(in *Input) { in.Image, in.RunTask = "repo/api:v1", &RunTaskInput{} }), "drop the service, or the one-off task"},
		{"a one-off task without a cluster", Input{TaskDefinition: "migrate", Image: "repo/api:v1", RunTask: &RunTaskInput{}}, "needs the cluster"},
		{"a one-off task of a tag for every container, of a service", svc(func(in *Input) { in.TagOnly, in.RunTask = "v2", &RunTaskInput{} }), "drop the service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Deploy(context.Background(), noCalls(t), event.Discard{}, tt.in)
			if !errors.Is(err, deploy.ErrInvalidInput) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %v, want deploy.ErrInvalidInput saying %q", err, tt.want)
			}
		})
	}
}

// noCalls is an AWS configuration that fails the test on any call.
func noCalls(t *testing.T) aws.Config {
	return aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("x", "y", ""),
		HTTPClient: roundTrip(func(r *http.Request) (*http.Response, error) {
			t.Errorf("AWS call %s made, want none", r.Header.Get("X-Amz-Target"))
			return nil, errors.New("no AWS call may be made")
		}),
	}
}

// TestImage: the image deployed is Image with Tag in place of its tag or
// digest, and the tag latest when it names neither.
func TestImage(t *testing.T) {
	t.Parallel()
	const (
		repo   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api"
		digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	for _, tc := range []struct {
		name, image, tag, want string
	}{
		{"a tag", repo + ":v1", "", repo + ":v1"},
		{"neither tag nor digest: latest", repo, "", repo + ":latest"},
		{"a digest", repo + "@" + digest, "", repo + "@" + digest},
		{"-e on a tag: the tag replaced", repo + ":v1", "v2", repo + ":v2"},
		{"-e on no tag", repo, "v2", repo + ":v2"},
		// The regression: a digest reference once became repo@sha256:v2.
		{"-e on a digest: the digest replaced by the tag", repo + "@" + digest, "v2", repo + ":v2"},
		{"-e on a tag and digest", repo + ":v1@" + digest, "v2", repo + ":v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Input{Image: tc.image, Tag: tc.tag}.image()
			if err != nil || got.String() != tc.want {
				t.Errorf("image of %q with tag %q: got %v, %v; want %s", tc.image, tc.tag, got, err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, image, tag string }{
		{"an image that is not a reference", "Shop/API:v1", ""},
		{"a tag that is not a tag", repo + "@" + digest, "-v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := (Input{Image: tc.image, Tag: tc.tag}).image(); !errors.Is(err, deploy.ErrInvalidInput) {
				t.Errorf("image of %q with tag %q: got %v, want deploy.ErrInvalidInput", tc.image, tc.tag, err)
			}
		})
	}
}

// roundTrip is an HTTP client made of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) Do(r *http.Request) (*http.Response, error) { return f(r) }
