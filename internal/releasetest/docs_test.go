package releasetest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/buoy-deploy/buoy/internal/cihost"
	"github.com/buoy-deploy/buoy/internal/releasetest"
)

// verifyCommands returns the commands of README.md's "Verify a download"
// block, one per line, continuation lines joined.
func verifyCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cihost.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "### Verify a download\n")
	if !ok {
		t.Fatal("README.md has no section \"### Verify a download\" (the release notes link to it)")
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("README.md's \"Verify a download\" has no ```sh block")
	}
	var commands []string
	for _, line := range strings.Split(strings.ReplaceAll(m[1], "\\\n", " "), "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" && !strings.HasPrefix(line, "#") {
			commands = append(commands, line)
		}
	}
	return commands
}

// TestVerifyCommandsInTheDocs: what README.md tells users to run to
// verify a release names what the release produces: the checksums file
// and its signature bundle as .goreleaser.yaml names them, the identity
// of the workflow that signs (.github/workflows/release.yml, run for the
// tag, with GitHub's OIDC issuer, as action/install.sh checks it too),
// a tarball as goreleaser names it, and the image the workflow pushes.
// (make release-check runs the sha256sum command on a real release.)
func TestVerifyCommandsInTheDocs(t *testing.T) {
	t.Parallel()
	root := cihost.Root()
	cfg := releasetest.Read(t, root)
	checksums := releasetest.Checksums(t, cfg)
	const (
		workflow = ".github/workflows/release.yml"
		issuer   = "https://token.actions.githubusercontent.com"
		tag      = "v1.2.3"
	)
	identity := "https://github.com/buoy-deploy/buoy/" + workflow + "@refs/tags/" + tag
	if _, err := os.Stat(filepath.Join(root, workflow)); err != nil {
		t.Fatalf("the signing workflow: %v", err)
	}

	var bundle string
	for _, s := range cfg.Signs {
		if s.Artifacts == "checksum" && s.Cmd == "cosign" && slices.Contains(s.Args, "sign-blob") && slices.Contains(s.Args, "--bundle=${signature}") {
			bundle = strings.ReplaceAll(s.Signature, "${artifact}", checksums)
		}
	}
	if bundle == "" {
		t.Fatalf(".goreleaser.yaml signs = %+v, want cosign sign-blob --bundle=${signature} of the checksum", cfg.Signs)
	}
	tarball := ""
	for _, a := range cfg.Archives {
		if a.ID != "buoy" {
			continue
		}
		var name bytes.Buffer
		tmpl := template.Must(template.New("name").Option("missingkey=error").Parse(a.NameTemplate))
		if err := tmpl.Execute(&name, map[string]string{"Version": strings.TrimPrefix(tag, "v"), "Os": "linux", "Arch": "amd64"}); err != nil {
			t.Fatal(err)
		}
		tarball = name.String() + ".tar.gz"
	}
	w, _ := readWorkflow(t)
	image := w.Jobs["image"].Env["IMAGE"] + ":" + tag

	want := []string{
		"sha256sum --ignore-missing -c " + checksums,
		"cosign verify-blob " + checksums + " --bundle " + bundle + " --certificate-identity " + identity + " --certificate-oidc-issuer " + issuer,
		"gh attestation verify " + tarball + " --repo buoy-deploy/buoy",
		"gh attestation verify oci://" + image + " --repo buoy-deploy/buoy",
		"cosign verify " + image + " --certificate-identity " + identity + " --certificate-oidc-issuer " + issuer,
	}
	if got := verifyCommands(t); !slices.Equal(got, want) {
		t.Errorf("README.md's verify commands are\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The Action checks the same identity before it runs a binary.
	script, err := os.ReadFile(filepath.Join(root, "action", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"https://github.com/$repository/` + workflow + `@refs/tags/$2"`, issuer, `"$base/` + bundle + `"`} {
		if !strings.Contains(string(script), s) {
			t.Errorf("action/install.sh does not verify with %s", s)
		}
	}
}
