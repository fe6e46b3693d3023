package main

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/internal/releasetest"
)

// The tests below run action.yml as the runner runs a composite action
// (cihost.CompositeAction) against a release server on 127.0.0.1
// (releaseServer) that serves goreleaser-style releases and the action's
// tags.

// TestCompositeRunsTheReleaseBinaryWithEveryInput: `uses:
// buoy-deploy/buoy@v1.2.3` downloads that release's binary for the
// runner, checks it against checksums.txt, keeps it in the tool cache,
// runs it with every input as INPUT_<NAME> and makes its outputs the
// action's; a second run starts from the tool cache without a request.
func TestCompositeRunsTheReleaseBinaryWithEveryInput(t *testing.T) {
	t.Parallel()
	srv := newReleaseServer(t)
	_, _, asset := runnerPlatform(t)
	srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3"), "buoy-action_plan9_amd64": []byte("other")})
	c := newComposite(t, srv, "v1.2.3")
	var want []string
	for _, name := range inputNames() {
		c.Inputs[name] = "value of " + name
		want = append(want, "INPUT_"+strings.ToUpper(name)+"=value of "+name)
	}
	slices.Sort(want)

	res := c.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("exit %d in step %s, want 0", res.ExitCode, res.FailedStep)
	}
	if got := ranWith(t, c); !slices.Equal(got, want) {
		t.Errorf("the binary got\n%v\nwant\n%v", got, want)
	}
	for _, name := range outputNames() {
		if got, want := res.Outputs[name], "v1.2.3 "+name; got != want {
			t.Errorf("output %s = %q, want %q", name, got, want)
		}
	}
	cached := filepath.Join(c.ToolCache, "buoy-action", "1.2.3", strings.ToLower(c.Env["RUNNER_ARCH"]))
	if got := res.Steps["install"]["bin"]; got != filepath.Join(cached, asset) {
		t.Errorf("step install: bin = %q, want %q (the tool cache)", got, filepath.Join(cached, asset))
	}
	if got := res.Steps["install"]["version"]; got != "v1.2.3" {
		t.Errorf("step install: version = %q, want v1.2.3", got)
	}
	for _, want := range []string{"verified against checksums.txt", "cosign is not installed"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if _, err := os.Stat(cached + ".complete"); err != nil {
		t.Errorf("the tool cache has no completion marker: %v", err)
	}
	if got := srv.requested(); len(got) != 2 {
		t.Errorf("first run asked for %v, want checksums.txt and the binary", got)
	}

	// The next run on this runner: from the tool cache, no request.
	if err := os.Remove(c.Env["INPUTS_FILE"]); err != nil {
		t.Fatal(err)
	}
	res = c.Run(t)
	if res.ExitCode != 0 || ranWith(t, c) == nil {
		t.Fatalf("cached run: exit %d, ran %v; want the cached binary to run", res.ExitCode, ranWith(t, c) != nil)
	}
	if got := srv.requested(); len(got) != 0 {
		t.Errorf("cached run asked the server for %v, want nothing", got)
	}
	if !strings.Contains(res.Stdout, "from the tool cache") {
		t.Errorf("the cached run's log does not say it used the tool cache:\n%s", res.Stdout)
	}
}

