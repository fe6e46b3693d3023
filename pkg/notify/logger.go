package notify

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// retryLogger hands go-retryablehttp's logs for the requests to one
// target to the Notifier's logger, at debug level (what a user needs to
// know, the outcome, the caller reports). Each line names the target;
// the URL retryablehttp logs is dropped, and any value that holds it or
// its path (a Slack URL's path is its credential) has it scrubbed.
type retryLogger struct {
	log    *slog.Logger
	target Target
}

var _ retryablehttp.LeveledLogger = retryLogger{}

func (l retryLogger) Error(msg string, kv ...any) { l.log.Debug("notify: "+msg, l.attrs(kv)...) }
func (l retryLogger) Warn(msg string, kv ...any)  { l.log.Debug("notify: "+msg, l.attrs(kv)...) }
func (l retryLogger) Info(msg string, kv ...any)  { l.log.Debug("notify: "+msg, l.attrs(kv)...) }
func (l retryLogger) Debug(msg string, kv ...any) { l.log.Debug("notify: "+msg, l.attrs(kv)...) }

// attrs returns kv with the target first, the url pair dropped, and every
// other value that is not a number or a duration written out and
// scrubbed of the target's URL.
func (l retryLogger) attrs(kv []any) []any {
	out := []any{"target", l.target.Name}
	for i := 0; i+1 < len(kv); i += 2 {
		key := fmt.Sprint(kv[i])
		if key == "url" {
			continue
		}
		switch v := kv[i+1].(type) {
		case int, time.Duration:
			out = append(out, key, v)
		default:
			out = append(out, key, scrub(l.target, fmt.Sprint(v)))
		}
	}
	return out
}

// scrub replaces in s the target's URL, as written and as Go writes it
// out, and then its path, query and fragment, with "<its URL>".
func scrub(t Target, s string) string {
	const name = "<its URL>"
	if t.URL == "" {
		return s
	}
	olds := []string{t.URL}
	if u, err := url.Parse(t.URL); err == nil {
		olds = append(olds, u.String(), u.Redacted())
		for _, part := range []string{u.EscapedPath(), u.Path, u.RawQuery, u.Fragment} {
			if len(part) > 1 { // "/" alone says nothing
				olds = append(olds, part)
			}
		}
	}
	for _, old := range olds {
		s = strings.ReplaceAll(s, old, name)
	}
	return s
}
