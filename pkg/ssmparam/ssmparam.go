// Package ssmparam reads and writes container image URIs in AWS SSM
// Parameter Store, in the layout of Wellcome Collection's release tooling
// of 2019 (RFC 013 of wellcomecollection/platform, weco-deploy), which
// Terraform stacks read with the aws_ssm_parameter data source. Each
// image has one String parameter per label or environment:
//
//	/{project}/images/{label}/{image} = image URI
//
// CI writes the label latest (a URI with a tag); a deployment writes the
// environment's id (the URI pinned by digest, repository@sha256:...).
// Read returns the images under a label; Publish writes an environment's,
// only those whose value changes, so that each parameter's version
// history is the environment's deployment history.
package ssmparam

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMAPI is the part of the SSM client this package uses.
type SSMAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	GetParametersByPath(ctx context.Context, in *ssm.GetParametersByPathInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// NewFromConfig returns an SSM client made from cfg.
func NewFromConfig(cfg aws.Config) SSMAPI { return ssm.NewFromConfig(cfg) }

// maxNames is how many names one GetParameters call takes.
const maxNames = 10

// Path returns the path under which a label (or an environment) holds
// one parameter per image: /{project}/images/{label}.
func Path(project, label string) string {
	return "/" + project + "/images/" + label
}

// Name returns the parameter name for an image of a project's label or
// environment: /{project}/images/{label}/{image}.
func Name(project, label, image string) string {
	return Path(project, label) + "/" + image
}

// ImageURI returns the value published for an image: its repository URI
// pinned by digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:...
func ImageURI(repositoryURI, digest string) string {
	return repositoryURI + "@" + digest
}

// Result says what Publish did (or, from Plan, would do) with one
// parameter.
type Result struct {
	Image string
	Name  string
	Value string
	// Previous is the value the parameter held before; "" when it did not
	// exist.
	Previous string
	// Changed is false when the parameter already held Value (and was
	// left alone).
	Changed bool
}

// Publish writes /{project}/images/{environment}/{image} for every image
// (image id → URI with digest, see ImageURI), overwriting parameters whose
// value differs and leaving the others alone: Plan, then Apply. Results
// are sorted by name. On a failed write it returns the results written
// before it.
func Publish(ctx context.Context, client SSMAPI, project, environment string, images map[string]string) ([]Result, error) {
	results, err := Plan(ctx, client, project, environment, images)
	if err != nil {
		return nil, err
	}
	return Apply(ctx, client, environment, results)
}

// Plan reads the current value of every image's parameter, ten names per
// call, and returns what Publish would do, sorted by name: Changed says
// which parameters hold another value (or none). It writes nothing.
func Plan(ctx context.Context, client SSMAPI, project, environment string, images map[string]string) ([]Result, error) {
	results := make([]Result, 0, len(images))
	for image, uri := range images {
		if err := check(project, environment, image, uri); err != nil {
			return nil, err
		}
		results = append(results, Result{Image: image, Name: Name(project, environment, image), Value: uri})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.Name
	}
	current, err := values(ctx, client, names)
	if err != nil {
		return nil, err
	}
	for i := range results {
		r := &results[i]
		r.Previous = current[r.Name]
		r.Changed = r.Previous != r.Value
	}
	return results, nil
}

// values returns the value of each named parameter that exists, ten
// names per GetParameters call.
func values(ctx context.Context, client SSMAPI, names []string) (map[string]string, error) {
	current := make(map[string]string, len(names))
	for start := 0; start < len(names); start += maxNames {
		batch := names[start:min(start+maxNames, len(names))]
		out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		if err != nil {
			return nil, fmt.Errorf("read SSM parameters %s: %w", strings.Join(batch, ", "), err)
		}
		for _, p := range out.Parameters {
			if p.Name != nil && p.Value != nil {
				current[*p.Name] = *p.Value
			}
		}
	}
	return current, nil
}

// Apply writes, in order, the parameters of the results that changed (a
// String parameter, overwritten). It returns the results it went through:
// all of them, or on a failed write those before it.
func Apply(ctx context.Context, client SSMAPI, environment string, results []Result) ([]Result, error) {
	for i := range results {
		r := &results[i]
		if !r.Changed {
			continue
		}
		_, err := client.PutParameter(ctx, &ssm.PutParameterInput{
			Name:        &r.Name,
			Value:       &r.Value,
			Type:        ssmtypes.ParameterTypeString,
			Overwrite:   ptr(true),
			Description: ptr("Image deployed to " + environment + " by buoy"),
		})
		if err != nil {
			return results[:i], fmt.Errorf("publish %s = %s (does the role allow ssm:PutParameter on it?): %w", r.Name, r.Value, err)
		}
	}
	return results, nil
}

// check rejects names SSM would refuse, before any call.
func check(project, environment, image, uri string) error {
	for what, v := range map[string]string{"project": project, "environment": environment, "image": image} {
		if !validSegment(v) {
			return fmt.Errorf("publish %s: %s %q must be letters, digits, '_', '.' or '-'", Name(project, environment, image), what, v)
		}
	}
	if !strings.Contains(uri, "@sha256:") {
		return fmt.Errorf("publish %s: value %q is not pinned by digest (want repository@sha256:...)", Name(project, environment, image), uri)
	}
	return nil
}

// validSegment reports whether v may be one segment of a parameter name
// as buoy writes them.
func validSegment(v string) bool {
	return v != "" && strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

func ptr[T any](v T) *T { return &v }