// TestCompositeRunsTheRealBinary: the release's real buoy-action (built
// from this checkout) run through action.yml gets the step's inputs and
// refuses bad ones as the runner would see it: exit 2, status invalid.
func TestCompositeRunsTheRealBinary(t *testing.T) {
	t.Parallel()
	bin, err := os.ReadFile(buildAction(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := newReleaseServer(t)
	_, _, asset := runnerPlatform(t)
	srv.publish(t, "v1.2.3", map[string][]byte{asset: bin})
	c := newComposite(t, srv, "v1.2.3")
	c.Inputs["command"] = "promote"
	c.Inputs["timeout"] = "soon"
	res := c.Run(t)
	if res.ExitCode != exitcode.BadInput || res.FailedStep != "buoy" {
		t.Errorf("exit %d in step %q, want %d in step buoy", res.ExitCode, res.FailedStep, exitcode.BadInput)
	}
	for _, want := range []string{`input timeout: \"soon\" is not a duration`, "input environment is required for command promote"} {
		if !strings.Contains(res.Stdout, strings.ReplaceAll(want, `\"`, `"`)) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if res.Outputs["status"] != "invalid" {
		t.Errorf("output status = %q, want invalid (outputs are set after a failed step too)", res.Outputs["status"])
	}
	if !strings.Contains(res.Summary, "buoy: invalid") {
		t.Errorf("the job summary does not say the run was invalid:\n%s", res.Summary)
	}
}

// TestCompositeRefusesWhatDoesNotMatch: a binary or a checksum that does
// not match is never run nor cached; a cached binary that no longer
// matches its checksums.txt is downloaded again.
func TestCompositeRefusesWhatDoesNotMatch(t *testing.T) {
	t.Parallel()
	_, _, asset := runnerPlatform(t)
	for _, tt := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{name: "tampered binary", tamper: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, asset), append(standIn("v1.2.3"), "echo evil\n"...))
		}, want: "checksum mismatch for"},
		{name: "tampered checksum", tamper: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "checksums.txt"), fmt.Appendf(nil, "%064d  %s\n", 0, asset))
		}, want: "checksum mismatch for"},
		{name: "no checksum for the binary", tamper: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "checksums.txt"), fmt.Appendf(nil, "%064d  buoy-action_plan9_amd64\n", 0))
		}, want: "lists no " + asset},
		{name: "listed binary missing", tamper: func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, asset)); err != nil {
				t.Fatal(err)
			}
		}, want: "could not download"},
		{name: "no such release", tamper: func(t *testing.T, dir string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}, want: "could not download"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newReleaseServer(t)
			tt.tamper(t, srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")}))
			c := newComposite(t, srv, "v1.2.3")
			res := c.Run(t)
			if res.ExitCode == 0 || res.FailedStep != "install" {
				t.Errorf("exit %d in step %q, want a failure in step install", res.ExitCode, res.FailedStep)
			}
			if !strings.Contains(res.Stdout, "::error title=buoy::") || !strings.Contains(res.Stdout, tt.want) {
				t.Errorf("the log lacks an error with %q", tt.want)
			}
			if ranWith(t, c) != nil {
				t.Error("the binary ran")
			}
			if matches, _ := filepath.Glob(filepath.Join(c.ToolCache, "buoy-action", "*", "*", "*")); len(matches) > 0 {
				t.Errorf("the tool cache holds %v after a refused download", matches)
			}
			for name, v := range res.Outputs {
				if v != "" {
					t.Errorf("output %s = %q after a refused download, want empty", name, v)
				}
			}
		})
	}

	t.Run("tampered tool cache", func(t *testing.T) {
		t.Parallel()
		srv := newReleaseServer(t)
		srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")})
		c := newComposite(t, srv, "v1.2.3")
		if res := c.Run(t); res.ExitCode != 0 {
			t.Fatalf("first run: exit %d", res.ExitCode)
		}
		srv.requested()
		cached := filepath.Join(c.ToolCache, "buoy-action", "1.2.3", strings.ToLower(c.Env["RUNNER_ARCH"]), asset)
		writeFile(t, cached, standIn("evil"))
		res := c.Run(t)
		if res.ExitCode != 0 || res.Outputs["status"] != "v1.2.3 status" {
			t.Errorf("exit %d, status %q; want the release's binary, downloaded again", res.ExitCode, res.Outputs["status"])
		}
		if !strings.Contains(res.Stdout, "does not match its checksums.txt") || len(srv.requested()) != 2 {
			t.Errorf("the run did not say it downloads again, or did not download")
		}
	})
}

