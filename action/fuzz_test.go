package main

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/buoy-deploy/buoy/internal/entry"
	"github.com/buoy-deploy/buoy/internal/inputcheck"
)

// FuzzReadSettings checks readSettings' promises on any inputs: it never
// panics; a refusal has a message with no control character, never the
// token, and, annotated as the action does, makes exactly one workflow
// command line that nothing injected can follow; accepted settings name
// a known command, have the environment it needs, values of the right
// form and limits the CLI would accept (its defaults where no limit was
// given), and read the same again.
func FuzzReadSettings(f *testing.F) {
	f.Add("release-deploy", "stage", "ref.3f2a9c1", "", "30m", "true", "fix login", "ghs_token", "", "5m", "2m", "20", "50")
	f.Add("plan", "prod", "latest", "01JD", "1h", "false", "", "", "ENVIRONMEN", "0", "3s", "0.5", "1")
	f.Add("promote", "stage\n::error::pwned", "x y", "../..", "-5m", "yes", "a\x00b", "tok\nen", "FROM_LABEL", "-1s", "1s", "Inf", "0")
	f.Add("prepare", "", "\xff", "", "0", "", "%0A::error::pwned <script>", "", "", "soon", "", "NaN", "2.5")
	f.Fuzz(func(t *testing.T, cmd, env, label, release, timeout, wait, description, token, extra, lockWait, lockTTL, ecsRate, ecsBurst string) {
		vars := map[string]string{
			"INPUT_COMMAND": cmd, "INPUT_ENVIRONMENT": env, "INPUT_FROM-LABEL": label, "INPUT_RELEASE": release,
			"INPUT_TIMEOUT": timeout, "INPUT_WAIT": wait, "INPUT_DESCRIPTION": description, "INPUT_GITHUB-TOKEN": token,
			"INPUT_LOCK-WAIT": lockWait, "INPUT_LOCK-TTL": lockTTL, "INPUT_ECS-RATE": ecsRate, "INPUT_ECS-BURST": ecsBurst,
		}
		environ := []string{}
		if extra != "" {
			vars["INPUT_"+extra] = "x"
		}
		for k, v := range vars {
			environ = append(environ, k+"="+v)
		}
		a := githubactions.New(githubactions.WithGetenv(func(k string) string { return vars[k] }), githubactions.WithWriter(&bytes.Buffer{}))
		s, err := readSettings(a, environ)
		if err != nil {
			secret := strings.TrimSpace(token)
			for k, v := range vars {
				if k != "INPUT_GITHUB-TOKEN" && strings.Contains(k+v, secret) {
					secret = "" // also given as another input, which errors may quote
				}
			}
			checkRefusal(t, err, secret)
			return
		}
		if !slices.Contains(entry.Operations(), s.Operation) {
			t.Errorf("accepted command %q", s.Operation)
		}
		if s.Environment == "" && s.Operation != entry.Prepare && s.Operation != entry.Status {
			t.Errorf("accepted command %s without an environment", s.Operation)
		}
		if s.Release != "" && s.FromEnvironment != "" {
			t.Error("accepted release and from-environment together")
		}
		if (strings.TrimSpace(timeout) != "") != (s.Timeout > 0) {
			t.Errorf("timeout %q read as %v", timeout, s.Timeout)
		}
		if errs := s.Open.Limits.Problems(func(k string) string { return k }); len(errs) > 0 {
			t.Errorf("accepted limits the CLI refuses: %v", errs)
		}
		def := inputcheck.DefaultLimits()
		for _, l := range []struct {
			input       string
			got, defval any
		}{
			{lockWait, s.Open.Limits.LockWait, def.LockWait}, {lockTTL, s.Open.Limits.LockTTL, def.LockTTL},
			{ecsRate, s.Open.Limits.ECSRate, def.ECSRate}, {ecsBurst, s.Open.Limits.ECSBurst, def.ECSBurst},
		} {
			if l.input == "" && l.got != l.defval {
				t.Errorf("an empty limit input read as %v, want the default %v", l.got, l.defval)
			}
		}
		for v, check := range map[string]func(string) error{
			s.Environment: inputcheck.ID, s.Label: inputcheck.Label, s.Release: inputcheck.Release, s.Description: inputcheck.Text,
		} {
			if v != "" && check(v) != nil {
				t.Errorf("accepted %q: %v", v, check(v))
			}
		}
		again, err := readSettings(a, environ)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Errorf("reading the same inputs again gave %+v, %v; want %+v", again, err, s)
		}
	})
}

// checkRefusal checks a refusal's message, and the annotation it makes.
func checkRefusal(t *testing.T, err error, token string) {
	t.Helper()
	msg := err.Error()
	if strings.TrimSpace(msg) == "" {
		t.Fatal("empty error message")
	}
	if i := strings.IndexFunc(msg, unicode.IsControl); i >= 0 {
		t.Errorf("error message holds a control character: %q", msg)
	}
	if len(token) >= 4 && strings.Contains(msg, token) {
		t.Errorf("error message holds the token: %q", msg)
	}
	var out bytes.Buffer
	githubactions.New(githubactions.WithWriter(&out)).Errorf("%s", msg)
	if lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); len(lines) != 1 {
		t.Errorf("the annotation spans %d lines: %q", len(lines), out.String())
	}
	checkWorkflowCommands(t, out.String(), "pwned")
}
