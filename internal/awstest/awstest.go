// Package awstest gives integration tests aws-sdk-go-v2 configuration aimed
// at the AWS emulator (moto in server mode) that scripts/with-moto starts,
// plus small helpers to make realistic fixtures there.
//
// Integration tests carry the build tag "integration" and are always run by
// `make test`. When the emulator is missing they fail; they never skip.
package awstest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// EndpointEnv names the environment variable that holds the emulator's URL.
const EndpointEnv = "BUOY_TEST_AWS_ENDPOINT"

// Region is the region every integration test uses.
const Region = "eu-west-1"

// AccountID is the account moto answers for by default.
const AccountID = "123456789012"

// Endpoint returns the emulator's URL. It fails the test, saying what to do,
// when the variable is unset or nothing listens there.
func Endpoint(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv(EndpointEnv)
	if endpoint == "" {
		t.Fatalf("%s is not set: integration tests need moto. Run `make test`, or "+
			"`scripts/with-moto go test -tags integration ./pkg/...` (see CONTRIBUTING.md)", EndpointEnv)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		t.Fatalf("%s=%q is not a URL like http://127.0.0.1:5000", EndpointEnv, endpoint)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		t.Fatalf("moto does not answer at %s=%s: %v. Start it with scripts/with-moto, or fix the port", EndpointEnv, endpoint, err)
	}
	_ = conn.Close()
	return endpoint
}

// Config returns an aws.Config for the emulator: static test credentials,
// Region, the endpoint override, and no retry of what the emulator
// answers, so that an operation it lacks (a 500) fails at once instead of
// being retried. Only a connection the emulator reset is tried again, up to
// 3 times: moto's server resets one now and then when the machine is
// loaded, and a test's setup failing for that proves nothing.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(Endpoint(t)),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 200 * time.Millisecond
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
			})
		},
	}
}

// Name returns a name unique to this test run, safe for ECR repositories,
// ECS clusters and services and DynamoDB tables, so tests can share one
// emulator and run in parallel.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
}

// Digest returns the sha256 digest of b in the form registries use.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DockerManifest returns a Docker image manifest (schema 2) with random
// layer digests, so that each call describes a different image.
func DockerManifest(t testing.TB) string {
	t.Helper()
	layer := func() string {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		return Digest(b)
	}
	return fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457, "digest": %q},
  "layers": [
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 3370706, "digest": %q},
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1024, "digest": %q}
  ]
}`, layer(), layer(), layer())
}