// TestCompositeVerifiesTheSignatureWithCosign: where cosign is installed,
// checksums.txt must carry the release workflow's signature for that
// tag, or nothing runs. cosign here is a stand-in that records its
// arguments: what is checked is that the script asks for the right
// identity and stops when cosign says no.
func TestCompositeVerifiesTheSignatureWithCosign(t *testing.T) {
	t.Parallel()
	_, _, asset := runnerPlatform(t)
	for _, valid := range []bool{true, false} {
		t.Run(fmt.Sprintf("valid=%v", valid), func(t *testing.T) {
			t.Parallel()
			srv := newReleaseServer(t)
			dir := srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")})
			writeFile(t, filepath.Join(dir, "checksums.txt.sigstore.json"), []byte(`{"stand-in":"bundle"}`))
			stubs := t.TempDir()
			calls := filepath.Join(t.TempDir(), "cosign")
			exit := map[bool]string{true: "0", false: "1"}[valid]
			writeFile(t, filepath.Join(stubs, "cosign"), []byte("#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" >\""+calls+"\"\n"+
				"[ \"$(cat \"$4\")\" = '{\"stand-in\":\"bundle\"}' ] || exit 3\nexit "+exit+"\n"))
			c := newComposite(t, srv, "v1.2.3")
			c.Env["PATH"] = onPath(t, scriptTools, stubs)
			res := c.Run(t)

			b, err := os.ReadFile(calls)
			if err != nil {
				t.Fatalf("cosign was not called: %v", err)
			}
			args := strings.Split(strings.TrimSpace(string(b)), "\n")
			want := []string{"verify-blob", "", "--bundle", "", "--certificate-identity",
				"https://github.com/buoy-deploy/buoy/.github/workflows/release.yml@refs/tags/v1.2.3",
				"--certificate-oidc-issuer", "https://token.actions.githubusercontent.com"}
			if len(args) != len(want) || filepath.Base(args[1]) != "checksums.txt" || filepath.Base(args[3]) != "checksums.txt.sigstore.json" {
				t.Fatalf("cosign %q, want verify-blob of checksums.txt with its bundle", args)
			}
			want[1], want[3] = args[1], args[3]
			if !slices.Equal(args, want) {
				t.Errorf("cosign %q,\nwant %q", args, want)
			}
			if valid {
				if res.ExitCode != 0 || ranWith(t, c) == nil || !strings.Contains(res.Stdout, "signed by the release workflow") {
					t.Errorf("exit %d, ran %v; want a verified run", res.ExitCode, ranWith(t, c) != nil)
				}
				return
			}
			if res.ExitCode == 0 || ranWith(t, c) != nil || !strings.Contains(res.Stdout, "is not the release workflow's") {
				t.Errorf("exit %d, ran %v; want the run refused before the binary", res.ExitCode, ranWith(t, c) != nil)
			}
		})
	}
}

// TestCompositeFindsTheReleaseOfItsRef: a major or minor tag, or a
// commit SHA, stands for the release tagged on the same commit, the
// highest if several; a full version needs no look-up.
func TestCompositeFindsTheReleaseOfItsRef(t *testing.T) {
	t.Parallel()
	srv := newReleaseServer(t)
	commits := srv.tags(t,
		[]string{"v1.2.2!"},
		[]string{"v1.2.3!", "v1.2.3-rc.1", "v1.2", "v1!"},
		[]string{"v1.3.0-rc.1!"},
		[]string{"v2.0.0", "v2.0.0-rc.2"},
	)
	_, _, asset := runnerPlatform(t)
	for _, v := range []string{"v1.2.2", "v1.2.3", "v1.3.0-rc.1", "v2.0.0"} {
		srv.publish(t, v, map[string][]byte{asset: standIn(v)})
	}
	for _, tt := range []struct{ ref, want string }{
		{ref: "v1.2.3", want: "v1.2.3"},
		{ref: "v1", want: "v1.2.3"},
		{ref: "v1.2", want: "v1.2.3"},
		{ref: commits[1], want: "v1.2.3"},
		{ref: commits[2], want: "v1.3.0-rc.1"},
		{ref: commits[3], want: "v2.0.0"},
		{ref: "v2.0.0-rc.2", want: "v2.0.0-rc.2"},
	} {
		t.Run(tt.ref, func(t *testing.T) {
			c := newComposite(t, srv, tt.ref)
			if tt.want == "v2.0.0-rc.2" {
				srv.publish(t, tt.want, map[string][]byte{asset: standIn(tt.want)})
			}
			srv.requested()
			res := c.Run(t)
			if res.ExitCode != 0 || res.Outputs["status"] != tt.want+" status" {
				t.Errorf("ref %s: exit %d, status %q; want the binary of %s", tt.ref, res.ExitCode, res.Outputs["status"], tt.want)
			}
			asked := strings.Join(srv.requested(), " ")
			if lookedUp := strings.Contains(asked, ".git/"); lookedUp != !strings.HasPrefix(tt.ref, tt.want) {
				t.Errorf("ref %s: the tags were looked up: %v (requests %s)", tt.ref, lookedUp, asked)
			}
		})
	}
}

