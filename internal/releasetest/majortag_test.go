package releasetest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
)

// git runs git in dir with a fixed identity and no user configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=buoy", "GIT_AUTHOR_EMAIL=buoy@example.com",
		"GIT_COMMITTER_NAME=buoy", "GIT_COMMITTER_EMAIL=buoy@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestMoveMajorTag runs scripts/move-major-tag as the release workflow
// does, in a clone of a repository whose remote holds the tags given
// (tag -> the commit it is on, by number; "!" marks an annotated tag),
// and checks where the remote's major tags point afterwards.
func TestMoveMajorTag(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		tags    map[string]int
		release string
		want    map[string]int // major tag -> commit; -1: no such tag
		says    string
	}{
		{name: "first release", tags: map[string]int{"v1.0.0": 0}, release: "v1.0.0",
			want: map[string]int{"v1": 0}, says: "v1 now points at v1.0.0"},
		{name: "newer release", tags: map[string]int{"v1.0.0": 0, "v1": 0, "v1.1.0": 1}, release: "v1.1.0",
			want: map[string]int{"v1": 1}},
		{name: "annotated release tag", tags: map[string]int{"v1.0.0!": 1}, release: "v1.0.0",
			want: map[string]int{"v1": 1}},
		{name: "v1.10.0 is newer than v1.9.0", tags: map[string]int{"v1.9.0": 0, "v1": 0, "v1.10.0": 1}, release: "v1.10.0",
			want: map[string]int{"v1": 1}},
		{name: "a backport does not move it back", tags: map[string]int{"v1.3.0": 1, "v1": 1, "v1.2.4": 2}, release: "v1.2.4",
			want: map[string]int{"v1": 1}, says: "v1.2.4 is not the newest release of v1 (v1.3.0 is)"},
		{name: "a prerelease does not move it", tags: map[string]int{"v1.0.0": 0, "v1": 0, "v1.1.0-rc.1": 1}, release: "v1.1.0-rc.1",
			want: map[string]int{"v1": 0}, says: "v1.1.0-rc.1 is a prerelease"},
		{name: "a new major version", tags: map[string]int{"v1.0.0": 0, "v1": 0, "v2.0.0": 1}, release: "v2.0.0",
			want: map[string]int{"v1": 0, "v2": 1}},
		{name: "a release of v10 leaves v1", tags: map[string]int{"v1.0.0": 0, "v1": 0, "v10.0.0": 1}, release: "v10.0.0",
			want: map[string]int{"v1": 0, "v10": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			remote, commits := remoteWithTags(t, tt.tags)
			clone := t.TempDir()
			git(t, clone, "clone", "-q", remote, ".")
			out, err := moveMajorTag(t, clone, tt.release)
			if err != nil {
				t.Fatalf("move-major-tag %s: %v\n%s", tt.release, err, out)
			}
			if !strings.Contains(out, tt.says) {
				t.Errorf("move-major-tag %s said %q, want %q", tt.release, out, tt.says)
			}
			for major, i := range tt.want {
				if got := git(t, remote, "rev-parse", major+"^{commit}"); got != commits[i] {
					t.Errorf("after %s, the remote's %s is at %s, want commit %d (%s)", tt.release, major, got, i, commits[i])
				}
			}
		})
	}

	t.Run("not a release tag", func(t *testing.T) {
		t.Parallel()
		remote, _ := remoteWithTags(t, map[string]int{"v1.0.0": 0})
		clone := t.TempDir()
		git(t, clone, "clone", "-q", remote, ".")
		for _, arg := range []string{"main", "1.2.3", "v1", ""} {
			out, err := moveMajorTag(t, clone, arg)
			if err == nil || !strings.Contains(out, "is not a release tag: give one like v1.2.3") {
				t.Errorf("move-major-tag %q: %v, %q; want a failure that asks for vX.Y.Z", arg, err, out)
			}
		}
		if tags := git(t, remote, "tag", "--list"); tags != "v1.0.0" {
			t.Errorf("the remote's tags are %q, want v1.0.0 alone", tags)
		}
	})
}

// remoteWithTags makes a bare repository of three commits carrying tags,
// and returns it and the commits' SHAs.
func remoteWithTags(t *testing.T, tags map[string]int) (string, []string) {
	t.Helper()
	work, remote := t.TempDir(), t.TempDir()
	git(t, remote, "init", "-q", "--bare")
	git(t, work, "init", "-q", "-b", "main")
	var commits []string
	for i := range 3 {
		git(t, work, "commit", "-q", "--allow-empty", "-m", "commit "+string(rune('a'+i)))
		commits = append(commits, git(t, work, "rev-parse", "HEAD"))
	}
	for tag, i := range tags {
		if name, ok := strings.CutSuffix(tag, "!"); ok {
			git(t, work, "tag", "-a", "-m", "release "+name, name, commits[i])
		} else {
			git(t, work, "tag", tag, commits[i])
		}
	}
	git(t, work, "push", "-q", remote, "main", "--tags")
	return remote, commits
}

func moveMajorTag(t *testing.T, dir, tag string) (string, error) {
	t.Helper()
	cmd := exec.Command(filepath.Join(cihost.Root(), "scripts", "move-major-tag"), tag)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
