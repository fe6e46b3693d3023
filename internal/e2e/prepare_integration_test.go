//go:build integration

package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/buoy-deploy/buoy/internal/awstest"
	"github.com/buoy-deploy/buoy/internal/deployfixture"
)

// oldLabel is the label of the fixture's old build.
const oldLabel = "ref." + deployfixture.OldCommit

// TestConcurrentPrepares: 20 `buoy prepare` processes at once, half from
// latest and half from the old build's label, each with its own
// description: all exit 0 with distinct release ids, `buoy history` lists all 20, and each is
// readable with `buoy show-release`, pinning its label's digests.
func TestConcurrentPrepares(t *testing.T) {
	t.Parallel()
	const n = 20
	ctx := context.Background()
	bin := buildCLI(t)
	f := deployfixture.New(ctx, t, awstest.Config(t), deployfixture.Options{Images: 2})
	env := cliEnv(t, awstest.Endpoint(t), "ci")
	common := []string{"--manifest", f.Manifest, "--table", f.Table, "--output", "json"}
	type release struct {
		ID, Label, Description string
		Images                 map[string]struct{ Digest string }
	}
	runs := make([]*run, n)
	for i := range runs {
		label := []string{"latest", oldLabel}[i%2]
		runs[i] = start(t, bin, env, append([]string{"prepare", "--from-label", label, "--description", fmt.Sprintf("prepare %d", i)}, common...)...)
	}
	made := map[string]string{} // release id -> description
	for i, r := range runs {
		if code := r.wait(t); code != 0 {
			t.Fatalf("prepare %d: exit %d\n%s", i, code, r.output())
		}
		var rel release
		if err := json.Unmarshal(r.stdout.Bytes(), &rel); err != nil || rel.ID == "" {
			t.Fatalf("prepare %d: output is not a release (%v):\n%s", i, err, r.output())
		}
		if other, ok := made[rel.ID]; ok {
			t.Errorf("prepare %d made release %s, as did %q", i, rel.ID, other)
		}
		made[rel.ID] = rel.Description
	}

	h := start(t, bin, env, append([]string{"history", "--limit", fmt.Sprint(2 * n)}, common...)...)
	if code := h.wait(t); code != 0 {
		t.Fatalf("history: exit %d\n%s", code, h.output())
	}
	var rep struct{ Releases []release }
	if err := json.Unmarshal(h.stdout.Bytes(), &rep); err != nil {
		t.Fatalf("history: %v\n%s", err, h.output())
	}
	listed := map[string]bool{}
	for _, rel := range rep.Releases {
		listed[rel.ID] = true
	}
	for id, desc := range made {
		if !listed[id] {
			t.Errorf("history does not list release %s (%s)", id, desc)
		}
	}
	if len(rep.Releases) != n {
		t.Errorf("history lists %d releases, want %d", len(rep.Releases), n)
	}

	for id, desc := range made {
		s := start(t, bin, env, append([]string{"show-release", id}, common...)...)
		if code := s.wait(t); code != 0 {
			t.Errorf("show-release %s: exit %d\n%s", id, code, s.output())
			continue
		}
		var rel release
		if err := json.Unmarshal(s.stdout.Bytes(), &rel); err != nil || rel.ID != id || rel.Description != desc {
			t.Errorf("show-release %s: got %+v (%v), want %q", id, rel, err, desc)
			continue
		}
		for _, img := range f.Images {
			want := map[string]string{"latest": img.New, oldLabel: img.Old}[rel.Label]
			if got := rel.Images[img.ID].Digest; got != want {
				t.Errorf("release %s (from %s) pins %s at %s, want %s", id, rel.Label, img.ID, got, want)
			}
		}
	}
}