// TestCompositeRefusesAnUnsupportedRunner: a release on a runner it has
// no binary for (a 32-bit one) stops with an error that names the
// runners it has, asks for nothing and builds nothing, even with Go
// installed.
func TestCompositeRefusesAnUnsupportedRunner(t *testing.T) {
	t.Parallel()
	_, _, asset := runnerPlatform(t)
	for _, runner := range [][2]string{{"Linux", "ARM"}, {"Windows", "X86"}, {"", ""}} {
		t.Run(fmt.Sprintf("%q_%q", runner[0], runner[1]), func(t *testing.T) {
			t.Parallel()
			srv := newReleaseServer(t)
			srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")})
			c := newComposite(t, srv, "v1.2.3")
			c.Env["RUNNER_OS"], c.Env["RUNNER_ARCH"] = runner[0], runner[1]
			res := c.Run(t)
			if res.ExitCode == 0 || res.FailedStep != "install" {
				t.Errorf("exit %d in step %q, want a failure in step install", res.ExitCode, res.FailedStep)
			}
			for _, want := range []string{"::error title=buoy::release v1.2.3 has no buoy-action for RUNNER_OS", "Linux, macOS and Windows runners, on X64 or ARM64"} {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("the log lacks %q", want)
				}
			}
			if ranWith(t, c) != nil || strings.Contains(res.Stdout, "building") {
				t.Error("something ran or was built")
			}
			if got := srv.requested(); len(got) != 0 {
				t.Errorf("asked the server for %v, want nothing", got)
			}
		})
	}
}

// TestCompositeTakesItsVersionFromItsCheckout: inside another composite
// action the runner gives github.action_ref and action_repository of
// the outer action; the runner's checkout of this one
// (_actions/<owner>/<repo>/<ref>) says which release it is.
func TestCompositeTakesItsVersionFromItsCheckout(t *testing.T) {
	t.Parallel()
	srv := newReleaseServer(t)
	_, _, asset := runnerPlatform(t)
	srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")})
	c := newComposite(t, srv, "v9.9.9")
	c.Repository = "acme/wrapper"
	checkout := filepath.Join(t.TempDir(), "_actions", "buoy-deploy", "buoy", "v1.2.3")
	if err := os.MkdirAll(filepath.Dir(checkout), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(c.ActionPath, checkout); err != nil {
		t.Fatal(err)
	}
	c.ActionPath = checkout
	res := c.Run(t)
	if res.ExitCode != 0 || res.Outputs["status"] != "v1.2.3 status" {
		t.Errorf("exit %d, status %q; want buoy-deploy/buoy's v1.2.3", res.ExitCode, res.Outputs["status"])
	}
}

// TestCompositeBuildsWhatIsNoRelease: `uses: ./` (no ref) or a branch
// builds buoy-action from the action's checkout with Go, says so, and
// runs it; with no Go it says what to do.
func TestCompositeBuildsWhatIsNoRelease(t *testing.T) {
	t.Parallel()
	srv := newReleaseServer(t)
	srv.tags(t, []string{"v1.2.3"})
	_, _, asset := runnerPlatform(t)
	srv.publish(t, "v1.2.3", map[string][]byte{asset: standIn("v1.2.3")})
	for _, tt := range []struct {
		name, ref, repository string
	}{
		{name: "uses ./"},
		{name: "branch", ref: "main", repository: actionRepository},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newComposite(t, srv, tt.ref)
			c.Repository = tt.repository
			// The runner's HOME is the test's: share this machine's Go
			// caches rather than download every module again.
			for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPROXY", "GOFLAGS", "GOTOOLCHAIN"} {
				c.Env[v] = goEnv(t, v)
			}
			c.Inputs["command"] = "promote"
			res := c.Run(t)
			if !strings.Contains(res.Stdout, "::notice title=buoy::") || !strings.Contains(res.Stdout, "building buoy-action from source with go version") {
				t.Errorf("the log does not say it builds from source")
			}
			// The real binary, built: it refuses promote without an
			// environment.
			if res.ExitCode != exitcode.BadInput || res.FailedStep != "buoy" || res.Outputs["status"] != "invalid" {
				t.Errorf("exit %d in step %q, status %q; want the built binary's refusal (2, buoy, invalid)", res.ExitCode, res.FailedStep, res.Outputs["status"])
			}
		})
	}

	t.Run("no Go", func(t *testing.T) {
		t.Parallel()
		c := newComposite(t, srv, "main")
		c.Env["PATH"] = onPath(t, scriptTools)
		res := c.Run(t)
		if res.ExitCode == 0 || res.FailedStep != "install" || !strings.Contains(res.Stdout, "Go is not installed") ||
			!strings.Contains(res.Stdout, "uses: buoy-deploy/buoy@v1") {
			t.Errorf("exit %d in step %q; want a failure that says to use a release or install Go", res.ExitCode, res.FailedStep)
		}
	})
}

