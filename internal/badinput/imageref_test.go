package badinput_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/buoy-deploy/buoy/pkg/imageref"
)

// TestImageRefBadInput: malformed image references are refused with an
// *imageref.Error that says what is wrong, and never panic.
func TestImageRefBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "it is empty"},
		{":latest", "it names no repository"},
		{"@sha256:" + strings.Repeat("a", 64), "it names no repository"},
		{"hello/web:", `tag "" is not valid`},
		{"hello/web:-bad", `tag "-bad" is not valid`},
		{"hello/web:" + strings.Repeat("t", 129), "is not valid: a tag is up to 128"},
		{"hello/web@sha256:abc", "sha256 takes exactly 64 lower-case hex digits"},
		{"hello/web@sha256:" + strings.Repeat("A", 64), "sha256 takes exactly 64 lower-case hex digits"},
		{"hello/web@md5", `digest "md5" is not valid; write algorithm:hex`},
		{"hello/web@", `digest "" is not valid`},
		{strings.Repeat("a", 64), "is an image id, not a repository"},
		{"hello//web", `repository path component "" is not valid`},
		{"hello/web space", `repository path component "web space" is not valid`},
		{"hello/-web", `repository path component "-web" is not valid`},
		{"bad host!/web", `repository path component "bad host!" is not valid`},
		{"bad_host:port/web", `registry "bad_host:port" is not a valid host[:port]`},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com/", `repository path component "" is not valid`},
		{"web\x00:latest", `repository path component "web\x00" is not valid`},
		{strings.Repeat("a/", 200) + "b", "Docker allows at most"},
	}
	for _, tc := range tests {
		var err error
		noPanic(t, tc.in, func() { _, err = imageref.Parse(tc.in) })
		var ierr *imageref.Error
		if err != nil && !errors.As(err, &ierr) {
			t.Errorf("Parse(%q): error is %T, want *imageref.Error", tc.in, err)
		}
		wantError(t, "imageref.Parse("+truncate(tc.in)+")", err, tc.want)
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
