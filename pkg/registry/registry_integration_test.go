//go:build integration

package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/pkg/registry"
)

func newRepo(ctx context.Context, t *testing.T, client *ecr.Client, prefix string, mutability ecrtypes.ImageTagMutability) string {
	t.Helper()
	name := awstest.Name(t, prefix)
	_, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name), ImageTagMutability: mutability})
	if err != nil {
		t.Fatalf("create repository %s: %v", name, err)
	}
	return name
}

// tagOf reads where tag points in repo, straight from ECR.
func tagOf(ctx context.Context, t *testing.T, client *ecr.Client, repo, tag string) ecrtypes.Image {
	t.Helper()
	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName: aws.String(repo),
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	if err != nil || len(out.Images) != 1 {
		t.Fatalf("read %s:%s: got %v images, error %v; want 1 image", repo, tag, out, err)
	}
	return out.Images[0]
}

func TestResolveAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecr.NewFromConfig(awstest.Config(t))
	reg := registry.New(client)

	api := newRepo(ctx, t, client, "buoy/api", ecrtypes.ImageTagMutabilityMutable)
	old := awstest.PushImage(ctx, t, client, api, awstest.DockerManifest(t), "ref.old", "env.stage")
	apiManifest := awstest.DockerManifest(t)
	apiDigest := awstest.PushImage(ctx, t, client, api, apiManifest, "ref.new", "latest")

	web := newRepo(ctx, t, client, "buoy/web", ecrtypes.ImageTagMutabilityMutable)
	index := awstest.OCIIndex(t)
	webDigest := awstest.PushManifest(ctx, t, client, web, index, awstest.MediaTypeOCIIndex, "latest")

	got, err := reg.Resolve(ctx, []registry.Query{
		{Repository: api, Tag: "latest"}, {Repository: api, Tag: "env.stage"},
		{Repository: web, Tag: "latest"}, {Repository: web, Tag: "env.stage"},
		{Repository: api, Digest: old},
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("Resolve: got %d results, want 5", len(got))
	}
	tests := []struct {
		name                     string
		img                      *registry.Image
		digest, mediaType, manif string
	}{
		{"docker manifest", got[0], apiDigest, awstest.MediaTypeDockerManifest, apiManifest},
		{"its floating tag", got[1], old, awstest.MediaTypeDockerManifest, ""},
		{"OCI index", got[2], webDigest, awstest.MediaTypeOCIIndex, index},
		{"by digest", got[4], old, awstest.MediaTypeDockerManifest, ""},
	}
	for _, tc := range tests {
		if tc.img == nil {
			t.Errorf("%s: got nil, want %s", tc.name, tc.digest)
			continue
		}
		if tc.img.Digest != tc.digest || tc.img.MediaType != tc.mediaType || (tc.manif != "" && tc.img.Manifest != tc.manif) {
			t.Errorf("%s: got digest %s, media type %s, manifest changed %v; want %s, %s, unchanged",
				tc.name, tc.img.Digest, tc.img.MediaType, tc.img.Manifest != tc.manif, tc.digest, tc.mediaType)
		}
	}
	if got[3] != nil {
		t.Errorf("a floating tag not there yet: got %+v, want nil", got[3])
	}

	// What is missing is answered nil: a tag, a repository.
	got, err = reg.Resolve(ctx, []registry.Query{
		{Repository: api, Tag: "ref.missing"},
		{Repository: web, Tag: "latest"},
		{Repository: "buoy/no-such-repo", Tag: "latest"},
	})
	if err != nil {
		t.Fatalf("Resolve with missing images: %v", err)
	}
	if got[0] != nil || got[1] == nil || got[1].Digest != webDigest || got[2] != nil {
		t.Errorf("Resolve with missing images: got %+v, %+v, %+v; want nil, %s, nil", got[0], got[1], got[2], webDigest)
	}
}

func TestPointTagAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecr.NewFromConfig(awstest.Config(t))
	reg := registry.New(client)

	api := newRepo(ctx, t, client, "buoy/api", ecrtypes.ImageTagMutabilityMutable)
	old := awstest.PushImage(ctx, t, client, api, awstest.DockerManifest(t), "ref.old", "env.prod")
	next := awstest.PushImage(ctx, t, client, api, awstest.DockerManifest(t), "ref.new")
	multi := newRepo(ctx, t, client, "buoy/multi", ecrtypes.ImageTagMutabilityMutable)
	index := awstest.OCIIndex(t)
	indexDigest := awstest.PushManifest(ctx, t, client, multi, index, awstest.MediaTypeOCIIndex, "ref.new")
	oci := awstest.OCIManifest(t)
	ociDigest := awstest.PushManifest(ctx, t, client, multi, oci, awstest.MediaTypeOCIManifest, "ref.oci")

	tests := []struct {
		name      string
		in        registry.PointTagInput
		wantFrom  string
		wantMoved bool
		mediaType string
	}{
		{"move an existing floating tag", registry.PointTagInput{Repository: api, Tag: "env.prod", Digest: next}, old, true, awstest.MediaTypeDockerManifest},
		{"already points there", registry.PointTagInput{Repository: api, Tag: "env.prod", Digest: next}, next, false, awstest.MediaTypeDockerManifest},
		{"roll back", registry.PointTagInput{Repository: api, Tag: "env.prod", Digest: old}, next, true, awstest.MediaTypeDockerManifest},
		{"a new tag on an OCI index", registry.PointTagInput{Repository: multi, Tag: "env.prod", Digest: indexDigest}, "", true, awstest.MediaTypeOCIIndex},
		{"an OCI manifest with the manifest given", registry.PointTagInput{Repository: multi, Tag: "env.stage", Digest: ociDigest, Manifest: oci, MediaType: awstest.MediaTypeOCIManifest}, "", true, awstest.MediaTypeOCIManifest},
	}
	for _, tc := range tests { // in order: each step builds on the last
		move, err := reg.PointTag(ctx, tc.in)
		if err != nil {
			t.Fatalf("%s: PointTag: %v", tc.name, err)
		}
		if move.From != tc.wantFrom || move.To != tc.in.Digest || move.Moved != tc.wantMoved {
			t.Errorf("%s: got from %q to %q moved %v, want from %q to %q moved %v",
				tc.name, move.From, move.To, move.Moved, tc.wantFrom, tc.in.Digest, tc.wantMoved)
		}
		img := tagOf(ctx, t, client, tc.in.Repository, tc.in.Tag)
		if got := aws.ToString(img.ImageId.ImageDigest); got != tc.in.Digest {
			t.Errorf("%s: %s now points at %s, want %s", tc.name, tc.in.Tag, got, tc.in.Digest)
		}
		if got := aws.ToString(img.ImageManifestMediaType); got != tc.mediaType {
			t.Errorf("%s: media type under %s: got %s, want %s", tc.name, tc.in.Tag, got, tc.mediaType)
		}
	}
	if got := aws.ToString(tagOf(ctx, t, client, multi, "env.prod").ImageManifest); got != index {
		t.Errorf("the OCI index changed when retagged:\ngot  %s\nwant %s", got, index)
	}

	if _, err := reg.PointTag(ctx, registry.PointTagInput{Repository: api, Tag: "env.prod", Digest: awstest.Digest([]byte("nothing"))}); !errors.Is(err, registry.ErrImageNotFound) {
		t.Errorf("PointTag to an unknown digest: got %v, want ErrImageNotFound", err)
	}
	if _, err := reg.PointTag(ctx, registry.PointTagInput{Repository: "buoy/no-such-repo", Tag: "env.prod", Digest: next}); !errors.Is(err, registry.ErrRepositoryNotFound) {
		t.Errorf("PointTag in a missing repository: got %v, want ErrRepositoryNotFound", err)
	}
}

func TestPointTagImmutableAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecr.NewFromConfig(awstest.Config(t))
	reg := registry.New(client)

	repo := newRepo(ctx, t, client, "buoy/immutable", ecrtypes.ImageTagMutabilityImmutable)
	old := awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "env.prod")
	next := awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "ref.new")

	_, err := reg.PointTag(ctx, registry.PointTagInput{Repository: repo, Tag: "env.prod", Digest: next})
	var immutable *registry.ImmutableTagError
	if !errors.As(err, &immutable) || !errors.Is(err, registry.ErrImmutableTag) {
		t.Fatalf("PointTag in an immutable repository: got %v, want an *ImmutableTagError", err)
	}
	if immutable.Repository != repo || immutable.Tag != "env.prod" {
		t.Errorf("ImmutableTagError: got %s:%s, want %s:env.prod", immutable.Repository, immutable.Tag, repo)
	}
	if got := aws.ToString(tagOf(ctx, t, client, repo, "env.prod").ImageId.ImageDigest); got != old {
		t.Errorf("env.prod after a refused move: got %s, want %s", got, old)
	}

	// The audit tag is new, so it goes in even where tags are immutable.
	audit := registry.AuditTag("env.prod", time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))
	move, err := reg.PointTag(ctx, registry.PointTagInput{Repository: repo, Tag: audit, Digest: next})
	if err != nil {
		t.Fatalf("PointTag %s: %v", audit, err)
	}
	if !move.Moved || move.From != "" {
		t.Errorf("audit tag: got moved %v from %q, want moved from nothing", move.Moved, move.From)
	}
}

// TestPushedAtAgainstMoto: the push times PushedAt reads are those ECR's
// DescribeImages tells, also when a digest asked for does not exist.
func TestPushedAtAgainstMoto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := ecr.NewFromConfig(awstest.Config(t))
	repo := newRepo(ctx, t, client, "buoy/pushed", ecrtypes.ImageTagMutabilityMutable)
	a := awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "a")
	b := awstest.PushImage(ctx, t, client, repo, awstest.DockerManifest(t), "b")
	out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{}
	for _, d := range out.ImageDetails {
		want[*d.ImageDigest] = d.ImagePushedAt.UTC()
	}
	if len(want) != 2 || want[a].IsZero() || want[b].IsZero() {
		t.Fatalf("moto describes %v, want push times of %s and %s", want, a, b)
	}
	missing := "sha256:" + strings.Repeat("0", 64)
	got, err := registry.New(client).PushedAt(ctx, "", repo, []string{a, missing, b})
	if err != nil {
		t.Fatalf("PushedAt: %v", err)
	}
	if len(got) != 2 || !got[a].Equal(want[a]) || !got[b].Equal(want[b]) {
		t.Errorf("PushedAt: got %v, want %v", got, want)
	}
}