// TestCompositeDownloadsWhatGoreleaserPublishes: for every runner the
// script knows (RUNNER_OS Linux, macOS, Windows; RUNNER_ARCH X64, ARM64)
// it downloads the asset .goreleaser.yaml publishes for that platform,
// under goreleaser's name, and goreleaser publishes one for each.
func TestCompositeDownloadsWhatGoreleaserPublishes(t *testing.T) {
	t.Parallel()
	cfg := releasetest.Read(t, repoRoot(t))
	assets := releasetest.BareAssets(t, cfg, "./action")
	runners := map[string][2]string{
		"linux/amd64": {"Linux", "X64"}, "linux/arm64": {"Linux", "ARM64"},
		"darwin/amd64": {"macOS", "X64"}, "darwin/arm64": {"macOS", "ARM64"},
		"windows/amd64": {"Windows", "X64"}, "windows/arm64": {"Windows", "ARM64"},
	}
	if got, want := slices.Sorted(maps.Keys(assets)), slices.Sorted(maps.Keys(runners)); !slices.Equal(got, want) {
		t.Errorf("goreleaser builds buoy-action for %v, want %v (every runner action/install.sh knows)", got, want)
	}
	srv := newReleaseServer(t)
	published := map[string][]byte{}
	for platform, name := range assets {
		published[name] = standIn(platform)
	}
	if checksums := releasetest.Checksums(t, cfg); checksums != "checksums.txt" {
		t.Fatalf("goreleaser names the checksums %s; action/install.sh downloads checksums.txt", checksums)
	}
	srv.publish(t, "v1.2.3", published)
	for platform, runner := range runners {
		t.Run(strings.ReplaceAll(platform, "/", "_"), func(t *testing.T) {
			t.Parallel()
			c := newComposite(t, srv, "v1.2.3")
			c.Env["RUNNER_OS"], c.Env["RUNNER_ARCH"] = runner[0], runner[1]
			res := c.Run(t)
			if res.ExitCode != 0 || res.Outputs["status"] != platform+" status" {
				t.Errorf("RUNNER_OS %s RUNNER_ARCH %s: exit %d, status %q; want goreleaser's %s", runner[0], runner[1], res.ExitCode, res.Outputs["status"], assets[platform])
			}
		})
	}
}

