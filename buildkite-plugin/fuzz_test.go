package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
)

// FuzzParseConfig checks parseConfig's promises on any input: it never
// panics; a refusal is an errConfig whose message is short and holds no
// control character (it goes into the log and an annotation as it is);
// an accepted configuration names a known command, has the environment
// the command needs, a positive timeout when one is set, limits the CLI
// would accept (its defaults for those not set), and survives being
// written out and read again unchanged.
func FuzzParseConfig(f *testing.F) {
	for _, tc := range pluginBadInputs() {
		if len(tc.config) < 2000 {
			f.Add(tc.config)
		}
	}
	for _, seed := range []string{
		`{"environment":"stage"}`,
		`{"command":"plan","environment":"prod","from-environment":"stage","timeout":"1h30m","wait":false}`,
		`{"command":"prepare","from-label":"ref.3f2a9c1","description":"fix\nlogin"}`,
		`{"command":"deploy","environment":"stage","release":"01JD","dry-run":true,"download":false,"version":"v1.2.3"}`,
		`{"environment":"st\u0000age"}`,
		`{"environment":"stage","lock-wait":"0","lock-ttl":"3s","ecs-rate":0.5,"ecs-burst":1}`,
		`{"environment":"stage","lock-wait":"-1s","lock-ttl":"1s","ecs-rate":-1,"ecs-burst":2.5}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseConfig(raw)
		if err != nil {
			checkErrorText(t, err)
			if !errors.Is(err, errConfig) {
				t.Errorf("error %q is not an errConfig", err)
			}
			return
		}
		if !slices.Contains(entry.Operations(), c.Command) {
			t.Errorf("accepted command %q", c.Command)
		}
		if c.Environment == "" && c.Command != entry.Prepare && c.Command != entry.Status {
			t.Errorf("accepted command %s without an environment", c.Command)
		}
		if (c.Timeout != "") != (c.timeout > 0) {
			t.Errorf("timeout %q parsed as %v", c.Timeout, c.timeout)
		}
		if errs := c.limits.Problems(func(k string) string { return k }); len(errs) > 0 {
			t.Errorf("accepted limits the CLI refuses: %v", errs)
		}
		def := inputcheck.DefaultLimits()
		if (c.LockWait == "" && c.limits.LockWait != def.LockWait) || (c.LockTTL == "" && c.limits.LockTTL != def.LockTTL) ||
			(c.ECSRate == nil && c.limits.ECSRate != def.ECSRate) || (c.ECSBurst == nil && c.limits.ECSBurst != def.ECSBurst) {
			t.Errorf("limits not set read as %+v, want the defaults %+v", c.limits, def)
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("marshal an accepted configuration: %v", err)
		}
		c2, err := parseConfig(string(again))
		if err != nil {
			t.Fatalf("the accepted configuration %q, written out as %s, is refused: %v", raw, again, err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Errorf("round trip changed the configuration:\n%#v\n%#v", c, c2)
		}
	})
}

// checkErrorText fails the test when err's message is empty, long, or
// holds a control character.
func checkErrorText(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Error("empty error message")
	}
	if len(msg) > 2048 {
		t.Errorf("error message is %d bytes long", len(msg))
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Errorf("error message holds the control character %U: %q", []rune(msg[i:])[0], msg)
	}
}
