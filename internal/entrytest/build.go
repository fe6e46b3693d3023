package entrytest

import (
	"net"
	"testing"
)

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
