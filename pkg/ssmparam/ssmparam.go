// Package ssmparam publishes the image each environment runs to AWS SSM
// Parameter Store, for stacks that read their images from there (for
// example Terraform's aws_ssm_parameter data source). Each image gets one
// String parameter
//
//	/{project}/images/{environment}/{image} = repository@sha256:...
//
// written only when its value changes, so the parameter's version history
// is the environment's deployment history.
package ssmparam

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSMAPI is the part of the SSM client this package uses.
type SSMAPI interface {
	GetParameters(ctx context.Context, in *ssm.GetParametersInput, optFns ...func(*ssm.Options)) (*ssm.GetParametersOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// maxNames is how many names one GetParameters call takes.
const maxNames = 10

// Name returns the parameter name for an image of a project's environment.
func Name(project, environment, image string) string {
	return "/" + project + "/images/" + environment + "/" + image
}

// ImageURI returns the value published for an image: its repository URI
// pinned by digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:...
func ImageURI(repositoryURI, digest string) string {
	return repositoryURI + "@" + digest
}

// Result says what Publish did with one parameter.
type Result struct {
	Image   string
	Name    string
	Value   string
	Changed bool // false when the parameter already held Value
}

// Publish writes /{project}/images/{environment}/{image} for every image
// (image id → URI with digest, see ImageURI), overwriting parameters whose
// value differs and leaving the others alone. It reads the current values
// first, ten names per call. Results are sorted by name.
func Publish(ctx context.Context, client SSMAPI, project, environment string, images map[string]string) ([]Result, error) {
	results := make([]Result, 0, len(images))
	for image, uri := range images {
		if err := check(project, environment, image, uri); err != nil {
			return nil, err
		}
		results = append(results, Result{Image: image, Name: Name(project, environment, image), Value: uri})
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })

	current := make(map[string]string, len(results))
	for start := 0; start < len(results); start += maxNames {
		end := min(start+maxNames, len(results))
		names := make([]string, 0, end-start)
		for _, r := range results[start:end] {
			names = append(names, r.Name)
		}
		out, err := client.GetParameters(ctx, &ssm.GetParametersInput{Names: names})
		if err != nil {
			return nil, fmt.Errorf("read SSM parameters %s: %w", strings.Join(names, ", "), err)
		}
		for _, p := range out.Parameters {
			if p.Name != nil && p.Value != nil {
				current[*p.Name] = *p.Value
			}
		}
	}

	for i := range results {
		r := &results[i]
		if v, ok := current[r.Name]; ok && v == r.Value {
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
		r.Changed = true
	}
	return results, nil
}

// check rejects names SSM would refuse, before any call.
func check(project, environment, image, uri string) error {
	for what, v := range map[string]string{"project": project, "environment": environment, "image": image} {
		if v == "" || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
			return fmt.Errorf("publish %s: %s %q must be letters, digits, '_', '.' or '-'", Name(project, environment, image), what, v)
		}
	}
	if !strings.Contains(uri, "@sha256:") {
		return fmt.Errorf("publish %s: value %q is not pinned by digest (want repository@sha256:...)", Name(project, environment, image), uri)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
