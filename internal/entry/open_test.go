package entry_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/buoy-deploy/buoy/internal/badinput"
	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
)

const legacy = "../../examples/legacy/catalogue_api_2019.wellcome_project"

// TestOpen: Open finds the manifest, loads the AWS configuration with the
// entrypoint's region and profile, says what to do in the entrypoint's
// words when it cannot, hands the limits and options to the library and
// reports the manifest's warnings as events.
func TestOpen(t *testing.T) {
	t.Parallel()
	shop := filepath.Join(t.TempDir(), "buoy.yaml")
	if err := os.WriteFile(shop, []byte(badinput.EntrypointManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	region := func(r string) func(context.Context, string, string) (aws.Config, error) {
		return func(context.Context, string, string) (aws.Config, error) { return aws.Config{Region: r}, nil }
	}
	advice := entry.Advice{Manifest: "set the manifest input", Region: "set the aws-region input", Credentials: "give the agent credentials"}
	tests := []struct {
		name    string
		cfg     entry.Config
		wantErr error
		want    string // in the error
	}{
		{name: "opens", cfg: entry.Config{Manifest: shop, LoadAWS: region("eu-west-1"), Advice: advice}},
		{name: "no region, none needed", cfg: entry.Config{Manifest: shop, LoadAWS: region("")}},
		{name: "no region, one needed", cfg: entry.Config{Manifest: shop, LoadAWS: region(""), Advice: advice},
			wantErr: deploy.ErrInvalidInput, want: "no AWS region: set the aws-region input"},
		{name: "no credentials", cfg: entry.Config{Manifest: shop, Advice: advice,
			LoadAWS: func(context.Context, string, string) (aws.Config, error) {
				return aws.Config{}, errors.New("no profile x")
			}},
			want: "load AWS configuration: no profile x: give the agent credentials"},
		{name: "manifest does not exist", cfg: entry.Config{Manifest: shop + ".gone", LoadAWS: region("eu-west-1")},
			wantErr: deploy.ErrInvalidInput, want: "does not exist"},
		{name: "unknown project", cfg: entry.Config{Manifest: shop, Project: "nope", LoadAWS: region("eu-west-1")},
			wantErr: deploy.ErrInvalidInput, want: `no project "nope"`},
		{name: "limits reach the library", cfg: entry.Config{Manifest: shop, LoadAWS: region("eu-west-1"),
			Limits: func() inputcheck.Limits { l := inputcheck.DefaultLimits(); l.LockTTL = time.Second; return l }()},
			wantErr: deploy.ErrInvalidInput, want: "lock TTL 1s is below the minimum"},
		{name: "options reach the library", cfg: entry.Config{Manifest: shop, LoadAWS: region("eu-west-1"),
			Options: []deploy.Option{deploy.WithConcurrency(0)}},
			wantErr: deploy.ErrInvalidInput, want: "concurrency must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Store = history.NewMemory()
			d, err := entry.Open(context.Background(), tt.cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Open: %v", err)
			case tt.want == "" && d.Project().ID != "shop":
				t.Errorf("opened project %s, want shop", d.Project().ID)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Open: got %v, want an error saying %q", err, tt.want)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Open: got %v, want %v", err, tt.wantErr)
			case err != nil && d != nil:
				t.Errorf("Open returned a Deployer with %v", err)
			}
		})
	}
}

