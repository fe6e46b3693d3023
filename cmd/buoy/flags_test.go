package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
)

// commandFlags returns the flags of each of buoy's commands (not help or
// completion), without --help and hidden aliases.
func commandFlags() map[string][]string {
	out := map[string][]string{}
	for _, c := range newRootCommand(&app{}).Commands() {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Name != "help" {
				names = append(names, "--"+f.Name)
			}
		})
		slices.Sort(names)
		out[c.Name()] = names
	}
	return out
}

// TestFlagsOfEveryCommandAreDocumented: docs/cli.md's table of flags per
// command lists exactly the flags each command takes.
func TestFlagsOfEveryCommandAreDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "\n## Flags per command\n")
	if !ok {
		t.Fatal("docs/cli.md has no section ## Flags per command")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| (.*) \\|$")
	flag := regexp.MustCompile("`(--[a-z-]+)`")
	documented := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		var names []string
		for _, f := range flag.FindAllStringSubmatch(m[2], -1) {
			names = append(names, f[1])
		}
		slices.Sort(names)
		documented[m[1]] = names
	}
	code := commandFlags()
	for cmd, want := range code {
		got, ok := documented[cmd]
		switch {
		case !ok:
			t.Errorf("buoy %s is not in docs/cli.md's table of flags per command", cmd)
		case !slices.Equal(got, want):
			t.Errorf("buoy %s: docs/cli.md lists %v, the command takes %v", cmd, got, want)
		}
	}
	for cmd := range documented {
		if _, ok := code[cmd]; !ok {
			t.Errorf("docs/cli.md lists flags of buoy %s, which is no command", cmd)
		}
	}
}

// TestEveryCommandTakesVerboseAndOutput: -v is --verbose on every
// command, and every command prints text or JSON (--output).
func TestEveryCommandTakesVerboseAndOutput(t *testing.T) {
	t.Parallel()
	for _, c := range newRootCommand(&app{}).Commands() {
		if v := c.Flags().ShorthandLookup("v"); v == nil || v.Name != "verbose" {
			t.Errorf("buoy %s: -v is %v, want --verbose", c.Name(), v)
		}
		if c.Flags().Lookup("output") == nil {
			t.Errorf("buoy %s takes no --output", c.Name())
		}
	}
}

