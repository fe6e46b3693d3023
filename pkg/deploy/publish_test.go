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
