package awstest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// Media types of OCIManifest's and OCIIndex's output.
const (
	MediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex    = "application/vnd.oci.image.index.v1+json"
)

// OCIManifest returns an OCI image manifest with random config and layer
// digests, so that each call describes a different image.
func OCIManifest(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":1234,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":2811478,"digest":%q}]}`,
		MediaTypeOCIManifest, randomDigest(t), randomDigest(t))
}

// OCIIndex returns a multi-arch OCI image index (linux/amd64 and
// linux/arm64) whose entries point at random manifest digests.
func OCIIndex(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": %q,
  "manifests": [
    {"mediaType": %q, "size": 1024, "digest": %q, "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": %q, "size": 1024, "digest": %q, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
  ]
}`, MediaTypeOCIIndex, MediaTypeOCIManifest, randomDigest(t), MediaTypeOCIManifest, randomDigest(t))
}

// PushManifest stores manifest of the given media type in repository
// under each of tags and returns its digest (the sha256 of the manifest
// bytes). The repository must exist.
func PushManifest(ctx context.Context, t testing.TB, client *ecr.Client, repository, manifest, mediaType string, tags ...string) string {
	t.Helper()
	digest := Digest([]byte(manifest))
	for _, tag := range tags {
		_, err := client.PutImage(ctx, &ecr.PutImageInput{
			RepositoryName:         aws.String(repository),
			ImageManifest:          aws.String(manifest),
			ImageManifestMediaType: aws.String(mediaType),
			ImageDigest:            aws.String(digest),
			ImageTag:               aws.String(tag),
		})
		if err != nil && !AlreadyThere(err) {
			t.Fatalf("push %s:%s: %v", repository, tag, err)
		}
	}
	return digest
}

func randomDigest(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return Digest(b)
}

// AlreadyThere reports whether err is ECR's answer to a PutImage of a
// digest and tag it already holds. The harness retries a connection moto
// reset; when the first attempt had landed, the retry gets this answer,
// and the image is where the caller wanted it.
func AlreadyThere(err error) bool {
	var exists *ecrtypes.ImageAlreadyExistsException
	return errors.As(err, &exists)
}
