package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildActionlint builds the pinned actionlint (tools/actionlint/go.mod).
func buildActionlint(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "actionlint")
	cmd := exec.Command("go", "build", "-modfile=tools/actionlint/go.mod", "-o", bin, "github.com/rhysd/actionlint/cmd/actionlint")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build actionlint: %v\n%s", err, out)
	}
	return bin
}

// localProject makes a throwaway repository that actionlint accepts as a
// project (.git and .github/workflows) with action.yml at its root, so
// that `uses: ./` resolves to this action.
func localProject(t *testing.T, workflows map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{".git", filepath.Join(".github", "workflows")} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"action.yml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range workflows {
		if err := os.WriteFile(filepath.Join(dir, ".github", "workflows", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func actionlint(t *testing.T, bin, dir string, files ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-color=false"}, files...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestActionlint(t *testing.T) {
	t.Parallel()
	bin := buildActionlint(t)

	t.Run("examples", func(t *testing.T) {
		t.Parallel()
		files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "github", "*.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) < 3 {
			t.Fatalf("found %d example workflows, want at least 3", len(files))
		}
		if out, err := actionlint(t, bin, repoRoot(t), files...); err != nil {
			t.Errorf("actionlint examples/github: %v\n%s", err, out)
		}
	})

	local, err := os.ReadFile(filepath.Join("testdata", "workflows", "local.yml"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("local action against action.yml", func(t *testing.T) {
		t.Parallel()
		dir := localProject(t, map[string][]byte{"local.yml": local})
		if out, err := actionlint(t, bin, dir); err != nil {
			t.Errorf("actionlint with uses: ./: %v\n%s", err, out)
		}
	})

	// The check above only means something if actionlint really reads
	// action.yml: a misspelt input and output must be caught.
	t.Run("catches an undeclared input and output", func(t *testing.T) {
		t.Parallel()
		bad := strings.Replace(string(local), "          table: buoy", "          tabel: buoy", 1)
		bad = strings.Replace(bad, "outputs.release-id", "outputs.release", 1)
		dir := localProject(t, map[string][]byte{"bad.yml": []byte(bad)})
		out, err := actionlint(t, bin, dir)
		if err == nil {
			t.Fatalf("actionlint accepted a workflow with an undeclared input and output:\n%s", bad)
		}
		for _, want := range []string{`input "tabel" is not defined`, `property "release" is not defined`} {
			if !strings.Contains(out, want) {
				t.Errorf("actionlint output lacks %q:\n%s", want, out)
			}
		}
	})
}
