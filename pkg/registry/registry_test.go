package registry

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// fakeECR is a registry of manifests by digest and tags by repository.
// Like ECR at its least helpful, BatchGetImage answers each image once,
// under the first tag asked for.
type fakeECR struct {
	mu        sync.Mutex
	tags      map[string]map[string]string // repository → tag → digest
	manifests map[string]string            // digest → manifest
	putErr    error                        // returned by PutImage when set
	gets      []*ecr.BatchGetImageInput
	puts      []*ecr.PutImageInput
}

func newFake() *fakeECR {
	return &fakeECR{tags: map[string]map[string]string{}, manifests: map[string]string{}}
}

func (f *fakeECR) push(repo, digest string, tags ...string) {
	if f.tags[repo] == nil {
		f.tags[repo] = map[string]string{}
	}
	f.manifests[digest] = `{"manifest":"` + digest + `"}`
	for _, t := range tags {
		f.tags[repo][t] = digest
	}
}

func (f *fakeECR) BatchGetImage(_ context.Context, in *ecr.BatchGetImageInput, _ ...func(*ecr.Options)) (*ecr.BatchGetImageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, in)
	repo, ok := f.tags[*in.RepositoryName]
	if !ok {
		return nil, &ecrtypes.RepositoryNotFoundException{Message: in.RepositoryName}
	}
	out := &ecr.BatchGetImageOutput{}
	seen := map[string]bool{}
	for _, id := range in.ImageIds {
		digest := str(id.ImageDigest)
		if id.ImageTag != nil {
			digest = repo[*id.ImageTag]
		}
		if _, ok := f.manifests[digest]; !ok || digest == "" {
			out.Failures = append(out.Failures, ecrtypes.ImageFailure{ImageId: &id, FailureCode: ecrtypes.ImageFailureCodeImageNotFound})
			continue
		}
		if seen[digest] {
			continue
		}
		seen[digest] = true
		d, m, mt := digest, f.manifests[digest], MediaTypeOCIIndex
		out.Images = append(out.Images, ecrtypes.Image{
			ImageId:                &ecrtypes.ImageIdentifier{ImageTag: id.ImageTag, ImageDigest: &d},
			ImageManifest:          &m,
			ImageManifestMediaType: &mt,
		})
	}
	return out, nil
}

func (f *fakeECR) PutImage(_ context.Context, in *ecr.PutImageInput, _ ...func(*ecr.Options)) (*ecr.PutImageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts = append(f.puts, in)
	if f.putErr != nil {
		return nil, f.putErr
	}
	f.tags[*in.RepositoryName][*in.ImageTag] = *in.ImageDigest
	return &ecr.PutImageOutput{Image: &ecrtypes.Image{ImageId: &ecrtypes.ImageIdentifier{ImageDigest: in.ImageDigest}}}, nil
}

func (f *fakeECR) DescribeRepositories(_ context.Context, in *ecr.DescribeRepositoriesInput, _ ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error) {
	return &ecr.DescribeRepositoriesOutput{Repositories: []ecrtypes.Repository{{
		RepositoryName: &in.RepositoryNames[0], ImageTagMutability: ecrtypes.ImageTagMutabilityImmutableWithExclusion,
	}}}, nil
}

func digest(n int) string { return fmt.Sprintf("sha256:%064d", n) }

func TestResolveBatchesByRepository(t *testing.T) {
	t.Parallel()
	f := newFake()
	var lookups []Lookup
	for i := 0; i < 150; i++ {
		f.push("big", digest(i), fmt.Sprintf("ref.%d", i))
		lookups = append(lookups, Lookup{Repository: "big", Tag: fmt.Sprintf("ref.%d", i)})
	}
	f.push("small", digest(1000), "latest", "env.prod") // one image, two tags
	lookups = append(lookups, Lookup{Repository: "small", Tag: "latest", FloatingTag: "env.prod"})

	got, err := New(f).Resolve(context.Background(), lookups)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(got) != len(lookups) {
		t.Fatalf("Resolve: got %d results, want %d", len(got), len(lookups))
	}
	for i, res := range got[:150] {
		if res.Image.Digest != digest(i) || res.Image.Tag != lookups[i].Tag {
			t.Errorf("result %d: got %s under %s, want %s under %s", i, res.Image.Digest, res.Image.Tag, digest(i), lookups[i].Tag)
		}
	}
	last := got[150]
	if last.Image.Digest != digest(1000) || last.Floating == nil || last.Floating.Digest != digest(1000) || last.Floating.Tag != "env.prod" {
		t.Errorf("tags sharing an image: got %+v floating %+v, want both at %s", last.Image, last.Floating, digest(1000))
	}
	// big: 100 + 50 ids; small: one call for both tags, then one for the
	// tag ECR answered under the other name.
	var sizes []int
	for _, in := range f.gets {
		sizes = append(sizes, len(in.ImageIds))
		if !reflect.DeepEqual(in.AcceptedMediaTypes, acceptedMediaTypes) {
			t.Errorf("AcceptedMediaTypes: got %v, want %v", in.AcceptedMediaTypes, acceptedMediaTypes)
		}
	}
	if want := []int{100, 50, 2, 1}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("BatchGetImage calls by number of ids: got %v, want %v", sizes, want)
	}
}

