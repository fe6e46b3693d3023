package main

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper case, e.g. RUN
	Args string
}

// stage is one FROM ... up to the next FROM.
type stage struct {
	From         string
	Instructions []instruction
}

// parseDockerfile is a line scan, enough for the rules checked here.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	var cur string
	start := 0
	for i, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur == "" {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		in := instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		cur = ""
		if in.Cmd == "FROM" {
			stages = append(stages, stage{From: in.Args})
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("%s:%d: %s before the first FROM", path, in.Line, in.Cmd)
		}
		stages[len(stages)-1].Instructions = append(stages[len(stages)-1].Instructions, in)
	}
	return stages
}

func TestDockerfileFollowsGitHubRules(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot(t), "Dockerfile")
	stages := parseDockerfile(t, path)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final stage", len(stages))
	}
	final := stages[len(stages)-1]
	var entrypoint []string
	copied := map[string]bool{}
	for _, st := range stages {
		for _, in := range st.Instructions {
			if in.Cmd == "USER" {
				t.Errorf("Dockerfile:%d: USER: GitHub runs container actions as root; remove it", in.Line)
			}
		}
	}
	for _, in := range final.Instructions {
		switch in.Cmd {
		case "WORKDIR":
			t.Errorf("Dockerfile:%d: WORKDIR in the final stage: the runner mounts the workspace over it", in.Line)
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.Args), &entrypoint); err != nil {
				t.Errorf("Dockerfile:%d: ENTRYPOINT %s is not exec form (a JSON array): %v", in.Line, in.Args, err)
			}
		case "COPY":
			f := strings.Fields(in.Args)
			copied[f[len(f)-1]] = true
		case "CMD":
			t.Errorf("Dockerfile:%d: CMD in the final stage: the runner passes args itself", in.Line)
		}
	}
	if len(entrypoint) != 1 || entrypoint[0] != "/usr/local/bin/buoy-action" {
		t.Errorf("ENTRYPOINT = %q, want [\"/usr/local/bin/buoy-action\"]", entrypoint)
	}
	for _, bin := range []string{"/usr/local/bin/buoy-action", "/usr/local/bin/buoy"} {
		if !copied[bin] {
			t.Errorf("the final stage does not COPY %s", bin)
		}
	}
	// CA certificates: distroless/static carries them; scratch needs a copy.
	certs := strings.HasPrefix(final.From, "gcr.io/distroless/static") || strings.HasPrefix(final.From, "gcr.io/distroless/base")
	for dst := range copied {
		certs = certs || strings.Contains(dst, "/etc/ssl/certs")
	}
	if !certs {
		t.Errorf("final stage FROM %s has no CA certificates: use gcr.io/distroless/static-debian12 or COPY /etc/ssl/certs/ca-certificates.crt", final.From)
	}
	if strings.HasSuffix(final.From, ":nonroot") {
		t.Errorf("final stage FROM %s runs as nonroot; GitHub needs root", final.From)
	}
}

// goBuild is one `go build` of the Dockerfile: the variables its RUN
// sets before the command (GOOS=$TARGETOS ...) and go's arguments.
type goBuild struct {
	Line int
	Env  []string
	Args []string // after "go"
}

// goBuilds returns the go build commands of the Dockerfile.
func goBuilds(t *testing.T) []goBuild {
	t.Helper()
	var builds []goBuild
	for _, st := range parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile")) {
		for _, in := range st.Instructions {
			if in.Cmd != "RUN" || !strings.Contains(in.Args, "go build") {
				continue
			}
			b := goBuild{Line: in.Line}
			words := shellWords(t, in.Args)
			for len(words) > 0 && strings.Contains(words[0], "=") {
				b.Env, words = append(b.Env, words[0]), words[1:]
			}
			if len(words) < 2 || words[0] != "go" || words[1] != "build" {
				t.Fatalf("Dockerfile:%d: RUN %s: want [VAR=value ...] go build ...", in.Line, in.Args)
			}
			b.Args = words[1:]
			builds = append(builds, b)
		}
	}
	return builds
}

// shellWords splits a command line the way sh does for the simple quoting
// the Dockerfile uses.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case r == '&' || r == ';' || r == '|':
			t.Fatalf("Dockerfile: keep one go build per RUN so the test can run it: %s", s)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestDockerfileBuildsStampedBinaries runs the Dockerfile's go build
