package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	built := func(v string) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Path: "github.com/buoy-deploy/buoy", Version: v}}, true
		}
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name    string
		stamped string
		read    func() (*debug.BuildInfo, bool)
		want    string
	}{
		{name: "a release's stamp wins", stamped: "v1.2.3", read: built("v1.2.2"), want: "v1.2.3"},
		{name: "go install @v1.2.3", stamped: Unstamped, read: built("v1.2.3"), want: "v1.2.3"},
		{name: "go install @commit", stamped: Unstamped, read: built("v1.2.4-0.20261130101500-3f2a9c1d8e7b"), want: "v1.2.4-0.20261130101500-3f2a9c1d8e7b"},
		{name: "empty stamp", stamped: "", read: built("v1.2.3"), want: "v1.2.3"},
		{name: "go build in a checkout", stamped: Unstamped, read: built("(devel)"), want: Unstamped},
		{name: "no version recorded", stamped: Unstamped, read: built(""), want: Unstamped},
		{name: "no build information", stamped: Unstamped, read: none, want: Unstamped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := version(tt.stamped, tt.read); got != tt.want {
				t.Errorf("version(%q) = %q, want %q", tt.stamped, got, tt.want)
			}
		})
	}
}

// TestVersionOfThisTestBinary: the real build information of a test
// binary has no module version, so Version says Unstamped.
func TestVersionOfThisTestBinary(t *testing.T) {
	t.Parallel()
	if got := Version(Unstamped); got != Unstamped {
		t.Errorf("Version(%q) in a test binary = %q, want %q", Unstamped, got, Unstamped)
	}
	if got := Version("v9.9.9"); got != "v9.9.9" {
		t.Errorf("Version(%q) = %q, want the stamp", "v9.9.9", got)
	}
}

func TestRequested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want bool
	}{
		{args: nil, want: false},
		{args: []string{"--version"}, want: true},
		{args: []string{"--version", "x"}, want: false},
		{args: []string{"version"}, want: false},
		{args: []string{"-v"}, want: false},
	}
	for _, tt := range tests {
		if got := Requested(tt.args); got != tt.want {
			t.Errorf("Requested(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