// BenchmarkCompositeStart measures how long action.yml takes from its
// first step to buoy-action having checked its inputs (and refused
// them: the run ends there), with the real binary: downloading it from
// a server on this machine and verifying it (first), and from the tool
// cache (cached). The network time of a real download is not in it.
func BenchmarkCompositeStart(b *testing.B) {
	bin, err := os.ReadFile(cihost.Build(b, "./action", "buoy-action"))
	if err != nil {
		b.Fatal(err)
	}
	srv := newReleaseServer(b)
	_, _, asset := runnerPlatform(b)
	srv.publish(b, "v1.2.3", map[string][]byte{asset: bin})
	for _, cached := range []bool{false, true} {
		b.Run(map[bool]string{false: "first", true: "cached"}[cached], func(b *testing.B) {
			c := newComposite(b, srv, "v1.2.3")
			c.Inputs["command"] = "promote"
			c.Quiet = true
			if cached {
				c.Run(b)
			}
			b.ResetTimer()
			for range b.N {
				if !cached {
					b.StopTimer()
					if err := os.RemoveAll(c.ToolCache); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if res := c.Run(b); res.ExitCode != exitcode.BadInput {
					b.Fatalf("exit %d, want %d", res.ExitCode, exitcode.BadInput)
				}
			}
		})
	}
}

// goEnv returns what `go env` says of v.
func goEnv(t *testing.T, v string) string {
	t.Helper()
	out, err := exec.Command("go", "env", v).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", v, err)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestCompositeJobsSharingARunnerDownloadApart: two jobs on one runner
// (a self-hosted one, whose tool cache they share) downloading at once
// each write a file of their own, and the binary appears in the tool
// cache only whole. The server holds both downloads half-way until both
// have started.
func TestCompositeJobsSharingARunnerDownloadApart(t *testing.T) {
	t.Parallel()
	srv := newReleaseServer(t)
	_, _, asset := runnerPlatform(t)
	binary := standIn("v1.2.3")
	srv.publish(t, "v1.2.3", map[string][]byte{asset: binary})
	started := make(chan struct{}, 2)
	finish := make(chan struct{})
	files := http.FileServer(http.Dir(srv.root))
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/"+asset) {
			files.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(binary)))
		_, _ = w.Write(binary[:len(binary)/2])
		w.(http.Flusher).Flush()
		started <- struct{}{}
		<-finish
		_, _ = w.Write(binary[len(binary)/2:])
	}))
	t.Cleanup(held.Close)

	jobs := make([]*cihost.CompositeAction, 2)
	for i := range jobs {
		jobs[i] = newComposite(t, srv, "v1.2.3")
		jobs[i].Env["BUOY_RELEASE_SERVER"] = held.URL
		jobs[i].ToolCache = jobs[0].ToolCache
	}
	results := make(chan cihost.CompositeResult, 2)
	for _, c := range jobs {
		go func() { results <- c.Run(t) }()
	}
	for range 2 {
		select {
		case <-started:
		case res := <-results:
			close(finish)
			t.Fatalf("a job ended while the other had not started downloading (does one wait for the other?): exit %d in %s", res.ExitCode, res.FailedStep)
		}
	}
	// Both downloads are half-way, each in a directory of its own (which
	// holds the checksums.txt it downloaded before asking for the
	// binary; curl may not have written the binary's first half yet),
	// and nothing is at the binary's place in the cache yet.
	parts, err := filepath.Glob(filepath.Join(jobs[0].ToolCache, "buoy-action", "1.2.3", ".download.*", "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cached := filepath.Join(jobs[0].ToolCache, "buoy-action", "1.2.3", strings.ToLower(jobs[0].Env["RUNNER_ARCH"]), asset)
	_, statErr := os.Stat(cached)
	close(finish)
	if len(parts) != 2 {
		t.Errorf("half-way downloads %v, want two, in directories apart", parts)
	}
	if !os.IsNotExist(statErr) {
		t.Errorf("the tool cache holds %s before a download finished (%v)", cached, statErr)
	}
	for range 2 {
		if res := <-results; res.ExitCode != 0 || res.Outputs["status"] != "v1.2.3 status" {
			t.Errorf("a job: exit %d in %q, status %q; want the release's binary run", res.ExitCode, res.FailedStep, res.Outputs["status"])
		}
	}
	if got, err := os.ReadFile(cached); err != nil || !bytes.Equal(got, binary) {
		t.Errorf("the tool cache holds %q (%v), want the release's binary", got, err)
	}
	if left, _ := filepath.Glob(filepath.Join(jobs[0].ToolCache, "buoy-action", "1.2.3", ".download.*")); len(left) > 0 {
		t.Errorf("downloads left %v behind", left)
	}
}