// commands as the build stage would for this machine's platform, with
// --build-arg VERSION, and checks that they build the action and the
// CLI, static, and that both say that version; and that the image is
// labelled with it.
func TestDockerfileBuildsStampedBinaries(t *testing.T) {
	t.Parallel()
	const version = "v9.8.7-dockerfile"
	stages := parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a final stage", len(stages))
	}
	// What `docker build --build-arg VERSION=... --platform <this
	// machine's>` gives the build stage's ARGs.
	args := map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH, "VERSION": version}
	declared := map[string]bool{}
	static := false
	for _, in := range stages[0].Instructions {
		if in.Cmd == "ARG" {
			name, _, _ := strings.Cut(in.Args, "=")
			declared[name] = true
		}
		static = static || (in.Cmd == "ENV" || in.Cmd == "RUN") && strings.Contains(in.Args, "CGO_ENABLED=0")
	}
	if !static {
		t.Errorf("the Dockerfile does not set CGO_ENABLED=0: the binaries would not be static")
	}
	expand := func(line int, s string) string {
		return os.Expand(s, func(name string) string {
			if !declared[name] {
				t.Errorf("Dockerfile:%d: $%s is not an ARG of the build stage (it declares %v)", line, name, slices.Sorted(maps.Keys(declared)))
			}
			return args[name]
		})
	}

	want := map[string]string{"./action": "/out/buoy-action", "./cmd/buoy": "/out/buoy"}
	printed := map[string]string{"./action": "buoy-action " + version, "./cmd/buoy": "buoy version " + version}
	built := map[string]bool{}
	root := repoRoot(t)
	for _, b := range goBuilds(t) {
		pkg := b.Args[len(b.Args)-1]
		cmdline := strings.Join(b.Args, " ")
		if !strings.Contains(cmdline, "-trimpath") {
			t.Errorf("Dockerfile:%d: %s is built without -trimpath", b.Line, pkg)
		}
		if !strings.Contains(cmdline, "-X main.version=$VERSION") {
			t.Errorf("Dockerfile:%d: %s is built without -X main.version=$VERSION: it would not say its version", b.Line, pkg)
		}
		if !slices.Contains(b.Env, "GOOS=$TARGETOS") || !slices.Contains(b.Env, "GOARCH=$TARGETARCH") {
			t.Errorf("Dockerfile:%d: %s is built with %v, want GOOS=$TARGETOS GOARCH=$TARGETARCH (the build stage runs on the builder's platform)", b.Line, pkg, b.Env)
		}
		out := ""
		goArgs := make([]string, len(b.Args))
		for i, a := range b.Args {
			goArgs[i] = expand(b.Line, a)
			if i > 0 && b.Args[i-1] == "-o" {
				out = a
				goArgs[i] = filepath.Join(t.TempDir(), filepath.Base(a))
			}
		}
		if want[pkg] != out {
			t.Errorf("Dockerfile:%d: builds %s to %q, want %q", b.Line, pkg, out, want[pkg])
			continue
		}
		built[pkg] = true
		cmd := exec.Command("go", goArgs...) //nolint:gosec // the Dockerfile's own command
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		for _, e := range b.Env {
			cmd.Env = append(cmd.Env, expand(b.Line, e))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(goArgs, " "), err, out)
			continue
		}
		bin := goArgs[slices.Index(goArgs, "-o")+1]
		got, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Errorf("%s --version: %v", bin, err)
		}
		if strings.TrimSpace(string(got)) != printed[pkg] {
			t.Errorf("%s built by the Dockerfile says %q, want %q", pkg, strings.TrimSpace(string(got)), printed[pkg])
		}
	}
	for pkg := range want {
		if !built[pkg] {
			t.Errorf("the Dockerfile does not build %s", pkg)
		}
	}

	// The final stage labels the image with the version (ARG VERSION
	// again: an ARG ends with its stage).
	var versionArg, labelled bool
	for _, in := range stages[len(stages)-1].Instructions {
		versionArg = versionArg || in.Cmd == "ARG" && (in.Args == "VERSION" || strings.HasPrefix(in.Args, "VERSION="))
		labelled = labelled || versionArg && in.Cmd == "LABEL" && strings.Contains(in.Args, "org.opencontainers.image.version=$VERSION")
	}
	if !labelled {
		t.Error("the final stage does not declare ARG VERSION and LABEL org.opencontainers.image.version=$VERSION")
	}
}
