package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entrytest"
	"github.com/buoy-deploy/buoy/internal/exitcode"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

func promptProject() *manifest.Project {
	return &manifest.Project{ID: "shop", Environments: []*manifest.Environment{
		{ID: "stage"}, {ID: "prod", Protected: true, PromotesFrom: "stage"}}}
}

func TestAskForTheEnvironmentOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		terminal bool
		input    string
		env      string
		wantEnv  string
		wantText string
	}{
		{name: "terminal picks the environment", terminal: true, input: "stage\n", wantEnv: "stage"},
		{name: "terminal picks an unknown one", terminal: true, input: "qa\n", wantText: `no environment "qa"`},
		{name: "given, not asked", terminal: true, env: "prod", wantEnv: "prod"},
		{name: "no terminal, no environment", wantText: "missing --environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errb bytes.Buffer
			a := &app{stdin: strings.NewReader(tt.input), stderr: &errb, terminal: tt.terminal,
				getenv: func(string) string { return "" }}
			env, err := a.chooseEnvironment(promptProject(), tt.env, "--environment", "deploy to")
			if tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("error: got %v, want it to say %q", err, tt.wantText)
			}
			if tt.wantEnv != "" && (err != nil || env != tt.wantEnv) {
				t.Errorf("got environment %q, error %v; want %q", env, err, tt.wantEnv)
			}
			if asked := errb.Len() > 0; asked != (tt.terminal && tt.env == "") {
				t.Errorf("asked: %v, want %v (stderr %q)", asked, tt.terminal && tt.env == "", errb.String())
			}
		})
	}
}

// TestProtectedEnvironmentAsksOnlyOnATerminal: the library decides when
// a protected environment needs confirmation; the CLI asks then, on a
// terminal only, and never when --yes, --dry-run or an unprotected
// environment leaves nothing to confirm. A refusal is exit 2 naming
// --yes. What follows a yes (the deployment) is shown by
// TestCLIConfirmsOnATerminal against moto; here AWS is a closed port.
func TestProtectedEnvironmentAsksOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "buoy.yaml")
	protected := strings.Replace(badinput.EntrypointManifest(), "      - id: prod\n", "      - id: prod\n        protected: true\n", 1)
	if err := os.WriteFile(path, []byte(protected), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := entrytest.ClosedPort(t)
	const prompt = "prod is protected. Deploy to it? [y/N] "
	tests := []struct {
		name      string
		terminal  bool
		input     string
		args      []string
		wantAsked bool
		refused   bool
		wantText  []string
	}{
		{name: "terminal declines", terminal: true, input: "n\n", args: []string{"--environment", "prod"}, wantAsked: true, refused: true,
			wantText: []string{"environment prod is protected: not confirmed; pass --yes to confirm"}},
		{name: "terminal answers nothing", terminal: true, input: "\n", args: []string{"--environment", "prod"}, wantAsked: true, refused: true},
		{name: "terminal confirms", terminal: true, input: "yes\n", args: []string{"--environment", "prod"}, wantAsked: true},
		{name: "no terminal", args: []string{"--environment", "prod"}, refused: true,
			wantText: []string{"environment prod is protected: confirm it, or promote from stage; pass --yes to confirm"}},
		{name: "no terminal, --yes", args: []string{"--environment", "prod", "--yes"}},
		{name: "terminal, --yes", terminal: true, args: []string{"--environment", "prod", "--yes"}},
		{name: "terminal, --dry-run", terminal: true, args: []string{"--environment", "prod", "--dry-run"}},
		{name: "terminal, unprotected", terminal: true, args: []string{"--environment", "stage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			a := &app{stdin: strings.NewReader(tt.input), stdout: &out, stderr: &errb, terminal: tt.terminal,
				getenv: func(string) string { return "" }, store: history.NewMemory(),
				awsConfig: func(context.Context, string, string) (aws.Config, error) {
					return aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(closed), Credentials: aws.AnonymousCredentials{}}, nil
				}}
			args := append([]string{"release-deploy", "--manifest", path, "--output", "json"}, tt.args...)
			code := a.main(context.Background(), args)
			stderr := errb.String()
			if asked := strings.Contains(stderr, prompt); asked != tt.wantAsked {
				t.Errorf("asked: %v, want %v\nstderr: %s", asked, tt.wantAsked, stderr)
			}
			if n := strings.Count(stderr, prompt); n > 1 {
				t.Errorf("asked %d times, want once\nstderr: %s", n, stderr)
			}
			refused := strings.Contains(stderr, "protected environment needs confirmation")
			if refused != tt.refused {
				t.Errorf("refused: %v, want %v\nstderr: %s", refused, tt.refused, stderr)
			}
			if tt.refused && code != exitcode.BadInput {
				t.Errorf("exit code: got %d, want %d", code, exitcode.BadInput)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
