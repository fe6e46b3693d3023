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

// maxResultsByPath is the most parameters one GetParametersByPath call
// returns.
const maxResultsByPath = 10

// Parameter is one image parameter read from a path.
type Parameter struct {
	// Name is the parameter's full name, e.g.
	// /storage/images/latest/bag_register.
	Name string
	// Image is the last segment of Name: the image (the 2019 tools called
	// it the service) whose URI the parameter holds.
	Image string
	// Value is the image URI, as written.
	Value string
}

// Read returns the image parameters under path (e.g.
// /storage/images/latest), sorted by name: every parameter below it,
// read recursively, page after page, each keyed by the last segment of
// its name, as weco-deploy read them. Nothing under path is an empty
// list, not an error. A parameter that is not a String (the type the
// release tools wrote), or two whose names end in the same image, are an
// error naming them.
func Read(ctx context.Context, client SSMAPI, path string) ([]Parameter, error) {
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return nil, fmt.Errorf("read SSM parameters under %q: the path must start with '/' and not end with one", path)
	}
	in := &ssm.GetParametersByPathInput{
		Path:           aws.String(path),
		Recursive:      aws.Bool(true),
		WithDecryption: aws.Bool(false),
		MaxResults:     aws.Int32(maxResultsByPath),
	}
	var out []Parameter
	seen := map[string]string{} // image -> name
	var problems []string
	for {
		page, err := client.GetParametersByPath(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read SSM parameters under %s (does the role allow ssm:GetParametersByPath on it?): %w", path, err)
		}
		for _, p := range page.Parameters {
			name := aws.ToString(p.Name)
			image := name[strings.LastIndexByte(name, '/')+1:]
			switch {
			case p.Type != ssmtypes.ParameterTypeString:
				problems = append(problems, fmt.Sprintf("%s is a %s parameter: write the image URI as a String", name, p.Type))
				continue
			case seen[image] != "":
				problems = append(problems, fmt.Sprintf("%s and %s both name image %s: keep one", seen[image], name, image))
				continue
			}
			seen[image] = name
			out = append(out, Parameter{Name: name, Image: image, Value: aws.ToString(p.Value)})
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("read SSM parameters under %s: %s", path, strings.Join(problems, "; "))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
