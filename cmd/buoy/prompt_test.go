package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

func promptProject() *manifest.Project {
	return &manifest.Project{ID: "shop", Environments: []*manifest.Environment{
		{ID: "stage"}, {ID: "prod", Protected: true, PromotesFrom: "stage"}}}
}

func TestAskOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		terminal bool
		input    string
		env      string
		from     string
		wantEnv  string
		wantErr  error
		wantText string
	}{
		{name: "terminal picks the environment", terminal: true, input: "stage\n", wantEnv: "stage"},
		{name: "terminal confirms prod", terminal: true, input: "prod\ny\n", wantEnv: "prod"},
		{name: "terminal declines prod", terminal: true, input: "prod\nn\n", wantErr: deploy.ErrConfirmationRequired},
		{name: "no terminal, no environment", wantText: "missing --environment"},
		{name: "no terminal, protected", env: "prod", wantErr: deploy.ErrConfirmationRequired, wantText: "--yes"},
		{name: "no terminal, promotion from the source", env: "prod", from: "stage", wantEnv: "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errb bytes.Buffer
			a := &app{stdin: strings.NewReader(tt.input), stderr: &errb, terminal: tt.terminal,
				getenv: func(string) string { return "" }}
			p := promptProject()
			req, err := a.request(p, &requestFlags{environment: tt.env}, "deploy to")
			if err == nil {
				err = a.confirm(p, &req, tt.from)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error: got %v, want %v", err, tt.wantErr)
			}
			if tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)) {
				t.Fatalf("error: got %v, want it to say %q", err, tt.wantText)
			}
			if tt.wantEnv != "" && (err != nil || req.Environment != tt.wantEnv) {
				t.Errorf("got environment %q, error %v; want %q", req.Environment, err, tt.wantEnv)
			}
			if !tt.terminal && errb.Len() > 0 {
				t.Errorf("asked without a terminal: %q", errb.String())
			}
		})
	}
}
