package ssmparam

import (
	"context"
	"fmt"
	"strings"
	"testing"

	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestReadPagesAndKeysByLastSegment(t *testing.T) {
	t.Parallel()
	f := &fakeSSM{params: map[string]string{
		"/storage/images/latestx/other": "not under the path",
		"/storage/images/stage/api":     "not under the path either",
	}}
	for i := range 23 {
		f.params[fmt.Sprintf("/storage/images/latest/svc_%02d", i)] = fmt.Sprintf("repo/svc_%02d:ref.%d", i, i)
	}
	f.params["/storage/images/latest/nested/deep"] = "repo/deep:latest"
	got, err := Read(context.Background(), f, "/storage/images/latest")
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 24 {
		t.Fatalf("Read: got %d parameters, want 24 (23 services and one nested)", len(got))
	}
	if fmt.Sprint(f.pages) != "[10 10 4]" {
		t.Errorf("GetParametersByPath pages: got %v, want [10 10 4]", f.pages)
	}
	if p := got[0]; p.Name != "/storage/images/latest/nested/deep" || p.Image != "deep" || p.Value != "repo/deep:latest" {
		t.Errorf("first parameter: got %+v, want nested/deep keyed by its last segment", p)
	}
	if p := got[23]; p.Image != "svc_22" || p.Value != "repo/svc_22:ref.22" {
		t.Errorf("last parameter: got %+v, want svc_22", p)
	}
}

func TestReadEmptyPathIsNoError(t *testing.T) {
	t.Parallel()
	got, err := Read(context.Background(), &fakeSSM{params: map[string]string{}}, "/storage/images/latest")
	if err != nil || len(got) != 0 {
		t.Errorf("Read of an empty path: got %v, %v; want nothing and no error", got, err)
	}
}

func TestReadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		path   string
		params map[string]string
		types  map[string]ssmtypes.ParameterType
		want   string
	}{
		{"relative path", "storage/images/latest", nil, nil, "must start with '/'"},
		{"trailing slash", "/storage/images/latest/", nil, nil, "not end with one"},
		{"secure string", "/p/images/latest", map[string]string{"/p/images/latest/api": "x"},
			map[string]ssmtypes.ParameterType{"/p/images/latest/api": ssmtypes.ParameterTypeSecureString}, "/p/images/latest/api is a SecureString parameter"},
		{"two names for one image", "/p/images/latest", map[string]string{"/p/images/latest/api": "a", "/p/images/latest/x/api": "b"}, nil,
			"/p/images/latest/api and /p/images/latest/x/api both name image api"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params := tc.params
			if params == nil {
				params = map[string]string{}
			}
			_, err := Read(context.Background(), &fakeSSM{params: params, types: tc.types}, tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestPlanThenApply(t *testing.T) {
	t.Parallel()
	f := &fakeSSM{params: map[string]string{
		"/p/images/prod/same": "repo@sha256:1",
		"/p/images/prod/tag":  "repo:ref.abc",
	}}
	images := map[string]string{"same": "repo@sha256:1", "tag": "repo@sha256:2", "new": "repo@sha256:3"}
	plan, err := Plan(context.Background(), f, "p", "prod", images)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(f.puts) != 0 {
		t.Fatalf("Plan wrote %v, want nothing", f.puts)
	}
	want := []Result{
		{Image: "new", Name: "/p/images/prod/new", Value: "repo@sha256:3", Changed: true},
		{Image: "same", Name: "/p/images/prod/same", Value: "repo@sha256:1", Previous: "repo@sha256:1"},
		{Image: "tag", Name: "/p/images/prod/tag", Value: "repo@sha256:2", Previous: "repo:ref.abc", Changed: true},
	}
	if fmt.Sprint(plan) != fmt.Sprint(want) {
		t.Errorf("Plan:\ngot  %+v\nwant %+v", plan, want)
	}
	if _, err := Apply(context.Background(), f, "prod", plan); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := strings.Join(f.puts, " "); got != "/p/images/prod/new /p/images/prod/tag" {
		t.Errorf("Apply wrote %s, want only the changed new and tag", got)
	}
	if got := f.params["/p/images/prod/tag"]; got != "repo@sha256:2" {
		t.Errorf("/p/images/prod/tag: got %q, want repo@sha256:2", got)
	}
}