// TestOpenPassesRegionAndProfile: the region and profile given reach
// the AWS configuration's loader.
func TestOpenPassesRegionAndProfile(t *testing.T) {
	t.Parallel()
	var gotRegion, gotProfile string
	_, err := entry.Open(context.Background(), entry.Config{Manifest: legacy, Region: "eu-west-2", Profile: "ops", Store: history.NewMemory(),
		LoadAWS: func(_ context.Context, region, profile string) (aws.Config, error) {
			gotRegion, gotProfile = region, profile
			return aws.Config{Region: region}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if gotRegion != "eu-west-2" || gotProfile != "ops" {
		t.Errorf("loaded region %q, profile %q; want eu-west-2 and ops", gotRegion, gotProfile)
	}
}

// TestOpenReportsWarnings: each warning of the manifest is an
// event.Warning pointing at its line, also when the project cannot be
// opened.
func TestOpenReportsWarnings(t *testing.T) {
	t.Parallel()
	m, err := manifest.Load(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) == 0 {
		t.Fatalf("%s has no warnings to report", legacy)
	}
	var want []event.Event
	for _, w := range m.Warnings {
		want = append(want, event.Event{Kind: event.Warning, File: w.Pos.File, Line: w.Pos.Line, Column: w.Pos.Column, Message: w.String()})
	}
	for _, project := range []string{"", "nope"} {
		var got event.Recorder
		_, err := entry.Open(context.Background(), entry.Config{Manifest: legacy, Project: project, Store: history.NewMemory(), Sink: &got,
			LoadAWS: func(context.Context, string, string) (aws.Config, error) { return aws.Config{Region: "eu-west-1"}, nil }})
		if (err != nil) != (project == "nope") {
			t.Errorf("project %q: Open: %v", project, err)
		}
		var warnings []event.Event
		for _, e := range got.Events() {
			if e.Kind == event.Warning {
				warnings = append(warnings, e)
			}
		}
		if len(warnings) != len(want) {
			t.Fatalf("project %q: warnings %v, want %v", project, warnings, want)
		}
		for i := range want {
			if warnings[i] != want[i] {
				t.Errorf("project %q: warning %d:\ngot  %+v\nwant %+v", project, i, warnings[i], want[i])
			}
		}
	}
}

// TestOpenFindsTheManifest: with no path, Open takes buoy.yaml from the
// working directory, and says in the entrypoint's words how to name one
// when there is none. (It changes directory: not parallel.)
func TestOpenFindsTheManifest(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg := entry.Config{Store: history.NewMemory(), Advice: entry.Advice{Manifest: "pass --manifest with its path"},
		LoadAWS: func(context.Context, string, string) (aws.Config, error) { return aws.Config{Region: "eu-west-1"}, nil }}
	_, err := entry.Open(context.Background(), cfg)
	if !errors.Is(err, deploy.ErrInvalidInput) || !errors.Is(err, manifest.ErrNotFound) ||
		!strings.HasSuffix(err.Error(), "write a buoy.yaml (see docs/manifest.md) or pass the manifest path; or pass --manifest with its path") {
		t.Errorf("Open with no manifest: got %v, want ErrInvalidInput and manifest.ErrNotFound ending with the advice", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "buoy.yaml"), []byte(badinput.EntrypointManifest()), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := entry.Open(context.Background(), cfg)
	if err != nil || d.Project().ID != "shop" {
		t.Errorf("Open with buoy.yaml here: got %v, want project shop", err)
	}
}

// TestOpenReadsTheNotifyVariables: Open reads the variables the
// manifest's notify targets name through the entrypoint's Getenv, has
// Mask hide each value found before the library gets it, and a
// deployment that needs a variable not set fails before it calls AWS,
// naming it.
func TestOpenReadsTheNotifyVariables(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "buoy.yaml")
	withNotify := strings.Replace(badinput.EntrypointManifest(), "    environments:\n", `    notify:
      - slack: {webhook_url_env: SLACK_WEBHOOK_URL}
      - webhook: {url: "https://deploys.example.com/buoy", secret_env: BUOY_WEBHOOK_SECRET}
    environments:
`, 1)
	if err := os.WriteFile(path, []byte(withNotify), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/SECRETPATH", "UNRELATED": "x"}
	var read, masked []string
	d, err := entry.Open(context.Background(), entry.Config{Manifest: path, Store: history.NewMemory(),
		LoadAWS: func(context.Context, string, string) (aws.Config, error) { return aws.Config{Region: "eu-west-1"}, nil },
		Getenv:  func(name string) string { read = append(read, name); return env[name] },
		Mask:    func(v string) { masked = append(masked, v) }})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if want := []string{"BUOY_WEBHOOK_SECRET", "SLACK_WEBHOOK_URL"}; !slices.Equal(read, want) {
		t.Errorf("read %q, want %q", read, want)
	}
	if want := []string{env["SLACK_WEBHOOK_URL"]}; !slices.Equal(masked, want) {
		t.Errorf("masked %q, want %q", masked, want)
	}
	_, err = d.ReleaseDeploy(context.Background(), deploy.ReleaseDeployInput{Request: deploy.Request{Environment: "stage", RequestedBy: "ci"}})
	if !errors.Is(err, deploy.ErrInvalidInput) || !strings.Contains(err.Error(), "environment variable BUOY_WEBHOOK_SECRET, the signing secret of notify target webhook https://deploys.example.com/buoy") {
		t.Errorf("ReleaseDeploy: got %v, want bad input naming BUOY_WEBHOOK_SECRET", err)
	}
	if strings.Contains(err.Error(), "SECRETPATH") {
		t.Errorf("the error quotes a secret: %v", err)
	}
}

// TestLoadAWSUnknownProfileIsBadInput: a profile (--profile, the Action's
// and plugin's AWS_PROFILE) that no shared config file has is bad input
// (exit 2) naming it and saying what to do, not an AWS failure; a profile
// that is there loads.
func TestLoadAWSUnknownProfileIsBadInput(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[profile deploy]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	_, err := entry.LoadAWS(context.Background(), "", "depoly")
	if !errors.Is(err, deploy.ErrInvalidInput) {
		t.Fatalf("LoadAWS with an unknown profile: got %v, want bad input", err)
	}
	for _, want := range []string{`AWS profile "depoly"`, "aws configure list-profiles", "--profile"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	cfg, err := entry.LoadAWS(context.Background(), "", "deploy")
	if err != nil || cfg.Region != "eu-west-1" {
		t.Errorf("LoadAWS with the profile of the config file: got region %q, %v; want eu-west-1", cfg.Region, err)
	}
}
