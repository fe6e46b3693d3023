package entrytest

import (
	"net"
	"os/exec"
	"path/filepath"
	"testing"
)

// Build builds the command pkg (an import path of this module, e.g.
// github.com/buoy-deploy/buoy/action) into a temporary directory as name
// and returns its path. The Go build cache makes every build after the
// first quick.
func Build(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// ClosedPort returns the URL of a 127.0.0.1 port nothing listens on: a
// connection to it is refused at once.
func ClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return url
}
