//go:build integration

package awstest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
)

// TestHarnessECRRoundTrip proves the emulator harness: an image pushed under
// ref.<sha> and latest reads back by either tag with the digest it was
// pushed with and the exact manifest bytes.
func TestHarnessECRRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecr.NewFromConfig(awstest.Config(t))
	repo := awstest.Name(t, "harness/app")
	if _, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatalf("create repository: %v", err)
	}

	manifest := awstest.DockerManifest(t)
	sha := "ref.0123456789abcdef0123456789abcdef01234567"
	want := awstest.PushImage(ctx, t, client, repo, manifest, sha, "latest")

	for _, tag := range []string{sha, "latest"} {
		out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
			RepositoryName: aws.String(repo),
			ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
		})
		if err != nil {
			t.Fatalf("BatchGetImage %s: %v", tag, err)
		}
		if len(out.Failures) > 0 || len(out.Images) != 1 {
			t.Fatalf("BatchGetImage %s: got %d images, failures %+v; want 1 image", tag, len(out.Images), out.Failures)
		}
		img := out.Images[0]
		if got := aws.ToString(img.ImageId.ImageDigest); got != want {
			t.Errorf("digest of %s: got %s, want %s", tag, got, want)
		}
		if got := aws.ToString(img.ImageManifest); got != manifest {
			t.Errorf("manifest of %s changed on the way back:\ngot  %s\nwant %s", tag, got, manifest)
		}
		if got := aws.ToString(img.ImageManifestMediaType); got != awstest.MediaTypeDockerManifest {
			t.Errorf("media type of %s: got %q, want %q", tag, got, awstest.MediaTypeDockerManifest)
		}
	}
}
