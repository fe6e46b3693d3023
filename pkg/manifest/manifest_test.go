package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parseErr parses src and returns its diagnostics, failing when it parses.
func parseErr(t *testing.T, src string) []Diagnostic {
	t.Helper()
	m, err := Parse("m.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded with %d projects, want an error", len(m.Projects))
	}
	var merr *Error
	if !errors.As(err, &merr) {
		t.Fatalf("Parse error is %T (%v), want *Error", err, err)
	}
	return merr.Diagnostics
}

// oneEnvironment is a manifest whose one environment has the keys given
// (flow-style YAML).
func oneEnvironment(keys string) string {
	return "version: 1\nprojects: [{id: p, images: [{id: i, repository: r, services: [s]}], services: [{id: s}], " +
		"environments: [{id: e, targets: [{cluster: c}], " + keys + "}]}]\n"
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	// Nested merge keys, each level merging the one below ten times: a
	// "billion laughs" that a naive walk would expand 10^9 times.
	bomb := "version: 1\nx-m0: &m0 {id: p}\n"
	for i := 1; i < 10; i++ {
		prev := fmt.Sprintf("*m%d", i-1)
		bomb += fmt.Sprintf("x-m%d: &m%d {<<: [%s]}\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 10), ", "))
	}
	bomb += "projects: [{<<: *m9}]\n"
	tests := []struct {
		name, src, want string
	}{
		{"too big", "version: 1\n" + strings.Repeat("#", MaxSize), "more than the 1048576 bytes"},
		{"binary", "version: 1\x00\x01\x02", "not UTF-8 text"},
		{"not utf8", "\xff\xfe\xfd", "not UTF-8 text"},
		{"empty", "", "the manifest is empty"},
		{"comments only", "# nothing\n", "the manifest is empty"},
		{"syntax", "version: 1\nprojects: [\n", "not valid YAML"},
		{"two documents", "version: 1\n---\nversion: 1\n", "more than one YAML document"},
		{"bomb", bomb, "expands to more than"},
		{"scalar legacy", "hello", "must be a mapping"},
		{"too many problems", "version: 1\nprojects: [" + strings.Repeat("1, ", 500) + "]\n", "and 450 more problems"},
		{"version 2", "version: 2\nprojects: []\n", `version "2" is not one this buoy reads`},
		{"no projects", "version: 1\n", "has no projects"},
		{"project is a list", "version: 1\nprojects: [[a]]\n", "project must be a mapping, not a list"},
		{"id is a mapping", "version: 1\nprojects: [{id: {a: b}}]\n", `"id" must be a string, not a mapping`},
		{"bad merge", "version: 1\nprojects: [{<<: 3}]\n", "merge key value must be a mapping"},
		{"legacy no projects", "{}", "has no projects"},
		{"legacy id mismatch", "a: {id: b, image_repositories: [{id: x}], environments: [stage]}", `differs from its key`},
		{"keep_revisions with the tag strategy", oneEnvironment("keep_revisions: 5"), "keep_revisions cleans up the task definition revisions the task-definition strategy registers; strategy tag registers none"},
		{"keep_revisions of 0", oneEnvironment("strategy: task-definition, keep_revisions: 0"), "keep_revisions must be at least 1, not 0"},
		{"keep_revisions not a number", oneEnvironment("strategy: task-definition, keep_revisions: ten"), `keep_revisions must be a whole number, not "ten"`},
		{"keep_revisions a fraction", oneEnvironment("strategy: task-definition, keep_revisions: 2.5"), `keep_revisions must be a whole number, not "2.5"`},
		{"legacy notify", "a: {id: a, image_repositories: [{id: x}], environments: [stage], notify: []}", "a .wellcome_project has no notifications"},
		{"notify key misspelt", notifyManifest("- slack: {webhook_url_evn: SLACK_WEBHOOK_URL}"), `unknown key "webhook_url_evn" in slack (did you mean "webhook_url_env"?)`},
		{"notify event misspelt", notifyManifest("- webhook: {url: https://x.example, secret_env: S}\n        on: [rolback]"), `notify event "rolback" is not known (did you mean "rollback"?)`},
		// An SSM-era environment moves no tag, but names an SSM path.
		{"ssm-era environment id", `{"id": "storage", "environments": [{"id": "prod/eu"}]}`, `environment id "prod/eu" is not valid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			diags := parseErr(t, tt.src)
			var all []string
			for _, d := range diags {
				all = append(all, d.String())
			}
			if got := strings.Join(all, "\n"); !strings.Contains(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant one mentioning %q", got, tt.want)
			}
			for _, d := range diags {
				if d.Pos.File != "m.yaml" {
					t.Errorf("diagnostic %q has file %q, want m.yaml", d, d.Pos.File)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	err := error(&Error{Diagnostics: []Diagnostic{
		{Pos: Position{File: "b.yaml", Line: 3, Column: 5}, Message: "bad", Hint: "write good"},
		{Pos: Position{File: "b.yaml"}, Message: "too big"},
	}})
	want := "b.yaml:3:5: bad (write good)\nb.yaml: too big"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("load: %w", err)
	var merr *Error
	if !errors.As(wrapped, &merr) || len(merr.Diagnostics) != 2 {
		t.Errorf("errors.As(wrapped, *Error) = %v, %+v; want true with 2 diagnostics", merr != nil, merr)
	}
}

const twoProjects = `version: 1
projects:
  - id: a
    images:
      - {id: web, repository: a/web, services: [web, worker]}
      - {id: sidecar, repository: a/sidecar, services: [web]}
    services:
      - id: web
        name: a-web
      - id: worker
    environments:
      - id: stage
        targets: [{cluster: c}]
      - id: prod
        service_names: {web: a-web-prod}
        targets: [{cluster: c}]
  - id: b
    images: [{id: x, repository: b/x, services: [x]}]
    services: [{id: x}]
    environments: [{id: stage, targets: [{cluster: c}]}]
`

func TestLookups(t *testing.T) {
	t.Parallel()
	m, err := Parse("two.yaml", []byte(twoProjects))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Project(""); err == nil || !strings.Contains(err.Error(), "has 2 projects: choose one of a, b") {
		t.Errorf(`Project("") error = %v, want one saying to choose one of a, b`, err)
	}
	if _, err := m.Project("c"); err == nil || !strings.Contains(err.Error(), "one of a, b") {
		t.Errorf(`Project("c") error = %v, want one listing a, b`, err)
	}
	p, err := m.Project("a")
	if err != nil || p.ID != "a" {
		t.Fatalf(`Project("a") = %v, %v; want project a`, p, err)
	}
	if _, err := p.Environment("qa"); err == nil || !strings.Contains(err.Error(), `project a has no environment "qa": use one of stage, prod`) {
		t.Errorf(`Environment("qa") error = %v, want one listing stage, prod`, err)
	}
	if _, err := p.Environment(""); err == nil || !strings.Contains(err.Error(), "no environment given: pass one of stage, prod") {
		t.Errorf(`Environment("") error = %v, want one asking for one of stage, prod`, err)
	}
	if _, err := (&Project{ID: "bare"}).Environment("stage"); err == nil || !strings.Contains(err.Error(), "(none: add environments to the manifest)") {
		t.Errorf(`Environment of a project with none: error = %v, want one saying to add environments`, err)
	}
	prod, err := p.Environment("prod")
	if err != nil {
		t.Fatal(err)
	}
	stage, _ := p.Environment("stage")
	web, _ := p.Service("web")
	worker, _ := p.Service("worker")
	for _, c := range []struct{ got, want string }{
		{prod.ServiceName(web), "a-web-prod"},
		{stage.ServiceName(web), "a-web"},
		{prod.ServiceName(worker), "worker"},
		{prod.ServiceName(&Service{ID: "bare"}), "bare"},
	} {
		if c.got != c.want {
			t.Errorf("ServiceName = %q, want %q", c.got, c.want)
		}
	}
	byTags := &Environment{ID: "stage", FindByTags: true, ServiceNames: map[string]string{"web": "ignored"}}
	if got := byTags.ServiceName(web); got != "web" {
		t.Errorf("ServiceName found by tags = %q, want the id, web", got)
	}
	for _, c := range []struct {
		env  *Environment
		name string
		want *Service
	}{{prod, "a-web-prod", web}, {stage, "a-web", web}, {prod, "a-web", nil}, {byTags, "web", web}, {prod, "worker", worker}} {
		if got := p.ServiceNamed(c.env, c.name); got != c.want {
			t.Errorf("ServiceNamed(%s, %q) = %v, want %v", c.env.ID, c.name, got, c.want)
		}
	}
	if got := ids(p.ServicesOf(Target{Cluster: "c"})); got != "web,worker" {
		t.Errorf("ServicesOf a target naming none = %s, want web,worker", got)
	}
	if got := ids(p.ServicesOf(Target{Cluster: "c", Services: []string{"worker"}})); got != "worker" {
		t.Errorf("ServicesOf a target naming worker = %s, want worker", got)
	}
	if got := imageIDs(p.ImagesFeeding("web")); got != "web,sidecar" {
		t.Errorf(`ImagesFeeding("web") = %s, want web,sidecar`, got)
	}
	if _, err := p.Image("nope"); err == nil || !strings.Contains(err.Error(), "web, sidecar") {
		t.Errorf(`Image("nope") error = %v, want one listing web, sidecar`, err)
	}
	if _, err := p.Service("nope"); err == nil {
		t.Error(`Service("nope") succeeded, want an error`)
	}
	only, err := (&Manifest{Projects: p2(m)}).Project("")
	if err != nil || only.ID != "b" {
		t.Errorf(`Project("") of a one-project manifest = %v, %v; want b`, only, err)
	}
}

func p2(m *Manifest) []*Project { return m.Projects[1:] }

func TestRegistryOf(t *testing.T) {
	t.Parallel()
	p := &Project{Registry: Registry{AccountID: "111111111111", Region: "eu-west-1", RoleARN: "arn:aws:iam::111111111111:role/ci"}}
	for _, c := range []struct {
		name string
		own  Registry
		want Registry
	}{
		{"none of its own: the project's", Registry{}, p.Registry},
		{"its own region", Registry{Region: "us-east-1"}, Registry{AccountID: "111111111111", Region: "us-east-1", RoleARN: p.Registry.RoleARN}},
		{"its own account and role", Registry{AccountID: "222222222222", RoleARN: "arn:aws:iam::222222222222:role/ecr"},
			Registry{AccountID: "222222222222", Region: "eu-west-1", RoleARN: "arn:aws:iam::222222222222:role/ecr"}},
	} {
		if got := p.RegistryOf(&Image{Registry: c.own}); got != c.want {
			t.Errorf("%s: RegistryOf = %+v, want %+v", c.name, got, c.want)
		}
	}
}

func ids(ss []*Service) string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return strings.Join(out, ",")
}

func imageIDs(is []*Image) string {
	var out []string
	for _, i := range is {
		out = append(out, i.ID)
	}
	return strings.Join(out, ",")
}

func TestFindAndLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Find(dir); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(empty dir) error = %v, want ErrNotFound", err)
	}
	legacy := filepath.Join(dir, LegacyFileName)
	if err := os.WriteFile(legacy, []byte(`{"id": "p", "environments": [{"id": "stage"}], "image_repositories": [{"id": "x", "services": ["x"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(dir); got != legacy || err != nil {
		t.Errorf("Find = %q, %v; want %q", got, err, legacy)
	}
	v1 := filepath.Join(dir, FileName)
	if err := os.WriteFile(v1, []byte(twoProjects), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.File != v1 || m.Format != FormatV1 {
		t.Errorf("LoadDir read %s (%s), want %s (%s): buoy.yaml wins", m.File, m.Format, v1, FormatV1)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want one wrapping os.ErrNotExist", err)
	}
}

// TestExamples parses every manifest under examples/ and requires it to be
// valid.
func TestExamples(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml", "legacy/*", "*.wellcome_project"} {
		matches, err := filepath.Glob(filepath.Join("..", "..", "examples", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 4 {
		t.Fatalf("found %d manifests under examples/, want at least 4: %v", len(files), files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			m, err := Load(f)
			if err != nil {
				t.Fatalf("Load(%s):\n%v", f, err)
			}
			if len(m.Projects) == 0 {
				t.Errorf("Load(%s) has no projects", f)
			}
		})
	}
}

// TestLegacySSMEra: a legacy project without image_repositories is an
// SSM-era project: its images are read from /{project}/images/{label}/
// and its environments publish there, moving no tag and finding no ECS
// service. With image_repositories it is not.
func TestLegacySSMEra(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		wantSSM   bool
	}{
		{"2019 JSON without image_repositories", `{"id": "storage", "environments": [{"id": "stage"}, {"id": "prod"}]}`, true},
		{"keyed, empty image_repositories", "storage:\n  image_repositories: []\n  environments: [stage, prod]\n", true},
		{"keyed, null image_repositories", "storage:\n  image_repositories:\n  environments: [stage, prod]\n", true},
		{"with image repositories", `{"id": "storage", "environments": ["stage", "prod"], "image_repositories": [{"id": "bag_register"}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse("p.wellcome_project", []byte(tt.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			p := m.Projects[0]
			if got := p.SSMImages != nil; got != tt.wantSSM {
				t.Fatalf("SSMImages set: got %v, want %v", got, tt.wantSSM)
			}
			if !tt.wantSSM {
				if env := p.Environments[0]; env.Strategy != StrategyTag || env.Tag != "env.stage" {
					t.Errorf("stage: got strategy %s tag %q, want tag env.stage as before", env.Strategy, env.Tag)
				}
				return
			}
			if got, want := p.SSMImages.Name("latest", "bag_register"), "/storage/images/latest/bag_register"; got != want {
				t.Errorf("SSMImages.Name: got %s, want %s", got, want)
			}
			if got, want := p.SSMImages.Path("stage"), "/storage/images/stage"; got != want {
				t.Errorf("SSMImages.Path: got %s, want %s", got, want)
			}
			if len(p.Images) != 0 || len(p.Services) != 0 {
				t.Errorf("got %d images and %d services, want none", len(p.Images), len(p.Services))
			}
			for _, env := range p.Environments {
				if env.Strategy != StrategySSM || env.Tag != "" || env.FindByTags || len(env.Targets) != 1 {
					t.Errorf("environment %s: got strategy %s, tag %q, find_by_tags %v, %d targets; want ssm, no tag, not by tags, one target",
						env.ID, env.Strategy, env.Tag, env.FindByTags, len(env.Targets))
				}
			}
		})
	}
}

// notifyManifest is a valid buoy.yaml whose project's notify: list is
// items, written at the indentation of a list item.
func notifyManifest(items string) string {
	return `version: 1
projects:
  - id: shop
    images: [{id: web, repository: shop/web, services: [web]}]
    services: [{id: web}]
    environments: [{id: stage, targets: [{cluster: shop-stage}]}]
    notify:
      ` + items + "\n"
}

// TestNotifyTargets: a project's notification targets come first, then
// the environment's own; every variable they read is named once; a
// target's name tells where it goes without its secret; a target with
// no on: is told of every event.
func TestNotifyTargets(t *testing.T) {
	t.Parallel()
	m, err := Load("testdata/v1/valid_notify.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := m.Projects[0]
	names := func(env string) []string {
		e, err := p.Environment(env)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tg := range p.NotifyTargets(e) {
			out = append(out, tg.Name())
		}
		return out
	}
	for _, tc := range []struct {
		env  string
		want []string
	}{
		{"stage", []string{"slack (SLACK_WEBHOOK_URL)", "webhook https://deploys.example.com/buoy"}},
		{"prod", []string{"slack (SLACK_WEBHOOK_URL)", "webhook https://deploys.example.com/buoy", "slack (PROD_SLACK_WEBHOOK_URL)", "webhook (AUDIT_HOOK_URL)"}},
	} {
		if got := names(tc.env); !slices.Equal(got, tc.want) {
			t.Errorf("NotifyTargets(%s): got %q, want %q", tc.env, got, tc.want)
		}
	}
	if got, want := p.NotifyVariables(), []string{"AUDIT_HOOK_URL", "BUOY_WEBHOOK_SECRET", "PROD_SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL"}; !slices.Equal(got, want) {
		t.Errorf("NotifyVariables: got %q, want %q", got, want)
	}
	if hook := p.Notify[1]; !slices.Equal(hook.On, NotifyEvents()) || !hook.Wants(NotifyStart) {
		t.Errorf("a target with no on: is told of %v, want every event %v", hook.On, NotifyEvents())
	}
	if slack := p.Notify[0]; slack.Wants(NotifySuccess) || !slack.Wants(NotifyRollback) {
		t.Errorf("on: [failure, rollback] wants %v, want failure and rollback only", slack.On)
	}
}

// TestNotifyNeverQuotesASecret: a secret written where it may not be (a
// Slack URL, a signing secret, a URL with a password, a URL pasted where
// a variable's name belongs) is refused without being quoted: the error
// is printed in CI logs.
func TestNotifyNeverQuotesASecret(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/v1/invalid_notify.yaml")
	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	for _, secret := range []string{"notInTheMessage", "alsoNotInTheMessage", "notInTheMessageEither", "hunter2", "hooks.slack.com"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error quotes %q:\n%v", secret, err)
		}
	}
}
