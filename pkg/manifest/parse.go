package manifest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest manifest Parse and Load accept, in bytes.
const MaxSize = 1 << 20

// The manifest file names Find looks for, in order.
const (
	FileName       = "buoy.yaml"
	LegacyFileName = ".wellcome_project"
)

// ErrNotFound is returned (wrapped) by Find when a directory holds no
// manifest.
var ErrNotFound = errors.New("no manifest found")

// yamlLineRe finds the line number in the YAML library's syntax errors.
// Compiled once; unexported and never modified.
var yamlLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): `)

// Parse reads a manifest from data; file names it in diagnostics. A file
// whose top level has a "version" key is buoy.yaml; anything else is read
// as a legacy .wellcome_project. An invalid manifest gives an *Error
// holding every problem found. Parse is safe for concurrent use.
func Parse(file string, data []byte) (m *Manifest, err error) {
	d := &decoder{file: file}
	fail := func(hint, format string, args ...any) (*Manifest, error) {
		d.errorf(nil, hint, format, args...)
		return nil, &Error{Diagnostics: d.errs}
	}
	if len(data) > MaxSize {
		return fail("a manifest is a few kilobytes; check that the right file was given",
			"the manifest is %d bytes, more than the %d bytes buoy reads", len(data), MaxSize)
	}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return fail("give the path of a buoy.yaml or .wellcome_project text file", "the manifest is not UTF-8 text")
	}
	root, err := decodeYAML(data)
	if err != nil {
		return nil, &Error{Diagnostics: []Diagnostic{clipDiagnostic(yamlDiagnostic(file, err))}}
	}
	if root == nil {
		return fail("write version: 1 and projects: (see docs/manifest.md)", "the manifest is empty")
	}
	m = &Manifest{File: file}
	if isV1(root) {
		m.Format = FormatV1
		m.Projects = d.v1(root)
	} else {
		m.Format = FormatLegacy
		m.Projects = d.legacy(root)
	}
	d.duplicateProjects(m.Projects)
	d.sharedTags(m.Projects)
	sortDiagnostics(d.errs)
	if d.dropped > 0 {
		d.errs = append(d.errs, Diagnostic{Pos: Position{File: file}, Message: fmt.Sprintf("and %d more problems", d.dropped), Hint: "fix the ones above first"})
	}
	sortDiagnostics(d.warns)
	if d.quiet > 0 {
		d.warns = append(d.warns, Diagnostic{Pos: Position{File: file}, Message: fmt.Sprintf("and %d more warnings", d.quiet)})
	}
	m.Warnings = d.warns
	if len(d.errs) > 0 {
		return nil, &Error{Diagnostics: d.errs}
	}
	return m, nil
}

// decodeYAML returns the content node of the single document in data, or
// nil for an empty one. The YAML library's panics on hostile input are
// turned into errors.
func decodeYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: cannot parse the manifest: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: the manifest holds more than one YAML document", extra.Line)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func yamlDiagnostic(file string, err error) Diagnostic {
	msg := err.Error()
	pos := Position{File: file}
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return Diagnostic{Pos: pos, Message: "not valid YAML: " + msg, Hint: "fix the YAML syntax; a validator such as yamllint shows where"}
}

func isV1(root *yaml.Node) bool {
	if root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "version" {
			return true
		}
	}
	return false
}

func (d *decoder) duplicateProjects(projects []*Project) {
	first := map[string]Position{}
	for _, p := range projects {
		if prev, ok := first[p.ID]; ok && p.ID != "" {
			d.errorAt(p.Pos, "give each project its own id", "duplicate project id %q (first at line %d)", p.ID, prev.Line)
			continue
		}
		first[p.ID] = p.Pos
	}
}

func sortDiagnostics(ds []Diagnostic) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Column, b.Pos.Column), cmp.Compare(a.Message, b.Message))
	})
}

// Load reads and parses the manifest at path. A path that is not a
// regular file (a named pipe, a device, a directory) is refused before it
// is opened: opening a named pipe waits, without end, for a writer.
func Load(path string) (*Manifest, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if err := regularFile(path, st); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read manifest %s: it changed while being opened: give the path of a buoy.yaml or .wellcome_project file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	return Parse(path, data)
}

// regularFile refuses a manifest path that is not a regular file, saying
// what it is.
func regularFile(path string, st os.FileInfo) error {
	m := st.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), not a file"
	case m&os.ModeDevice != 0:
		what = "a device, not a file"
	case m.IsDir():
		what = "a directory, not a file"
	case m&os.ModeSocket != 0:
		what = "a socket, not a file"
	}
	return &Error{Diagnostics: []Diagnostic{{Pos: Position{File: path},
		Message: "the manifest is " + what, Hint: "give the path of a buoy.yaml or .wellcome_project file"}}}
}

// Find returns the path of the manifest in dir: buoy.yaml if there is one,
// else .wellcome_project. It returns an error wrapping ErrNotFound when
// there is neither.
func Find(dir string) (string, error) {
	for _, name := range []string{FileName, LegacyFileName} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w in %s: write a %s (see docs/manifest.md) or pass the manifest path", ErrNotFound, dir, FileName)
}

// LoadDir finds the manifest in dir (see Find) and loads it.
func LoadDir(dir string) (*Manifest, error) {
	p, err := Find(dir)
	if err != nil {
		return nil, err
	}
	return Load(p)
}
