//go:build integration

package ssmparam_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/ssmparam"
)

func TestPublishAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ssm.NewFromConfig(awstest.Config(t))
	project := awstest.Name(t, "search")
	images := map[string]string{}
	for i := range 12 { // two GetParameters batches
		images[fmt.Sprintf("image-%02d", i)] = ssmparam.ImageURI(
			"123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/image", awstest.Digest([]byte{byte(i)}))
	}
	first, err := ssmparam.Publish(ctx, client, project, "prod", images)
	if err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	for _, r := range first {
		if !r.Changed {
			t.Errorf("first Publish of %s: got unchanged, want changed", r.Name)
		}
	}

	images["image-03"] = ssmparam.ImageURI("123456789012.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/image", awstest.Digest([]byte("new")))
	second, err := ssmparam.Publish(ctx, client, project, "prod", images)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	for _, r := range second {
		want := r.Image == "image-03"
		if r.Changed != want {
			t.Errorf("second Publish of %s: got changed %v, want %v", r.Name, r.Changed, want)
		}
	}

	for _, tc := range []struct {
		image   string
		version int64
	}{{"image-03", 2}, {"image-04", 1}} {
		name := ssmparam.Name(project, "prod", tc.image)
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("GetParameter %s: %v", name, err)
		}
		if got := aws.ToString(out.Parameter.Value); got != images[tc.image] {
			t.Errorf("%s: got %q, want %q", name, got, images[tc.image])
		}
		if out.Parameter.Version != tc.version {
			t.Errorf("%s version: got %d, want %d (written only when changed)", name, out.Parameter.Version, tc.version)
		}
	}
}

// TestReadAgainstMoto writes 23 image parameters under a label as CI did
// (String, one per service) and reads them back: three pages of
// GetParametersByPath, each keyed by its last segment, and nothing from
// a sibling path.
func TestReadAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ssm.NewFromConfig(awstest.Config(t))
	project := awstest.Name(t, "storage")
	want := map[string]string{}
	put := func(name, value string) {
		t.Helper()
		if _, err := client.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value),
			Type: "String", Overwrite: aws.Bool(true)}); err != nil {
			t.Fatalf("PutParameter %s: %v", name, err)
		}
	}
	for i := range 23 {
		image := fmt.Sprintf("svc_%02d", i)
		want[image] = "760097843905.dkr.ecr.eu-west-1.amazonaws.com/uk.ac.wellcome/" + image + ":ref.abc"
		put(ssmparam.Name(project, "latest", image), want[image])
	}
	put(ssmparam.Name(project, "stage", "svc_00"), "not read: another environment")
	got, err := ssmparam.Read(ctx, client, ssmparam.Path(project, "latest"))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("Read: got %d parameters, want %d", len(got), len(want))
	}
	for _, p := range got {
		if want[p.Image] != p.Value || p.Name != ssmparam.Name(project, "latest", p.Image) {
			t.Errorf("Read: got %+v, want %s = %s", p, ssmparam.Name(project, "latest", p.Image), want[p.Image])
		}
	}
}
