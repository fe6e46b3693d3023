package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
)

// actionMetadata is the part of action.yml the tests check: what the
// runner reads of it.
type actionMetadata = cihost.ActionMetadata

// repoRoot is where action.yml, the Dockerfile and examples/ live.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readActionYML(t testing.TB) actionMetadata {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var m actionMetadata
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(false)
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	return m
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestActionYMLDeclaresWhatTheCodeUses(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	if got, want := keys(m.Inputs), sorted(inputNames()); !slices.Equal(got, want) {
		t.Errorf("action.yml inputs = %v,\ncode reads %v", got, want)
	}
	if got, want := keys(m.Outputs), sorted(outputNames()); !slices.Equal(got, want) {
		t.Errorf("action.yml outputs = %v,\ncode writes %v", got, want)
	}
}

func TestActionYMLShape(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	if m.Name == "" || m.Description == "" || m.Branding.Icon == "" || m.Branding.Color == "" {
		t.Errorf("action.yml needs name, description and branding; got %q, %q, %+v", m.Name, m.Description, m.Branding)
	}
	if m.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite: a container action pulls or builds an image on every job", m.Runs.Using)
	}
	for name, in := range m.Inputs {
		if strings.ToLower(name) != name || strings.ContainsAny(name, " _") {
			t.Errorf("input %q is not kebab-case", name)
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if in.Required {
			t.Errorf("input %s is required: the runner does not enforce it and the code validates per command; make it optional", name)
		}
		if in.Default == nil {
			t.Errorf("input %s has no default: give one (\"\" for none) so INPUT_ variables are always set", name)
		}
	}
	for name, out := range m.Outputs {
		if out.Description == "" {
			t.Errorf("output %s has no description", name)
		}
	}
	commandHelp := m.Inputs[inCommand].Description
	for _, c := range entry.Operations() {
		if !strings.Contains(commandHelp, string(c)) {
			t.Errorf("the command input's description does not mention %s", c)
		}
	}
	if d := m.Inputs[inCommand].Default; d == nil || *d != string(entry.ReleaseDeploy) {
		t.Errorf("command default = %v, want release-deploy", d)
	}
}

// TestCompositeRunsTheBinaryAsTheRunnerRunsAnAction: a composite action
// gets no INPUT_ variables from the runner, so action.yml's step that
// runs the binary passes each input itself, under the name the runner
// gives an action's input (INPUT_ + the name upper-cased, spaces as _,
// hyphens kept), which the binary reads with go-githubactions; and each
// output of the action is that step's output of the same name. With
// TestActionYMLDeclaresWhatTheCodeUses this keeps the code's inputs and
// outputs, action.yml's and what reaches the binary the same.
func TestCompositeRunsTheBinaryAsTheRunnerRunsAnAction(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	steps := map[string]int{}
	for i, s := range m.Runs.Steps {
		steps[s.ID] = i
		if s.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash (Git Bash on Windows runners)", s.ID, s.Shell)
		}
		// An expression in run: is pasted into the script before bash
		// reads it; through env: it is only ever a value.
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q: run: holds an expression (%q): pass it through env: instead", s.ID, s.Run)
		}
	}
	i, ok := steps["buoy"]
	if !ok {
		t.Fatalf("action.yml has no step with id buoy (the one that runs buoy-action); steps: %v", keys(steps))
	}
	run := m.Runs.Steps[i]
	var passed []string
	for name, value := range run.Env {
		if !strings.HasPrefix(name, "INPUT_") {
			continue
		}
		passed = append(passed, name)
		input := strings.ToLower(strings.TrimPrefix(name, "INPUT_"))
		if want := "${{ inputs." + input + " }}"; value != want {
			t.Errorf("step buoy: env %s = %q, want %q", name, value, want)
		}
	}
	var want []string
	for name := range m.Inputs {
		want = append(want, "INPUT_"+strings.ToUpper(strings.ReplaceAll(name, " ", "_")))
	}
	if got := sorted(passed); !slices.Equal(got, sorted(want)) {
		t.Errorf("step buoy passes %v,\nthe inputs action.yml declares are %v", got, sorted(want))
	}
	for name, out := range m.Outputs {
		if want := "${{ steps.buoy.outputs." + name + " }}"; out.Value != want {
			t.Errorf("output %s: value %q, want %q", name, out.Value, want)
		}
	}
	install, ok := steps["install"]
	if !ok || install > i {
		t.Fatalf("action.yml has no step install before step buoy (steps: %v)", keys(steps))
	}
	if script := m.Runs.Steps[install].Run; !strings.Contains(script, "$GITHUB_ACTION_PATH/action/install.sh") {
		t.Errorf("step install runs %q, want action/install.sh from the action's path", script)
	}
	if bin := run.Env["BUOY_ACTION_BIN"]; bin != "${{ steps.install.outputs.bin }}" || !strings.Contains(run.Run, "$BUOY_ACTION_BIN") {
		t.Errorf("step buoy runs %q with BUOY_ACTION_BIN %q, want the binary step install put on disk", run.Run, bin)
	}
}

// TestEmptyIsRefusedWhereTheDefaultIsNot: the inputs the action refuses
// when the step passes them empty are exactly those whose action.yml
// default is not empty (the runner passes those empty only when the step
// does), and the release input's default is the word the action reads as
// the latest release.
func TestEmptyIsRefusedWhereTheDefaultIsNot(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	var want []string
	for name, in := range m.Inputs {
		if in.Default != nil && *in.Default != "" {
			want = append(want, name)
		}
	}
	if got := sorted(noEmptyInputs()); !slices.Equal(got, sorted(want)) {
		t.Errorf("noEmptyInputs = %v,\nthe inputs with a default in action.yml are %v", got, sorted(want))
	}
	if d := m.Inputs[inRelease].Default; d == nil || *d != inputcheck.LatestRelease {
		t.Errorf("release default = %v, want %q", d, inputcheck.LatestRelease)
	}
}

// workflow is the part of a workflow file the tests check.
type workflow struct {
	Jobs map[string]struct {
		Steps []struct {
			Uses string         `yaml:"uses"`
			With map[string]any `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// usesBuoy says whether a step's uses: names this action.
func usesBuoy(uses string) bool {
	return uses == "./" || strings.HasPrefix(uses, "buoy-deploy/buoy@")
}

func TestWorkflowsUseOnlyDeclaredInputs(t *testing.T) {
	t.Parallel()
	m := readActionYML(t)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "github", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	local, err := filepath.Glob(filepath.Join("testdata", "workflows", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, local...)
	if len(files) < 4 {
		t.Fatalf("found %d workflows (%v), want the three examples and the local test workflow", len(files), files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var w workflow
		if err := yaml.Unmarshal(b, &w); err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		steps := 0
		for job, j := range w.Jobs {
			for i, s := range j.Steps {
				if !usesBuoy(s.Uses) {
					continue
				}
				steps++
				for k := range s.With {
					if _, ok := m.Inputs[k]; !ok {
						t.Errorf("%s: job %s step %d sets input %q, which action.yml does not declare", f, job, i+1, k)
					}
				}
			}
		}
		if steps == 0 {
			t.Errorf("%s has no step that uses buoy", f)
		}
	}
}
