package manifest

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// A diagnostic quotes what the manifest says, and a manifest may say a
// lot: a 400 KB string behind an alias, quoted by every error that
// reaches it, once made 80 MB of output. So a long value is quoted by
// its start and its length, and a message or hint, whatever it holds, is
// cut to a few hundred bytes.
const (
	// maxQuoted is how much of a long text argument a message quotes.
	maxQuoted = 60
	// maxMessage is the longest message or hint a diagnostic keeps.
	maxMessage = 400
)

// clipped is a long text argument of a message. Quoted (%q), it is a
// value from the manifest: fmt prints its first maxQuoted bytes and its
// length in bytes. Otherwise (%s, the message's own words) it is printed
// whole, and clipDiagnostic bounds the message.
type clipped string

// Format prints c, quoted as its start and its length, e.g.
// "aaaa"…(400000 bytes).
func (c clipped) Format(f fmt.State, verb rune) {
	if verb != 'q' {
		fmt.Fprint(f, string(c))
		return
	}
	fmt.Fprintf(f, "%s…(%d bytes)", strconv.Quote(prefix(string(c), maxQuoted)), len(c))
}

// prefix returns s cut to at most n bytes, on a character boundary.
func prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// diagnostic formats a diagnostic, clipping long text arguments.
func diagnostic(pos Position, hint, format string, args []any) Diagnostic {
	clippedArgs := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && len(s) > maxQuoted {
			a = clipped(s)
		}
		clippedArgs[i] = a
	}
	return clipDiagnostic(Diagnostic{Pos: pos, Message: fmt.Sprintf(format, clippedArgs...), Hint: hint})
}

// clipDiagnostic cuts the message and the hint to maxMessage bytes.
func clipDiagnostic(d Diagnostic) Diagnostic {
	d.Message = clipText(d.Message)
	d.Hint = clipText(d.Hint)
	return d
}

func clipText(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return fmt.Sprintf("%s…(%d bytes)", prefix(s, maxMessage), len(s))
}