// writeManifest writes the entrypoints' test manifest (project shop,
// stage and prod) into a new directory and returns its path.
func writeManifest(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "buoy.yaml")
	if err := os.WriteFile(path, []byte(badinput.EntrypointManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runBuoy runs buoy with args, AWS at a closed port (every call fails at
// once) unless store is set, and returns the exit code and what it
// wrote.
func runBuoy(t *testing.T, store history.Store, args ...string) (int, string, string) {
	t.Helper()
	closed := entrytest.ClosedPort(t)
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, store: store,
		awsConfig: func(context.Context, string, string) (aws.Config, error) {
			return aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(closed), Credentials: aws.AnonymousCredentials{}}, nil
		}}
	code := a.main(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestFlagsACommandWouldIgnoreAreBadInput: a flag a command does not
// take, or that another flag given leaves ignored, is exit 2 before
// anything is done, saying what to write instead.
func TestFlagsACommandWouldIgnoreAreBadInput(t *testing.T) {
	t.Parallel()
	m := writeManifest(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plan: --rollback", []string{"plan", "-e", "stage", "--rollback"},
			"buoy plan takes no --rollback (deploy, promote, release-deploy and rollback take it)"},
		{"plan: --yes", []string{"plan", "-e", "prod", "--yes"}, "buoy plan takes no --yes"},
		{"plan: -y", []string{"plan", "-e", "prod", "-y"}, "buoy plan takes no -y (deploy, promote, release-deploy and rollback take it)"},
		{"plan: --timeout", []string{"plan", "-e", "stage", "--timeout", "5m"}, "buoy plan takes no --timeout"},
		{"plan: --lock-wait", []string{"plan", "-e", "stage", "--lock-wait", "1m"}, "buoy plan takes no --lock-wait"},
		{"plan: --description", []string{"plan", "-e", "stage", "--description", "x"}, "buoy plan takes no --description"},
		{"plan: --no-wait", []string{"plan", "-e", "stage", "--no-wait"}, "buoy plan takes no --no-wait"},
		{"plan: --dry-run", []string{"plan", "-e", "stage", "--dry-run"}, "buoy plan takes no --dry-run"},
		{"plan: misspelt, of another command", []string{"plan", "-e", "stage", "--rollbak"},
			"buoy plan takes no --rollbak (did you mean --rollback? deploy, promote, release-deploy and rollback take it"},
		{"deploy: misspelt", []string{"deploy", "--envionment", "stage"}, "buoy deploy takes no --envionment: did you mean --environment?"},
		{"validate: --region", []string{"validate", "--region", "eu-west-1"}, "buoy validate takes no --region"},
		{"validate: --table", []string{"validate", "--table", "t"}, "buoy validate takes no --table"},
		{"validate: --profile", []string{"validate", "--profile", "p"}, "buoy validate takes no --profile"},
		{"-v at the root", []string{"-v"}, "-v is --verbose, which goes after a command (buoy status -v); buoy's version is --version"},
		{"--verbose at the root", []string{"--verbose"}, "-v is --verbose, which goes after a command"},
		{"iam-policy: --output text", []string{"iam-policy", "--output", "text"}, "--output must be json for iam-policy"},
		{"iam-policy: --region and --profile", []string{"iam-policy", "--region", "eu-west-1", "--profile", "p"},
			"pass --region or --profile, not both"},
		{"--no-wait and --timeout", []string{"deploy", "-e", "stage", "--no-wait", "--timeout", "5m"}, "pass --no-wait or --timeout, not both"},
		{"--no-wait and --rollback", []string{"release-deploy", "-e", "stage", "--no-wait", "--rollback"}, "pass --no-wait or --rollback, not both"},
		{"--rollback-timeout without --rollback", []string{"promote", "-e", "prod", "--rollback-timeout", "10m"},
			"--rollback-timeout needs --rollback"},
		{"plan: --release and --from-label", []string{"plan", "-e", "stage", "--release", "01J", "--from-label", "latest"},
			"pass --release or --from-label, not both"},
		{"plan: --release and --from-environment", []string{"plan", "-e", "prod", "--release", "01J", "--from-environment", "stage"},
			"pass --release or --from-environment, not both"},
		{"plan: --from-environment and --from-label", []string{"plan", "-e", "prod", "--from-environment", "stage", "--from-label", "x"},
			"pass --from-environment or --from-label, not both"},
		{"metrics: --since in words", []string{"metrics", "-e", "stage", "--since", "last week"},
			`--since "last week" is neither a duration back from now (30d, 2w, 12h, 90m) nor a date`},
		{"ecs-deploy: --no-wait and -t", []string{"ecs-deploy", "-c", "c", "-n", "s", "-i", "r/a", "--no-wait", "-t", "60"},
			"pass --no-wait or --timeout, not both"},
		{"ecs-deploy: --no-wait and --enable-rollback", []string{"ecs-deploy", "-c", "c", "-n", "s", "-i", "r/a", "--no-wait", "--enable-rollback"},
			"pass --no-wait or --enable-rollback, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if len(args) > 0 && args[0] != "ecs-deploy" && !strings.HasPrefix(args[0], "-") {
				args = append(slices.Clone(args), "--manifest", m)
			}
			code, out, stderr := runBuoy(t, history.NewMemory(), args...)
			if code != exitcode.BadInput {
				t.Errorf("exit code: got %d, want %d\nstderr: %s", code, exitcode.BadInput, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr: got %q, want it to say %q", stderr, tt.want)
			}
			if out != "" || strings.Contains(stderr, "AWS call") || strings.Contains(stderr, "cannot reach") {
				t.Errorf("buoy did something before refusing: stdout %q, stderr %q", out, stderr)
			}
		})
	}
}

// TestVerboseOnEveryCommand: -v turns on the debug log of every command:
// each AWS call it makes (here to a closed port, so the first fails) or,
// for the commands that call none, what they decided.
func TestVerboseOnEveryCommand(t *testing.T) {
	t.Parallel()
	m := writeManifest(t)
	args := map[string][]string{
		"init":           {"--manifest", m},
		"validate":       {"--manifest", m},
		"prepare":        {"--manifest", m},
		"deploy":         {"--manifest", m, "-e", "stage"},
		"release-deploy": {"--manifest", m, "-e", "stage"},
		"promote":        {"--manifest", m, "-e", "prod"},
		"rollback":       {"--manifest", m, "-e", "stage"},
		"plan":           {"--manifest", m, "-e", "stage"},
		"status":         {"--manifest", m},
		"history":        {"--manifest", m},
		"metrics":        {"--manifest", m, "-e", "stage"},
		"import-history": {"--manifest", m, "--weco-table", "wellcome-releases-shop"},
		"unlock":         {"--manifest", m, "-e", "stage", "--reason", "test"},
		"show-release":   {"--manifest", m},
		"iam-policy":     {"--manifest", m},
		"ecs-deploy":     {"-c", "shop", "-n", "api", "-i", "shop/api:latest"},
	}
	want := map[string]string{"validate": `msg="manifest read"`, "iam-policy": `msg="history table's region"`}
	for _, c := range newRootCommand(&app{}).Commands() {
		t.Run(c.Name(), func(t *testing.T) {
			t.Parallel()
			a, ok := args[c.Name()]
			if !ok {
				t.Fatalf("no arguments for buoy %s: add them to this test", c.Name())
			}
			w := want[c.Name()]
			if w == "" {
				w = `msg="AWS call"`
			}
			_, _, stderr := runBuoy(t, nil, append([]string{c.Name(), "-v"}, a...)...)
			if !strings.Contains(stderr, "level=DEBUG") || !strings.Contains(stderr, w) {
				t.Errorf("buoy %s -v: stderr lacks a debug line %s:\n%s", c.Name(), w, stderr)
			}
			_, _, quiet := runBuoy(t, nil, append([]string{c.Name()}, a...)...)
			if strings.Contains(quiet, "level=DEBUG") {
				t.Errorf("buoy %s without -v logged:\n%s", c.Name(), quiet)
			}
		})
	}
}

// TestJSONOfTheCommandsThatCallNoAWS: validate, init (with the tests'
// store) and iam-policy print one JSON object with --output json.
func TestJSONOfTheCommandsThatCallNoAWS(t *testing.T) {
	t.Parallel()
	m := writeManifest(t)
	for _, args := range [][]string{
		{"validate", "--manifest", m, "--output", "json"},
		{"init", "--manifest", m, "--output", "json"},
		{"iam-policy", "--manifest", m, "--output", "json"},
		{"iam-policy", "--manifest", m},
	} {
		code, out, stderr := runBuoy(t, history.NewMemory(), args...)
		var v map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
			t.Errorf("buoy %s: exit %d, stdout %q (stderr %q); want 0 and one JSON object", strings.Join(args, " "), code, out, stderr)
		}
	}
}
