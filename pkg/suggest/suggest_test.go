package suggest_test

import (
	"testing"

	"github.com/buoy-deploy/buoy/pkg/suggest"
)

func TestClosest(t *testing.T) {
	t.Parallel()
	names := []string{"environment", "from-label", "rollback-on-failure", "wait"}
	for got, want := range map[string]string{
		"environmen":           "environment",
		"Environment":          "environment",
		"from_label":           "from-label",
		"rollback-on-failures": "rollback-on-failure",
		"wiat":                 "wait", // a swap is one edit
		"cluster":              "",
		"":                     "",
	} {
		if s := suggest.Closest(got, names); s != want {
			t.Errorf("Closest(%q) = %q, want %q", got, s, want)
		}
	}
}