func TestResolveReportsEveryMissingImage(t *testing.T) {
	t.Parallel()
	f := newFake()
	f.push("api", digest(1), "latest")
	f.push("web", digest(2), "ref.1")
	_, err := New(f).Resolve(context.Background(), []Lookup{
		{Repository: "api", Tag: "latest", FloatingTag: "env.prod"}, // a missing floating tag is fine
		{Repository: "web", Tag: "latest"},
		{RegistryID: "210987654321", Repository: "gone", Tag: "latest"},
	})
	var missing *MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("Resolve: got %v, want a *MissingError", err)
	}
	want := []Missing{
		{Repository: "web", Tag: "latest", Reason: "ImageNotFound"},
		{RegistryID: "210987654321", Repository: "gone", Tag: "latest", Reason: "repository not found"},
	}
	if !reflect.DeepEqual(missing.Missing, want) {
		t.Errorf("missing: got %+v, want %+v", missing.Missing, want)
	}
	for _, s := range []string{"web:latest", "210987654321/gone:latest", "push them first"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not mention %q", err, s)
		}
	}
}

func TestPointTag(t *testing.T) {
	t.Parallel()
	apiErr := errors.New("throttled")
	tests := []struct {
		name      string
		putErr    error
		tag       string
		wantMoved bool
		wantFrom  string
		wantErr   error
		wantPuts  int
	}{
		{name: "moves the tag", tag: "env.prod", wantMoved: true, wantFrom: digest(1), wantPuts: 1},
		{name: "already there", tag: "ref.2", wantFrom: digest(2), wantPuts: 0},
		{name: "a new tag", tag: "env.new", wantMoved: true, wantPuts: 1},
		{name: "immutable on AWS", tag: "env.prod", putErr: &ecrtypes.ImageTagAlreadyExistsException{}, wantErr: ErrImmutableTag, wantPuts: 1},
		{name: "immutable as moto says it", tag: "env.prod", putErr: &ecrtypes.ImageAlreadyExistsException{}, wantErr: ErrImmutableTag, wantPuts: 1},
		{name: "other errors are wrapped", tag: "env.prod", putErr: apiErr, wantErr: apiErr, wantPuts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.push("api", digest(1), "env.prod")
			f.push("api", digest(2), "ref.2")
			f.putErr = tc.putErr
			move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: tc.tag, Digest: digest(2)})
			if len(f.puts) != tc.wantPuts {
				t.Errorf("PutImage calls: got %d, want %d", len(f.puts), tc.wantPuts)
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got error %v, want %v", err, tc.wantErr)
				}
				if errors.Is(err, ErrImmutableTag) && !strings.Contains(err.Error(), "task-definition strategy") {
					t.Errorf("immutable error %q does not name the task-definition strategy", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PointTag: %v", err)
			}
			want := &Move{Repository: "api", Tag: tc.tag, From: tc.wantFrom, To: digest(2), Moved: tc.wantMoved}
			if !reflect.DeepEqual(move, want) {
				t.Errorf("got %+v, want %+v", move, want)
			}
			if tc.wantPuts > 0 {
				put := f.puts[0]
				if str(put.ImageManifest) != f.manifests[digest(2)] || str(put.ImageDigest) != digest(2) || str(put.ImageManifestMediaType) != MediaTypeOCIIndex {
					t.Errorf("PutImage: got manifest %s digest %s media type %s; want the stored bytes, digest and media type",
						str(put.ImageManifest), str(put.ImageDigest), str(put.ImageManifestMediaType))
				}
			}
		})
	}
}

// TestPointTagRace: another run moved the tag to our digest between our
// read and our put; ECR refuses the put, and that is success.
func TestPointTagRace(t *testing.T) {
	t.Parallel()
	f := &racingECR{fakeECR: newFake()}
	f.push("api", digest(1), "env.prod")
	f.push("api", digest(2), "ref.2")
	move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2)})
	if err != nil {
		t.Fatalf("PointTag: %v", err)
	}
	if move.Moved || move.From != digest(1) {
		t.Errorf("got moved %v from %s, want unchanged (moved by the other run) from %s", move.Moved, move.From, digest(1))
	}
}

type racingECR struct{ *fakeECR }

func (r *racingECR) PutImage(_ context.Context, in *ecr.PutImageInput, _ ...func(*ecr.Options)) (*ecr.PutImageOutput, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tags[*in.RepositoryName][*in.ImageTag] = *in.ImageDigest
	return nil, &ecrtypes.ImageAlreadyExistsException{}
}

func TestAuditTag(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 22, 11, 30, 0, 0, time.FixedZone("CET", 3600))
	if got, want := AuditTag("env.prod", at), "env.prod.20261122T103000Z"; got != want {
		t.Errorf("AuditTag: got %q, want %q", got, want)
	}
}

// TestPointTagFromKnown: a caller that has just read where the tag
// points and holds the manifest makes one PutImage and no read.
func TestPointTagFromKnown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		from      string
		wantMoved bool
		wantPuts  int
	}{
		{name: "moves the tag", from: digest(1), wantMoved: true, wantPuts: 1},
		{name: "already there", from: digest(2)},
		{name: "a new tag", from: "", wantMoved: true, wantPuts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			f.push("api", digest(1), "env.prod")
			f.push("api", digest(2), "ref.2")
			move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2),
				Manifest: f.manifests[digest(2)], MediaType: MediaTypeOCIIndex, FromKnown: true, From: tc.from})
			if err != nil {
				t.Fatalf("PointTag: %v", err)
			}
			if len(f.gets) != 0 || len(f.puts) != tc.wantPuts {
				t.Errorf("calls: got %d BatchGetImage and %d PutImage, want 0 and %d", len(f.gets), len(f.puts), tc.wantPuts)
			}
			want := &Move{Repository: "api", Tag: "env.prod", From: tc.from, To: digest(2), Moved: tc.wantMoved}
			if !reflect.DeepEqual(move, want) {
				t.Errorf("got %+v, want %+v", move, want)
			}
		})
	}
	if _, err := New(newFake()).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2), FromKnown: true}); err == nil {
		t.Error("FromKnown without a manifest: got no error, want one")
	}
}
