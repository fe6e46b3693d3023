package history_test

import (
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/history"
)

// TestLockedErrorNamesTheBuildOnce: a holder is named by its requester
// and its build URL, once when the requester names the build already.
func TestLockedErrorNamesTheBuildOnce(t *testing.T) {
	t.Parallel()
	const url = "https://buildkite.com/acme/shop/builds/41"
	until := time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)
	for _, tc := range []struct{ by, url, want string }{
		{"alice@laptop", "", "environment shop/prod is locked by alice@laptop until 2026-11-22T10:30:00Z"},
		{"alice via buildkite", url, "environment shop/prod is locked by alice via buildkite (" + url + ") until 2026-11-22T10:30:00Z"},
		{"alice via Buildkite (" + url + ")", url, "environment shop/prod is locked by alice via Buildkite (" + url + ") until 2026-11-22T10:30:00Z"},
	} {
		err := &history.LockedError{Held: history.Lock{Project: "shop", Environment: "prod", RequestedBy: tc.by, BuildURL: tc.url, ExpiresAt: until}}
		if got := err.Error(); got != tc.want {
			t.Errorf("LockedError:\ngot  %q\nwant %q", got, tc.want)
		}
	}
}
