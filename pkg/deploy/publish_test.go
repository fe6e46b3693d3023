package deploy

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

type fakeSSM struct {
	mu     sync.Mutex
	params map[string]string
	byPath int // GetParametersByPath calls
	puts   []string
}

func (f *fakeSSM) GetParameters(_ context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ssm.GetParametersOutput{}
	for _, n := range in.Names {
		if v, ok := f.params[n]; ok {
			out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(n), Value: aws.String(v)})
		} else {
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

// GetParametersByPath returns every String parameter under in.Path
// (recursively when asked), in name order, MaxResults a page; the token
// is the index of the next one.
func (f *fakeSSM) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byPath++
	var names []string
	for name := range f.params {
		rest, ok := strings.CutPrefix(name, aws.ToString(in.Path)+"/")
		if ok && (aws.ToBool(in.Recursive) || !strings.Contains(rest, "/")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	end := min(start+int(aws.ToInt32(in.MaxResults)), len(names))
	out := &ssm.GetParametersByPathOutput{}
	for _, name := range names[start:end] {
		out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(name), Value: aws.String(f.params[name]), Type: ssmtypes.ParameterTypeString})
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.params[aws.ToString(in.Name)] = aws.ToString(in.Value)
	f.puts = append(f.puts, aws.ToString(in.Name))
	return &ssm.PutParameterOutput{}, nil
}

func TestPublishSSMAndAuditTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		strategy   manifest.Strategy
		wantUpdate bool
	}{
		{"tag strategy publishes after success", manifest.StrategyTag, true},
		{"ssm strategy publishes and redeploys nothing", manifest.StrategySSM, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			params := &fakeSSM{params: map[string]string{}}
			f := newFixture(t, WithSSM(func(ClusterParams) (ssmparam.SSMAPI, error) { return params, nil }))
			stage := f.project.Environments[0]
			stage.PublishSSM, stage.AuditTag, stage.Strategy = true, true, tt.strategy
			if _, err := f.releaseDeploy("stage"); err != nil {
				t.Fatal(err)
			}
			want := ecrHost + "demo/api@" + newDigest("api")
			if got := params.params["/demo/images/stage/api"]; got != want {
				t.Errorf("/demo/images/stage/api: got %q, want %q", got, want)
			}
			// Both strategies move the floating tag (docs/manifest.md): ECR
			// shows what the environment runs, and status and promote read it.
			if got := f.w.tagged("demo/api", "env.stage"); got != newDigest("api") {
				t.Errorf("env.stage: got %q, want %s", got, newDigest("api"))
			}
			if got := f.w.tagged("demo/api", "env.stage.20261122T103000Z"); got != newDigest("api") {
				t.Errorf("audit tag: got %q, want %s", got, newDigest("api"))
			}
			updated := false
			for _, c := range f.w.sideEffects() {
				updated = updated || strings.HasPrefix(c, "UpdateService")
			}
			if updated != tt.wantUpdate {
				t.Errorf("services updated: got %v, want %v", updated, tt.wantUpdate)
			}
		})
	}
}

// publish_ssm writes in each target's region and account once; a legacy
// project whose services have their own role or region (targets limited
// to those services) writes in its own region through its own role only,
// as weco-deploy did (docs/manifest.md, "SSM parameters: the layout of
// 2019").
func TestPublishPlaces(t *testing.T) {
	t.Parallel()
	const (
		projectRole = "arn:aws:iam::123456789012:role/identity-ci"
		drRole      = "arn:aws:iam::123456789012:role/identity-dr-ci"
		prodRole    = "arn:aws:iam::210987654321:role/deploy"
	)
	tests := []struct {
		name    string
		project manifest.Registry
		targets []manifest.Target
		want    []manifest.Target
	}{
		{"buoy.yaml: every target's region and account, once",
			manifest.Registry{Region: "eu-west-1"},
			[]manifest.Target{{Cluster: "a", Region: "eu-west-1"}, {Cluster: "b", Region: "eu-west-1"},
				{Cluster: "c", Region: "eu-west-2", RoleARN: prodRole}},
			[]manifest.Target{{Region: "eu-west-1"}, {Region: "eu-west-2", RoleARN: prodRole}}},
		{"legacy with service overrides: the project's region and role only",
			manifest.Registry{Region: "eu-west-1", RoleARN: projectRole},
			[]manifest.Target{{Region: "eu-west-1", RoleARN: projectRole, Services: []string{"identity"}},
				{Region: "eu-west-2", RoleARN: drRole, Services: []string{"identity-dr"}}},
			[]manifest.Target{{Region: "eu-west-1", RoleARN: projectRole}}},
		{"legacy whose every service is overridden: still the project's",
			manifest.Registry{Region: "eu-west-1", RoleARN: projectRole},
			[]manifest.Target{{Region: "eu-west-2", RoleARN: drRole, Services: []string{"identity-dr"}}},
			[]manifest.Target{{Region: "eu-west-1", RoleARN: projectRole}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := publishPlaces(&manifest.Project{ID: "identity", Registry: tt.project}, &manifest.Environment{ID: "stage", Targets: tt.targets})
			if !slices.EqualFunc(got, tt.want, func(a, b manifest.Target) bool {
				return a.Region == b.Region && a.RoleARN == b.RoleARN && a.Cluster == b.Cluster && len(a.Services) == 0 && len(b.Services) == 0
			}) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
