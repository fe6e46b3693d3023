package inputcheck_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/internal/inputcheck"
	"github.com/buoy-deploy/buoy/pkg/deploy"
)

func TestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(string) error
		value string
		want  string // "" when the value is fine
	}{
		{"label", inputcheck.Label, "ref.3f2a9c1", ""},
		{"label with a space", inputcheck.Label, "ref 3f2a", `"ref 3f2a" is not an image tag`},
		{"label with a leading dot", inputcheck.Label, ".hidden", "not starting with '.'"},
		{"id", inputcheck.ID, "stage", ""},
		{"id with a slash", inputcheck.ID, "stage/eu", `"stage/eu" is not an id of the manifest`},
		{"release", inputcheck.Release, "01JD7Y3R", ""},
		{"latest release", inputcheck.Release, "latest", ""},
		{"release in capitals", inputcheck.Release, "LATEST", "is not a release id"},
		{"release with a path", inputcheck.Release, "../01JD", `"../01JD" is not a release id`},
		{"release with a U", inputcheck.Release, "01JDU", "not a release id"},
		{"region", inputcheck.Region, "eu-west-1", ""},
		{"region in capitals", inputcheck.Region, "EU-WEST-1", `"EU-WEST-1" is not an AWS region`},
		{"table", inputcheck.Table, "buoy-history", ""},
		{"table ARN", inputcheck.Table, "arn:aws:dynamodb:eu-west-1:123456789012:table/buoy-history", ""},
		{"short table", inputcheck.Table, "bh", "3 to 255"},
		{"bad table ARN", inputcheck.Table, "arn:aws:s3:::bucket", "is not a DynamoDB table ARN"},
		{"URL", inputcheck.URL, "https://shop.example.com/x", ""},
		{"URL without scheme", inputcheck.URL, "shop.example.com", "is not a URL"},
		{"javascript URL", inputcheck.URL, "javascript:alert(1)", "is not a URL"},
		{"text with lines", inputcheck.Text, "fix login\nand logout\t(#42)", ""},
		{"text with NUL", inputcheck.Text, "a\x00b", `"a\x00b" holds the control character U+0000`},
		{"text with an escape", inputcheck.Text, "\x1b]8;;x\x07", "U+001B"},
		{"text not UTF-8", inputcheck.Text, "caf\xe9", `"caf\xe9" is not valid UTF-8`},
		{"huge text", inputcheck.Text, strings.Repeat("x", inputcheck.MaxText+1), "too long: at most 4096 bytes"},
		{"line with a break", inputcheck.Line, "a\n::error::b", `"a\n::error::b" holds the control character U+000A`},
		{"path", inputcheck.Path, "deploy/buoy.yaml", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.check(tt.value)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check(%q) = %v, want nil", tt.value, err)
			case tt.want != "" && err == nil:
				t.Errorf("check(%q) = nil, want an error containing %q", tt.value, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("check(%q) = %q, want it to contain %q", tt.value, err, tt.want)
			}
			if err != nil && len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long, want the value shortened", len(err.Error()))
			}
		})
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	if d, err := inputcheck.Duration("90s"); err != nil || d.Seconds() != 90 {
		t.Errorf("Duration(90s) = %v, %v", d, err)
	}
	for in, want := range map[string]string{
		"30":    `"30" is not a duration: write it like 30m`,
		"-5m":   `"-5m" must be more than zero`,
		"0s":    "more than zero",
		"1h\n2": "U+000A",
	} {
		if _, err := inputcheck.Duration(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Duration(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestQuoteShortens(t *testing.T) {
	t.Parallel()
	got := inputcheck.Quote(strings.Repeat("é", 1000))
	if !strings.HasSuffix(got, "… (2000 bytes)") || len(got) > 100 {
		t.Errorf("Quote = %q, want the start and the length", got)
	}
}

func TestLimitsProblems(t *testing.T) {
	t.Parallel()
	flag := func(key string) string { return "--" + key }
	if errs := inputcheck.DefaultLimits().Problems(flag); len(errs) != 0 {
		t.Errorf("the defaults have problems: %v", errs)
	}
	edge := inputcheck.Limits{LockWait: 0, LockTTL: deploy.MinLockTTL, ECSQuotaShare: 0.01, ECSRate: 0.01, ECSBurst: 1}
	if errs := edge.Problems(flag); len(errs) != 0 {
		t.Errorf("the smallest allowed limits have problems: %v", errs)
	}
	bad := inputcheck.Limits{LockWait: -time.Second, LockTTL: time.Second, ECSQuotaShare: math.NaN(), ECSRate: math.Inf(1), ECSBurst: 0}
	want := []string{
		"--lock-wait must not be negative, got -1s",
		"--lock-ttl must be at least 3s (the lease is renewed every third of it), got 1s",
		"--ecs-quota-share must be a number above 0 (0.5 is half of AWS's quota, 1 all of it), not NaN",
		"--ecs-rate must be a number of requests a second above 0, not +Inf",
		"--ecs-burst must be at least 1, not 0",
	}
	errs := bad.Problems(flag)
	if len(errs) != len(want) {
		t.Fatalf("Problems = %v, want %d errors", errs, len(want))
	}
	for i, err := range errs {
		if err.Error() != want[i] {
			t.Errorf("problem %d = %q, want %q", i, err, want[i])
		}
	}
	longest := inputcheck.DefaultLimits()
	longest.LockTTL = deploy.MaxLockTTL
	if errs := longest.Problems(flag); len(errs) != 0 {
		t.Errorf("the longest allowed lock TTL has problems: %v", errs)
	}
	for _, ttl := range []time.Duration{deploy.MaxLockTTL + time.Nanosecond, time.Hour, 2562047 * time.Hour, math.MaxInt64} {
		l := inputcheck.DefaultLimits()
		l.LockTTL = ttl
		errs := l.Problems(flag)
		want := "--lock-ttl must be at most 10m0s (the lease is renewed every third of it, so it never needs to be long, and a killed run's lock is taken over only a lease after it stopped): write 2m, the default, or up to 10m, got " + ttl.String()
		if len(errs) != 1 || errs[0].Error() != want {
			t.Errorf("lock TTL %v: problems %v, want %q", ttl, errs, want)
		}
	}
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(-1)} {
		l := inputcheck.DefaultLimits()
		l.ECSRate = rate
		if errs := l.Problems(flag); len(errs) != 1 {
			t.Errorf("ECS rate %v: problems %v, want one", rate, errs)
		}
	}
}

func TestLimitParsers(t *testing.T) {
	t.Parallel()
	if d, err := inputcheck.AnyDuration("0"); err != nil || d != 0 {
		t.Errorf("AnyDuration(0) = %v, %v; want 0", d, err)
	}
	if d, err := inputcheck.AnyDuration("-5s"); err != nil || d != -5*time.Second {
		t.Errorf("AnyDuration(-5s) = %v, %v; want -5s (the limits refuse it)", d, err)
	}
	if f, err := inputcheck.Number("0.5"); err != nil || f != 0.5 {
		t.Errorf("Number(0.5) = %v, %v", f, err)
	}
	if n, err := inputcheck.WholeNumber("50"); err != nil || n != 50 {
		t.Errorf("WholeNumber(50) = %v, %v", n, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"duration in words", second(inputcheck.AnyDuration("5 minutes")), `"5 minutes" is not a duration: write it like 10m, 90s or 0`},
		{"duration with a break", second(inputcheck.AnyDuration("5m\n")), "U+000A"},
		{"number in words", second(inputcheck.Number("twenty")), `"twenty" is not a number: write it like 20 or 0.5`},
		{"number out of range", second(inputcheck.Number("1e400")), "is not a number"},
		{"fraction as whole number", second(inputcheck.WholeNumber("2.5")), `"2.5" is not a whole number: write it like 50`},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.name, tc.err, tc.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestEmpty(t *testing.T) {
	t.Parallel()
	flag := func(key string) string { return "--" + key }
	for key, want := range map[string]string{
		"release":    "--release is empty: give a release id (`buoy history` lists them), or leave it out to deploy the latest release (an empty value is often a variable that is not set)",
		"from-label": "--from-label is empty: give the tag to take the digests from, e.g. ref.3f2a9c1, or leave it out to use latest",
		"cluster":    "--cluster is empty: give a value, or leave it out for the default",
		// The defaults named are the library's.
		"timeout":         "--timeout is empty: write it like 30m, or leave it out for 30m (",
		"lock-wait":       "--lock-wait is empty: write it like 10m (0 gives up at once), or leave it out for 5m (",
		"lock-ttl":        "--lock-ttl is empty: write it like 2m, or leave it out for 2m (",
		"ecs-quota-share": "--ecs-quota-share is empty: write it like 0.5, or leave it out for 1 (",
		"ecs-rate":        "--ecs-rate is empty: write it like 20, or leave it out for 20 (",
		"ecs-burst":       "--ecs-burst is empty: write it like 50, or leave it out for 100 (",
		"table":           "--table is empty: give the DynamoDB table, or leave it out for buoy-history (",
	} {
		if got := inputcheck.Empty(flag, key).Error(); !strings.HasPrefix(got, want) {
			t.Errorf("Empty(%s) = %q, want it to start with %q", key, got, want)
		}
	}
}
