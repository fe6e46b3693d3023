// Package inputcheck checks the values buoy's CI entrypoints are given
// (the GitHub Action's inputs, the Buildkite plugin's options) before
// anything runs, so that a typo fails the step at once with a message that
// says what to write, rather than as an AWS error halfway through.
//
// Each check returns nil or an error that describes the value (quoted and
// shortened by Quote, so it never carries raw control characters or a
// megabyte of input) and what to write instead; the caller names the input
// or option.
//
// Limits holds the lock and ECS budget settings all three entrypoints
// (the CLI too) take, and checks them with one set of rules and messages
// against the library's bounds and defaults (pkg/deploy's MinLockTTL,
// DefaultLockTTL, DefaultECSRate, ...): this package states no limit of
// its own.
package inputcheck

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/buoy-deploy/buoy/pkg/manifest"
)

// MaxText is the longest value, in bytes, any input may have. Free text
// (a description) is the longest an input sensibly is.
const MaxText = 4096

// maxQuoted is how much of a value an error message quotes.
const maxQuoted = 64

var (
	// releaseRe is a release id (a ULID) or a prefix of one, in either case.
	releaseRe = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{1,26}$`)
	// tableRe is a DynamoDB table name.
	tableRe = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	// tableARNRe is a DynamoDB table's ARN, which DynamoDB takes too.
	tableARNRe = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$`)
)

// Quote quotes v for an error message with Go's escapes, so control
// characters, line breaks and invalid UTF-8 show as \n, \x00, ...;
// a long value is cut to its start and its length.
func Quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(v[:cut]), len(v))
}

// Text checks free text: valid UTF-8, at most MaxText bytes, and no
// control characters but line breaks and tabs.
func Text(v string) error {
	return text(v, "\n\t")
}

// Line checks one line of text: like Text, without line breaks or tabs.
func Line(v string) error {
	return text(v, "")
}

func text(v, allowed string) error {
	switch {
	case len(v) > MaxText:
		return fmt.Errorf("%s is too long: at most %d bytes", Quote(v), MaxText)
	case !utf8.ValidString(v):
		return fmt.Errorf("%s is not valid UTF-8 text", Quote(v))
	}
	for _, r := range v {
		if unicode.IsControl(r) && !strings.ContainsRune(allowed, r) {
			return fmt.Errorf("%s holds the control character %U: remove it", Quote(v), r)
		}
	}
	return nil
}

// match checks v with Line, then with valid.
func match(v string, valid func(string) bool, what string) error {
	if err := Line(v); err != nil {
		return err
	}
	if !valid(v) {
		return fmt.Errorf("%s is not %s", Quote(v), what)
	}
	return nil
}

// Label checks an image tag to take digests from, e.g. ref.3f2a9c1.
func Label(v string) error {
	return match(v, manifest.ValidTag, "an image tag: use up to 128 letters, digits, '.', '_' and '-', not starting with '.' or '-', e.g. ref.3f2a9c1")
}

// ID checks a project or environment id of the manifest.
func ID(v string) error {
	return match(v, manifest.ValidID, "an id of the manifest: use up to 64 letters, digits, '.', '_' and '-', starting with a letter or digit, e.g. stage")
}

// LatestRelease is the word all three entrypoints take, where a release
// id goes, for the latest release (the Action's release input defaults to
// it). No release id can be it: ids leave out the letters I, L, O and U.
const LatestRelease = "latest"

// Release checks a release id or a unique prefix of one, or
// LatestRelease.
func Release(v string) error {
	if v == LatestRelease {
		return nil
	}
	return match(v, releaseRe.MatchString, "a release id: give the 26-character id `buoy history` lists (or its start), e.g. 01JD7Y3R8XK2V6M4N9P0Q1R2S3, or latest")
}

// Region checks an AWS region.
func Region(v string) error {
	return match(v, manifest.ValidRegion, "an AWS region, e.g. eu-west-1")
}

// Table checks a DynamoDB table name or ARN.
func Table(v string) error {
	if strings.HasPrefix(v, "arn:") {
		return match(v, tableARNRe.MatchString, "a DynamoDB table ARN: write arn:aws:dynamodb:<region>:<account>:table/<name>, or only the name")
	}
	return match(v, tableRe.MatchString, "a DynamoDB table name: use 3 to 255 letters, digits, '.', '_' and '-', e.g. buoy-history")
}

// URL checks an absolute http or https URL.
func URL(v string) error {
	if err := Line(v); err != nil {
		return err
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s is not a URL: write it whole, e.g. https://shop.example.com", Quote(v))
	}
	return nil
}

// Path checks a file path: one line, no control characters.
func Path(v string) error {
	return Line(v)
}

// Duration parses a positive duration such as 30m, 1h or 90s.
func Duration(v string) (time.Duration, error) {
	if err := Line(v); err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s is not a duration: write it like 30m, 1h or 90s", Quote(v))
	case d <= 0:
		return 0, fmt.Errorf("%s must be more than zero: write it like 30m", Quote(v))
	}
	return d, nil
}
