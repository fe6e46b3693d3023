package ssmparam

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

type fakeSSM struct {
	params map[string]string
	types  map[string]ssmtypes.ParameterType // String unless set
	gets   [][]string
	puts   []string
	pages  []int // parameters returned by each GetParametersByPath call
}

func (f *fakeSSM) GetParameters(_ context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	f.gets = append(f.gets, in.Names)
	out := &ssm.GetParametersOutput{}
	for _, name := range in.Names {
		if v, ok := f.params[name]; ok {
			out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: &name, Value: &v})
		} else {
			out.InvalidParameters = append(out.InvalidParameters, name)
		}
	}
	return out, nil
}

// GetParametersByPath pages through the parameters under in.Path in name
// order, as SSM does, MaxResults at a time; the token is the next index.
func (f *fakeSSM) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	var names []string
	for name := range f.params {
		rest, ok := strings.CutPrefix(name, *in.Path+"/")
		if ok && (aws.ToBool(in.Recursive) || !strings.Contains(rest, "/")) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+int(aws.ToInt32(in.MaxResults)), len(names))
	out := &ssm.GetParametersByPathOutput{}
	for _, name := range names[start:end] {
		typ := f.types[name]
		if typ == "" {
			typ = ssmtypes.ParameterTypeString
		}
		out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(name), Value: aws.String(f.params[name]), Type: typ})
	}
	if end < len(names) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	f.pages = append(f.pages, end-start)
	return out, nil
}

func (f *fakeSSM) PutParameter(_ context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	if in.Overwrite == nil || !*in.Overwrite {
		return nil, fmt.Errorf("put %s without Overwrite", *in.Name)
	}
	f.puts = append(f.puts, *in.Name)
	f.params[*in.Name] = *in.Value
	return &ssm.PutParameterOutput{}, nil
}

func TestPublishBatchesAndSkipsUnchanged(t *testing.T) {
	t.Parallel()
	f := &fakeSSM{params: map[string]string{
		"/search/images/prod/img-00": "repo@sha256:0",
		"/search/images/prod/img-01": "repo@sha256:old",
	}}
	images := map[string]string{}
	for i := range 23 {
		images[fmt.Sprintf("img-%02d", i)] = fmt.Sprintf("repo@sha256:%d", i)
	}
	results, err := Publish(context.Background(), f, "search", "prod", images)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var sizes []int
	for _, names := range f.gets {
		sizes = append(sizes, len(names))
	}
	if got, want := fmt.Sprint(sizes), "[10 10 3]"; got != want {
		t.Errorf("GetParameters batch sizes: got %s, want %s", got, want)
	}
	if got, want := len(f.puts), 22; got != want {
		t.Errorf("PutParameter calls: got %d, want %d (img-00 is unchanged)", got, want)
	}
	if results[0].Name != "/search/images/prod/img-00" || results[0].Changed || !results[1].Changed {
		t.Errorf("results: got %+v, %+v; want img-00 unchanged, img-01 changed", results[0], results[1])
	}
}

func TestPublishRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, env, image, uri, want string
	}{
		{"not pinned", "prod", "api", "repo:latest", "not pinned by digest"},
		{"slash in image", "prod", "a/b", "repo@sha256:1", "image"},
		{"empty environment", "", "api", "repo@sha256:1", "environment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSSM{params: map[string]string{}}
			_, err := Publish(context.Background(), f, "search", tc.env, map[string]string{tc.image: tc.uri})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error mentioning %q", err, tc.want)
			}
			if len(f.gets)+len(f.puts) != 0 {
				t.Errorf("got %d calls, want none before the input is checked", len(f.gets)+len(f.puts))
			}
		})
	}
}
