package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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

// goBuilds returns the go build commands of the Dockerfile as argument
// lists, with their package.
func goBuilds(t *testing.T) [][]string {
	t.Helper()
	var builds [][]string
	for _, st := range parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile")) {
		for _, in := range st.Instructions {
			if in.Cmd != "RUN" || !strings.HasPrefix(in.Args, "go build") {
				continue
			}
			builds = append(builds, shellWords(t, in.Args))
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

func TestDockerfileBuildsTheRepositorysBinaries(t *testing.T) {
	t.Parallel()
	builds := goBuilds(t)
	want := map[string]string{"./action": "/out/buoy-action", "./cmd/buoy": "/out/buoy"}
	static := false
	for _, st := range parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile")) {
		for _, in := range st.Instructions {
			static = static || (in.Cmd == "ENV" || in.Cmd == "RUN") && strings.Contains(in.Args, "CGO_ENABLED=0")
		}
	}
	if !static {
		t.Errorf("the Dockerfile does not set CGO_ENABLED=0: the binaries would not be static")
	}
	got := map[string]string{}
	for _, args := range builds {
		pkg := args[len(args)-1]
		out := ""
		for i, a := range args {
			if a == "-o" && i+1 < len(args) {
				out = args[i+1]
			}
		}
		got[pkg] = out
		if !strings.Contains(strings.Join(args, " "), "-trimpath") {
			t.Errorf("%s is built without -trimpath", pkg)
		}
	}
	for pkg, out := range want {
		if got[pkg] != out {
			t.Errorf("Dockerfile builds %s to %q, want %q", pkg, got[pkg], out)
		}
	}

	root := repoRoot(t)
	for _, args := range builds {
		for i, a := range args {
			if a == "-o" {
				args[i+1] = filepath.Join(t.TempDir(), filepath.Base(args[i+1]))
			}
		}
		cmd := exec.Command("go", args[1:]...) //nolint:gosec // the Dockerfile's own command
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s: %v\n%s", strings.Join(args[1:], " "), err, out)
		}
	}
}
