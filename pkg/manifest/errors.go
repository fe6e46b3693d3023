package manifest

import (
	"fmt"
	"strings"

	"github.com/buoy-deploy/buoy/pkg/suggest"
)

// String returns "file:line:col", leaving out the parts that are unknown.
func (p Position) String() string {
	s := p.File
	if p.Line > 0 {
		s += fmt.Sprintf(":%d", p.Line)
		if p.Column > 0 {
			s += fmt.Sprintf(":%d", p.Column)
		}
	}
	return s
}

// String returns "file:line:col: message (hint)".
func (d Diagnostic) String() string {
	s := d.Message
	if p := d.Pos.String(); p != "" {
		s = p + ": " + s
	}
	if d.Hint != "" {
		s += " (" + d.Hint + ")"
	}
	return s
}

// Error returns one line per diagnostic, each "file:line:col: message
// (hint)". Use errors.As to reach the diagnostics themselves.
func (e *Error) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// didYouMean returns a hint naming the candidate closest to got, or listing
// all candidates when none is close.
func didYouMean(got string, candidates []string, what string) string {
	if best := suggest.Closest(got, candidates); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	if len(candidates) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s", what, strings.Join(candidates, ", "))
}
