package manifest

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds how many YAML nodes one parse may visit, counting every
// visit through an alias again. A manifest of hundreds of images visits a
// few thousand; a "billion laughs" document of nested aliases hits the
// bound instead of exhausting memory and time.
const maxNodes = 200_000

// decoder walks a yaml.Node tree, keeping every problem it finds so that
// all of them are reported at once.
type decoder struct {
	file      string
	errs      []Diagnostic
	warns     []Diagnostic
	visited   int
	exhausted bool
	dropped   int // errors beyond maxDiagnostics
	quiet     int // warnings beyond maxDiagnostics
}

func (d *decoder) pos(n *yaml.Node) Position {
	if n == nil {
		return Position{File: d.file}
	}
	return Position{File: d.file, Line: n.Line, Column: n.Column}
}

// maxDiagnostics bounds how many errors (and, apart, warnings) one parse
// keeps; the rest are counted and reported as one "and N more", so that
// the output stays small whatever the input.
const maxDiagnostics = 50

// errorf records an error at n with a hint saying what to write instead.
// A long text argument is quoted by its start and its length (clip).
func (d *decoder) errorf(n *yaml.Node, hint, format string, args ...any) {
	d.errorAt(d.pos(n), hint, format, args...)
}

// errorAt is errorf at a position rather than a node.
func (d *decoder) errorAt(pos Position, hint, format string, args ...any) {
	if len(d.errs) >= maxDiagnostics {
		d.dropped++
		return
	}
	d.errs = append(d.errs, diagnostic(pos, hint, format, args))
}

// warnf records a warning at n.
func (d *decoder) warnf(n *yaml.Node, hint, format string, args ...any) {
	if len(d.warns) >= maxDiagnostics {
		d.quiet++
		return
	}
	d.warns = append(d.warns, diagnostic(d.pos(n), hint, format, args))
}

// resolve follows aliases and counts the visit against maxNodes. It
// returns nil once the budget is spent, after reporting it once.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			d.errorf(n, "write the value out instead", "alias chain is too long")
			return nil
		}
		n = n.Alias
	}
	d.visited++
	if d.visited > maxNodes {
		if !d.exhausted {
			d.exhausted = true
			d.errorf(n, "write the manifest out without nested anchors and aliases",
				"the manifest expands to more than %d YAML nodes through anchors and aliases", maxNodes)
		}
		return nil
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " value"
	default:
		return "an unexpected node"
	}
}

// field is one key: value pair of a mapping.
type field struct {
	key, val *yaml.Node
}

// schema says which keys a mapping may hold: known keys, legacy keys
// that are accepted with a warning saying why they mean nothing now, and
// keys refused with a reason of their own.
type schema struct {
	what    string             // e.g. "image", for messages
	known   []string           // keys with a meaning
	ignored map[string]string  // legacy key -> why it is ignored
	refused map[string]refusal // key -> why it may not be written
}

// refusal says why a key may not be written, and what to write instead.
// It never quotes the key's value (which may be a secret).
type refusal struct{ message, hint string }

// mapping checks that n is a mapping and returns its pairs by key. It
// reports duplicate keys, and unknown keys with the closest known one. It
// follows YAML merge keys (<<: *anchor).
func (d *decoder) mapping(n *yaml.Node, s schema) (map[string]field, bool) {
	n = d.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "write "+s.what+" as key: value pairs", "%s must be a mapping, not %s", s.what, kindName(n))
		return nil, false
	}
	out := map[string]field{}
	d.collect(n, s, out, 0)
	return out, true
}

func (d *decoder) collect(n *yaml.Node, s schema, out map[string]field, depth int) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "write a plain key", "%s has a key that is %s", s.what, kindName(k))
			continue
		}
		key := k.Value
		if prev, dup := out[key]; dup {
			if depth == 0 {
				d.errorf(k, "remove one of them", "%s has the key %q twice (first at line %d)", s.what, key, prev.key.Line)
			}
			continue
		}
		if strings.HasPrefix(key, "x-") {
			continue // extension keys hold YAML anchors; buoy ignores them
		}
		if r, ok := s.refused[key]; ok {
			d.errorf(k, r.hint, "%s", r.message)
			out[key] = field{k, v} // so that the caller says nothing more of it
			continue
		}
		if why, ok := s.ignored[key]; ok {
			d.warnf(k, "remove it", "%s key %q is ignored: %s", s.what, key, why)
			out[key] = field{k, v}
			continue
		}
		if !slices.Contains(s.known, key) {
			d.errorf(k, didYouMean(key, s.known, "known keys"), "unknown key %q in %s", key, s.what)
			continue
		}
		out[key] = field{k, v}
	}
	// Keys written in the mapping itself win over merged ones, as in YAML.
	for _, m := range merges {
		if depth > 10 {
			d.errorf(m, "flatten the merges", "merge keys are nested too deeply")
			return
		}
		m = d.resolve(m)
		if m == nil {
			return
		}
		var sources []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			sources = m.Content
		default:
			d.errorf(m, "merge a mapping: <<: *anchor", "merge key value must be a mapping, not %s", kindName(m))
			continue
		}
		for _, src := range sources {
			src = d.resolve(src)
			if src == nil {
				return
			}
			if src.Kind != yaml.MappingNode {
				d.errorf(src, "merge a mapping: <<: *anchor", "merge key value must be a mapping, not %s", kindName(src))
				continue
			}
			d.collect(src, s, out, depth+1)
		}
	}
}

// str returns the text of a scalar field. Numbers and booleans are taken
// as written (so account ids keep their leading zeros); null is "".
func (d *decoder) str(f field) string {
	n := d.resolve(f.val)
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, "write a single value", "%q must be a string, not %s", f.key.Value, kindName(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// required returns the text of a field that must be present and not empty.
func (d *decoder) required(fields map[string]field, key string, owner *yaml.Node, what, example string) (string, field) {
	f, ok := fields[key]
	if !ok {
		d.errorf(owner, "add "+key+": "+example, "%s has no %q", what, key)
		return "", field{key: owner, val: owner}
	}
	v := d.str(f)
	if v == "" {
		d.errorf(f.val, "write "+key+": "+example, "%q of %s is empty", key, what)
	}
	return v, f
}

// boolean returns the value of a true/false field.
func (d *decoder) boolean(f field) bool {
	n := d.resolve(f.val)
	if n == nil {
		return false
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		d.errorf(n, "write true or false", "%q must be true or false, not %s", f.key.Value, describe(n))
		return false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
}

// describe names a node for messages, quoting short scalars.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" && len(n.Value) <= 40 {
		return fmt.Sprintf("%q", n.Value)
	}
	return kindName(n)
}

// list returns the items of a sequence field; a null value is an empty
// list.
func (d *decoder) list(f field) []*yaml.Node {
	n := d.resolve(f.val)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "write a list: one \"- item\" per line, or [a, b]", "%q must be a list, not %s", f.key.Value, kindName(n))
		return nil
	}
	return n.Content
}

// strings returns the texts of a list of scalars.
func (d *decoder) strings(f field) ([]string, []*yaml.Node) {
	var vals []string
	var nodes []*yaml.Node
	for _, item := range d.list(f) {
		v := d.str(field{key: f.key, val: item})
		vals = append(vals, v)
		nodes = append(nodes, item)
	}
	return vals, nodes
}
