package registry

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/buoy-deploy/buoy/pkg/registry/registrytest"
)

func digest(n int) string { return fmt.Sprintf("sha256:%064d", n) }

func TestResolveBatchesByRepository(t *testing.T) {
	t.Parallel()
	f := registrytest.New()
	var queries []Query
	for i := 0; i < 150; i++ {
		f.Push("big", digest(i), fmt.Sprintf("ref.%d", i))
		queries = append(queries, Query{Repository: "big", Tag: fmt.Sprintf("ref.%d", i)})
	}
	f.Push("small", digest(1000), "latest", "env.prod") // one image, two tags
	queries = append(queries, Query{Repository: "small", Tag: "latest"}, Query{Repository: "small", Tag: "env.prod"})

	got, err := New(f).Resolve(context.Background(), queries)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if len(got) != len(queries) {
		t.Fatalf("Resolve: got %d results, want %d", len(got), len(queries))
	}
	for i, img := range got[:150] {
		if img == nil || img.Digest != digest(i) || img.Tag != queries[i].Tag {
			t.Errorf("result %d: got %+v, want %s under %s", i, img, digest(i), queries[i].Tag)
		}
	}
	for i, tag := range []string{"latest", "env.prod"} {
		if img := got[150+i]; img == nil || img.Digest != digest(1000) || img.Tag != tag {
			t.Errorf("tags sharing an image: %s got %+v, want %s", tag, img, digest(1000))
		}
	}
	// big: 100 + 50 ids; small: one call for both tags, answered under
	// one of them: the other is on the one image returned.
	var sizes []int
	for _, in := range f.Gets() {
		sizes = append(sizes, len(in.ImageIds))
		if !reflect.DeepEqual(in.AcceptedMediaTypes, acceptedMediaTypes) {
			t.Errorf("AcceptedMediaTypes: got %v, want %v", in.AcceptedMediaTypes, acceptedMediaTypes)
		}
	}
	slices.Sort(sizes) // repositories are read concurrently
	if want := []int{2, 50, 100}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("BatchGetImage calls by number of ids: got %v, want %v", sizes, want)
	}
}

// TestResolveAsksAnUnansweredTagOnItsOwn: ECR answers an image once; a
// tag it left unanswered while it returned several images is asked for
// on its own, once, and nothing else is.
func TestResolveAsksAnUnansweredTagOnItsOwn(t *testing.T) {
	t.Parallel()
	f := registrytest.New()
	f.Push("api", digest(1), "latest", "env.stage")
	f.Push("api", digest(2), "env.prod")
	got, err := New(f).Resolve(context.Background(), []Query{
		{Repository: "api", Tag: "latest"}, {Repository: "api", Tag: "env.prod"}, {Repository: "api", Tag: "env.stage"},
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	for i, want := range []string{digest(1), digest(2), digest(1)} {
		if got[i] == nil || got[i].Digest != want {
			t.Errorf("answer %d: got %+v, want %s", i, got[i], want)
		}
	}
	if len(f.Gets()) != 2 || len(f.Gets()[1].ImageIds) != 1 || str(f.Gets()[1].ImageIds[0].ImageTag) != "env.stage" {
		t.Errorf("BatchGetImage calls: got %d, want 2, the second for env.stage alone", len(f.Gets()))
	}
}

// TestResolveByDigest: a query by digest finds the image, with its
// manifest, in the same call as the tags of its repository.
func TestResolveByDigest(t *testing.T) {
	t.Parallel()
	f := registrytest.New()
	f.Push("api", digest(1), "env.stage")
	f.Push("api", digest(2), "ref.2")
	got, err := New(f).Resolve(context.Background(), []Query{
		{Repository: "api", Digest: digest(2)}, {Repository: "api", Tag: "env.stage"},
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got[0] == nil || got[0].Digest != digest(2) || got[0].Tag != "" || got[0].Manifest != f.Manifest(digest(2)) {
		t.Errorf("by digest: got %+v, want %s with its manifest, under no tag", got[0], digest(2))
	}
	if got[1] == nil || got[1].Digest != digest(1) {
		t.Errorf("by tag: got %+v, want %s", got[1], digest(1))
	}
	if len(f.Gets()) != 1 {
		t.Errorf("BatchGetImage calls: got %d, want 1", len(f.Gets()))
	}
}

// TestResolveAnswersNilForWhatIsMissing: a tag or digest no image has, or
// a repository that does not exist, is answered nil, not an error.
func TestResolveAnswersNilForWhatIsMissing(t *testing.T) {
	t.Parallel()
	f := registrytest.New()
	f.Push("api", digest(1), "latest")
	got, err := New(f).Resolve(context.Background(), []Query{
		{Repository: "api", Tag: "latest"},
		{Repository: "api", Tag: "env.prod"},
		{Repository: "api", Digest: digest(9)},
		{RegistryID: "210987654321", Repository: "gone", Tag: "latest"},
	})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if got[0] == nil || got[0].Digest != digest(1) {
		t.Errorf("latest: got %+v, want %s", got[0], digest(1))
	}
	for i, what := range []string{"a missing tag", "a missing digest", "a missing repository"} {
		if got[1+i] != nil {
			t.Errorf("%s: got %+v, want nil", what, got[1+i])
		}
	}
}

// TestPointTagAfterResolveReadsNoManifest: a Registry that resolved an
// image puts it under a tag with the manifest it read: with where the
// tag points known, one PutImage and no read; without, one read of the
// tag alone.
func TestPointTagAfterResolveReadsNoManifest(t *testing.T) {
	t.Parallel()
	for _, known := range []bool{true, false} {
		f := registrytest.New()
		f.Push("api", digest(1), "env.prod")
		f.Push("api", digest(2), "ref.2")
		reg := New(f)
		if _, err := reg.Resolve(context.Background(), []Query{{Repository: "api", Digest: digest(2)}}); err != nil {
			t.Fatal(err)
		}
		before := len(f.Gets())
		move, err := reg.PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2),
			FromKnown: known, From: digest(1)})
		if err != nil || !move.Moved || move.From != digest(1) {
			t.Fatalf("where the tag points known %v: got %+v, %v; want moved from %s", known, move, err, digest(1))
		}
		reads, puts := f.Gets()[before:], f.Puts()
		wantReads := map[bool]int{true: 0, false: 1}[known]
		if len(reads) != wantReads || len(puts) != 1 || str(puts[0].ImageManifest) != f.Manifest(digest(2)) {
			t.Errorf("where the tag points known %v: got %d reads and %d puts; want %d and 1, of the manifest read", known, len(reads), len(puts), wantReads)
		}
		if !known && len(reads) == 1 && len(reads[0].ImageIds) != 1 {
			t.Errorf("the read asked for %d ids, want the tag alone", len(reads[0].ImageIds))
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
			f := registrytest.New()
			f.Push("api", digest(1), "env.prod")
			f.Push("api", digest(2), "ref.2")
			f.FailPuts(tc.putErr)
			move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: tc.tag, Digest: digest(2)})
			if len(f.Puts()) != tc.wantPuts {
				t.Errorf("PutImage calls: got %d, want %d", len(f.Puts()), tc.wantPuts)
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
				put := f.Puts()[0]
				if str(put.ImageManifest) != f.Manifest(digest(2)) || str(put.ImageDigest) != digest(2) || str(put.ImageManifestMediaType) != MediaTypeOCIIndex {
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
	f := &racingECR{ECR: registrytest.New()}
	f.Push("api", digest(1), "env.prod")
	f.Push("api", digest(2), "ref.2")
	move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2)})
	if err != nil {
		t.Fatalf("PointTag: %v", err)
	}
	if move.Moved || move.From != digest(1) {
		t.Errorf("got moved %v from %s, want unchanged (moved by the other run) from %s", move.Moved, move.From, digest(1))
	}
}

