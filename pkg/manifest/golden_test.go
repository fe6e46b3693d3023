package manifest

import (
	"errors"
	"fmt"
	"github.com/buoy-deploy/buoy/internal/golden"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manifestFiles returns every manifest under testdata/ except the golden
// files and the fuzz corpus.
func manifestFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir("testdata", func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "golden" || e.Name() == "fuzz") {
			return filepath.SkipDir
		}
		if !e.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGolden parses every manifest under testdata/ and compares a rendering
// of the result (the model and warnings, or the error) with
// testdata/golden/<dir>_<name>.golden. Files named valid_* must parse and
// files named invalid_* must not. Run with -update to rewrite.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, path := range manifestFiles(t) {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			m, err := Load(path)
			base := filepath.Base(path)
			switch {
			case strings.HasPrefix(base, "valid") && err != nil:
				t.Errorf("Load(%s) error:\n%v\nwant a valid manifest", path, err)
			case strings.HasPrefix(base, "invalid") && err == nil:
				t.Errorf("Load(%s) succeeded, want an error", path)
			}
			got := render(m, err)
			name := strings.ReplaceAll(strings.TrimPrefix(path, "testdata"+string(filepath.Separator)), string(filepath.Separator), "_") + ".golden"
			goldenPath := filepath.Join("testdata", "golden", name)
			golden.Check(t, goldenPath, got)
		})
	}
}

// render writes a parse result as stable, readable text.
func render(m *Manifest, err error) string {
	var b strings.Builder
	if err != nil {
		var merr *Error
		if !errors.As(err, &merr) {
			return "unexpected error type: " + err.Error() + "\n"
		}
		fmt.Fprintf(&b, "error (%d diagnostics):\n%s\n", len(merr.Diagnostics), err)
		return b.String()
	}
	fmt.Fprintf(&b, "format: %s\n", m.Format)
	for _, w := range m.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, p := range m.Projects {
		fmt.Fprintf(&b, "project %s %q registry=%+v at %d:%d\n", p.ID, p.Name, p.Registry, p.Pos.Line, p.Pos.Column)
		if p.SSMImages != nil {
			fmt.Fprintf(&b, "  images from SSM: %s\n", p.SSMImages.Name("{label}", "{image}"))
		}
		for _, img := range p.Images {
			fmt.Fprintf(&b, "  image %s repository=%s services=%v registry=%+v\n", img.ID, img.Repository, img.Services, img.Registry)
		}
		for _, s := range p.Services {
			fmt.Fprintf(&b, "  service %s name=%s\n", s.ID, s.Name)
		}
		renderNotify(&b, "  ", p.Notify)
		for _, e := range p.Environments {
			fmt.Fprintf(&b, "  environment %s %q tag=%s strategy=%s protected=%v promotes_from=%q find_by_tags=%v publish_ssm=%v audit_tag=%v\n",
				e.ID, e.Name, e.Tag, e.Strategy, e.Protected, e.PromotesFrom, e.FindByTags, e.PublishSSM, e.AuditTag)
			if e.KeepRevisions > 0 {
				fmt.Fprintf(&b, "    keep_revisions=%d\n", e.KeepRevisions)
			}
			keys := make([]string, 0, len(e.ServiceNames))
			for k := range e.ServiceNames {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "    service_name %s=%s\n", k, e.ServiceNames[k])
			}
			for _, t := range e.Targets {
				fmt.Fprintf(&b, "    target cluster=%q region=%q role_arn=%q services=%v\n", t.Cluster, t.Region, t.RoleARN, t.Services)
			}
			renderNotify(&b, "    ", e.Notify)
			for _, t := range e.PreDeploy {
				fmt.Fprintf(&b, "    pre_deploy %s\n", formatTask(t))
			}
		}
	}
	return b.String()
}

// renderNotify writes notification targets, one a line.
func renderNotify(b *strings.Builder, indent string, targets []NotifyTarget) {
	for _, t := range targets {
		fmt.Fprintf(b, "%snotify %s url=%q url_env=%q secret_env=%q on=%v at %d:%d\n", indent, t.Kind, t.URL, t.URLEnv, t.SecretEnv, t.On, t.Pos.Line, t.Pos.Column)
	}
}
