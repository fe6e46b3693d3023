package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

// completeArgs runs buoy's hidden __complete command, as the shells'
// completion scripts do, and returns the completions it printed (without
// the directive line) and the directive.
func completeArgs(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	if code := a.main(context.Background(), append([]string{"__complete"}, args...)); code != 0 {
		t.Fatalf("__complete %q: exit %d\n%s", args, code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

// TestCompletion: the shells complete --project, --environment (-e) and
// --from-environment with the ids the manifest declares, described, and
// never with file names.
func TestCompletion(t *testing.T) {
	t.Parallel()
	const m = "testdata/complete/buoy.yaml"
	const noFiles = ":4" // cobra.ShellCompDirectiveNoFileComp
	all := []string{"stage", "prod\tprotected, promotes from stage", "qa\tpromotes from stage"}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"projects", []string{"status", "--manifest", m, "--project", ""}, []string{"shop\tThe shop", "search"}},
		{"projects by prefix", []string{"deploy", "--manifest", m, "--project", "se"}, []string{"search"}},
		{"environments of every project", []string{"deploy", "--manifest", m, "--environment", ""}, all},
		{"environments, -e", []string{"release-deploy", "--manifest", m, "-e", ""}, all},
		{"environments of --project", []string{"rollback", "--manifest", m, "--project", "search", "-e", ""}, []string{"stage", "qa\tpromotes from stage"}},
		{"environments by prefix", []string{"unlock", "--manifest", m, "-e", "p"}, []string{"prod\tprotected, promotes from stage"}},
		{"from-environment", []string{"promote", "--manifest", m, "--project", "shop", "--from-environment", ""}, []string{"stage", "prod\tprotected, promotes from stage"}},
		{"plan's from-environment", []string{"plan", "--manifest", m, "--from-environment", "q"}, []string{"qa\tpromotes from stage"}},
		{"status's environments", []string{"status", "--manifest", m, "--environment", "s"}, []string{"stage"}},
		{"history's environments", []string{"history", "--manifest", m, "-e", ""}, all},
		{"an unknown project", []string{"deploy", "--manifest", m, "--project", "nope", "-e", ""}, nil},
		{"no manifest", []string{"deploy", "--manifest", "testdata/complete/missing.yaml", "-e", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, directive := completeArgs(t, tt.args...)
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("completions:\ngot  %q\nwant %q", got, tt.want)
			}
			if directive != noFiles {
				t.Errorf("directive: got %s, want %s (no file names)", directive, noFiles)
			}
		})
	}
}

// TestCompletionScripts: cobra's completion command writes a script for
// each shell.
func TestCompletionScripts(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash": "# bash completion V2 for buoy", "zsh": "#compdef buoy", "fish": "# fish completion for buoy",
		"powershell": "# powershell completion for buoy",
	} {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
			if code := a.main(context.Background(), []string{"completion", shell}); code != 0 {
				t.Fatalf("completion %s: exit %d\n%s", shell, code, errb.String())
			}
			if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "__complete") {
				t.Errorf("completion %s: got a script starting %q, want one starting %q that calls buoy __complete", shell, firstLine(out.String()), want)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