// racingECR is an ECR where another run moves the tag just before each
// PutImage, which ECR then refuses.
type racingECR struct{ *registrytest.ECR }

func (r *racingECR) PutImage(_ context.Context, in *ecr.PutImageInput, _ ...func(*ecr.Options)) (*ecr.PutImageOutput, error) {
	r.Push(*in.RepositoryName, *in.ImageDigest, *in.ImageTag)
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
			f := registrytest.New()
			f.Push("api", digest(1), "env.prod")
			f.Push("api", digest(2), "ref.2")
			move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2),
				Manifest: f.Manifest(digest(2)), MediaType: MediaTypeOCIIndex, FromKnown: true, From: tc.from})
			if err != nil {
				t.Fatalf("PointTag: %v", err)
			}
			if len(f.Gets()) != 0 || len(f.Puts()) != tc.wantPuts {
				t.Errorf("calls: got %d BatchGetImage and %d PutImage, want 0 and %d", len(f.Gets()), len(f.Puts()), tc.wantPuts)
			}
			want := &Move{Repository: "api", Tag: "env.prod", From: tc.from, To: digest(2), Moved: tc.wantMoved}
			if !reflect.DeepEqual(move, want) {
				t.Errorf("got %+v, want %+v", move, want)
			}
		})
	}
	// Without the manifest, given or read before, it reads as without
	// FromKnown.
	f := registrytest.New()
	f.Push("api", digest(1), "env.prod")
	f.Push("api", digest(2), "ref.2")
	move, err := New(f).PointTag(context.Background(), PointTagInput{Repository: "api", Tag: "env.prod", Digest: digest(2), FromKnown: true})
	if err != nil || !move.Moved || move.From != digest(1) || len(f.Gets()) != 1 || len(f.Puts()) != 1 {
		t.Errorf("FromKnown without a manifest: got %+v, %v, %d reads, %d puts; want moved from %s with one read and one put",
			move, err, len(f.Gets()), len(f.Puts()), digest(1))
	}
}

// TestPushedAt: push times by digest, 100 digests a call; a digest ECR
// does not hold (which makes it refuse the whole call) or whose time it
// does not tell is left out, as is a repository that does not exist.
func TestPushedAt(t *testing.T) {
	t.Parallel()
	f := registrytest.New()
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var digests []string
	want := map[string]time.Time{}
	for i := range 150 {
		f.Push("big", digest(i))
		if i != 7 {
			f.SetPushedAt("big", digest(i), at.Add(time.Duration(i)*time.Minute))
			want[digest(i)] = at.Add(time.Duration(i) * time.Minute)
		}
		digests = append(digests, digest(i))
	}
	for _, tc := range []struct {
		name    string
		repo    string
		digests []string
		want    map[string]time.Time
	}{
		{"all known, in two calls, one without a time", "big", digests, want},
		{"one missing", "big", []string{digest(1), digest(999), digest(2), digest(1)},
			map[string]time.Time{digest(1): want[digest(1)], digest(2): want[digest(2)]}},
		{"no such repository", "gone", []string{digest(1)}, map[string]time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := New(f).PushedAt(context.Background(), "", tc.repo, tc.digests)
			if err != nil {
				t.Fatalf("PushedAt: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PushedAt: got %d times, want %d: %v", len(got), len(tc.want), got)
			}
		})
	}
}
