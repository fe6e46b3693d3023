package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// MediaTypeDockerManifest is the media type of DockerManifest's output.
const MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"

// PushImage stores manifest in repository under each of tags, as `docker
// push` would, and returns its digest (the sha256 of the manifest bytes, as
// on AWS). The repository must exist.
func PushImage(ctx context.Context, t testing.TB, client *ecr.Client, repository, manifest string, tags ...string) string {
	t.Helper()
	return PushManifest(ctx, t, client, repository, manifest, MediaTypeDockerManifest, tags...)
}
