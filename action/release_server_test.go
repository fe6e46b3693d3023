package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/releasetest"
)

// The action's repository, as `uses: buoy-deploy/buoy@...` names it.
const actionRepository = "buoy-deploy/buoy"

// releaseServer plays GitHub for action/install.sh on 127.0.0.1: the
// action's repository (git's dumb HTTP protocol, enough for `git
// ls-remote --tags`) at /buoy-deploy/buoy.git, and its releases at
// /buoy-deploy/buoy/releases/download/<tag>/<asset>, laid out as
// goreleaser publishes them. It records every request.
type releaseServer struct {
	*httptest.Server
	root string

	mu       sync.Mutex
	requests []string
}

func newReleaseServer(t testing.TB) *releaseServer {
	t.Helper()
	s := &releaseServer{root: t.TempDir()}
	files := http.FileServer(http.Dir(s.root))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.URL.Path)
		s.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// requested returns the paths asked for since the last call.
func (s *releaseServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.requests
	s.requests = nil
	return r
}

// publish makes release tag with assets (name -> content) and a
// checksums.txt of them, and returns its directory, where a test may
// tamper with them.
func (s *releaseServer) publish(t testing.TB, tag string, assets map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(s.root, filepath.FromSlash(actionRepository), "releases", "download", tag)
	releasetest.Release(t, dir, "checksums.txt", assets)
	return dir
}

// tags makes the repository: one commit per entry of commits, in order,
// each tagged with its tags (annotated when they end in "!", which is
// dropped), and returns the commits' SHAs.
func (s *releaseServer) tags(t *testing.T, commits ...[]string) []string {
	t.Helper()
	bare := filepath.Join(s.root, filepath.FromSlash(actionRepository)+".git")
	work := t.TempDir()
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=buoy", "GIT_AUTHOR_EMAIL=buoy@example.com",
			"GIT_COMMITTER_NAME=buoy", "GIT_COMMITTER_EMAIL=buoy@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+work)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git(s.root, "init", "-q", "--bare", bare)
	git(work, "init", "-q", "-b", "main")
	var shas []string
	for i, tags := range commits {
		git(work, "commit", "-q", "--allow-empty", "-m", "commit "+string(rune('a'+i)))
		shas = append(shas, git(work, "rev-parse", "HEAD"))
		for _, tag := range tags {
			if name, ok := strings.CutSuffix(tag, "!"); ok {
				git(work, "tag", "-a", "-m", "release "+name, name)
			} else {
				git(work, "tag", tag)
			}
		}
	}
	git(work, "push", "-q", bare, "main", "--tags")
	git(bare, "update-server-info") // what the dumb protocol reads
	return shas
}

// runnerPlatform is what the runner says of this machine (RUNNER_OS,
// RUNNER_ARCH), and the name of the release asset for it.
func runnerPlatform(t testing.TB) (runnerOS, runnerArch, asset string) {
	t.Helper()
	oses := map[string]string{"linux": "Linux", "darwin": "macOS"}
	arches := map[string]string{"amd64": "X64", "arm64": "ARM64"}
	runnerOS, runnerArch = oses[runtime.GOOS], arches[runtime.GOARCH]
	if runnerOS == "" || runnerArch == "" {
		t.Fatalf("no GitHub runner runs %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return runnerOS, runnerArch, "buoy-action_" + runtime.GOOS + "_" + runtime.GOARCH
}

// standIn is a stand-in for a release's buoy-action: a script that says
// which one it is, records the INPUT_ variables it was given in
// $INPUTS_FILE and writes each output of the action as "<label> <name>".
func standIn(label string) []byte {
	var b strings.Builder
	b.WriteString("#!/usr/bin/env bash\nset -e\necho \"stand-in " + label + " ran\"\n")
	b.WriteString("env | grep '^INPUT_' | LC_ALL=C sort >\"$INPUTS_FILE\"\n")
	for _, name := range outputNames() {
		b.WriteString("echo '" + name + "=" + label + " " + name + "' >>\"$GITHUB_OUTPUT\"\n")
	}
	return []byte(b.String())
}

// newComposite returns a run of action.yml as `uses:
// buoy-deploy/buoy@<ref>` on this machine's runner, fetching from srv.
func newComposite(t testing.TB, srv *releaseServer, ref string) *cihost.CompositeAction {
	t.Helper()
	c := cihost.NewCompositeAction(t)
	c.Ref, c.Repository = ref, actionRepository
	runnerOS, runnerArch, _ := runnerPlatform(t)
	c.Env["RUNNER_OS"], c.Env["RUNNER_ARCH"] = runnerOS, runnerArch
	c.Env["BUOY_RELEASE_SERVER"] = srv.URL
	c.Env["INPUTS_FILE"] = filepath.Join(t.TempDir(), "inputs")
	return c
}

// ranWith returns the INPUT_ variables the stand-in recorded, or nil
// when it did not run.
func ranWith(t *testing.T, c *cihost.CompositeAction) []string {
	t.Helper()
	b, err := os.ReadFile(c.Env["INPUTS_FILE"])
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// onPath returns a PATH of symlinks to the given tools only, plus dirs.
func onPath(t *testing.T, tools []string, dirs ...string) string {
	t.Helper()
	bin := t.TempDir()
	for _, tool := range tools {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s is not installed: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(append(dirs, bin), string(os.PathListSeparator))
}

// scriptTools are the commands action/install.sh and the stand-ins use.
var scriptTools = []string{"bash", "env", "curl", "git", "awk", "sed", "grep", "sort", "cut", "sha256sum",
	"mkdir", "mktemp", "mv", "rm", "chmod", "dirname", "cat"}
