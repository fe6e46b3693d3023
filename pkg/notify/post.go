package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// post sends msg to t, retrying within the deadline, and returns how many
// requests it made and, when t was not told, why, in words that hold
// neither t's URL nor its secret.
func (n *Notifier) post(ctx context.Context, t Target, msg Message) (int, error) {
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, errors.New("its URL is not an http(s) URL")
	}
	now := n.clock.Now()
	body, header, err := encode(t, msg, now)
	if err != nil {
		return 0, err
	}
	// The clock bounds the waits between tries; the context also bounds,
	// in real time, a request that hangs.
	deadline := now.Add(n.deadline)
	ctx, cancel := context.WithTimeout(ctx, n.deadline)
	defer cancel()

	var (
		attempts int
		wait     time.Duration
		gaveUp   error
	)
	rc := &retryablehttp.Client{
		HTTPClient: n.client,
		RetryMax:   n.retries,
		// Decide here whether to try again, and how long to wait first:
		// retryablehttp's own wait takes no clock, so it waits for
		// nothing (Backoff) and PrepareRetry waits on the Notifier's.
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			attempts++
			retry, _ := retryablehttp.DefaultRetryPolicy(ctx, resp, err)
			if !retry || attempts > n.retries {
				return false, nil
			}
			wait = n.backoff(attempts, resp)
			if left := deadline.Sub(n.clock.Now()); wait > left {
				gaveUp = fmt.Errorf("the next try was due in %s, after the %s deadline", wait.Round(time.Millisecond), n.deadline)
				return false, nil
			}
			return true, nil
		},
		Backoff: func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		PrepareRetry: func(req *http.Request) error {
			select {
			case <-n.clock.After(wait):
				return nil
			case <-req.Context().Done():
				return req.Context().Err()
			}
		},
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		Logger:       retryLogger{log: n.log, target: t},
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, t.URL, body)
	if err != nil {
		return 0, errors.New("cannot make a request of its URL")
	}
	req.Header = header
	resp, err := rc.Do(req)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err == nil && resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return attempts, nil
	}
	why := answer(t, resp, err)
	if gaveUp != nil {
		why += "; " + gaveUp.Error()
	}
	return attempts, fmt.Errorf("%s (%s)", why, tries(attempts))
}

// backoff is the wait before try number attempt+1: what a 429 or 503
// answer's Retry-After says, else twice the last wait, from minWait up
// to maxWait.
func (n *Notifier) backoff(attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), n.clock.Now()); ok {
			return d
		}
	}
	wait := n.minWait
	for i := 1; i < attempt && wait < n.maxWait; i++ {
		wait *= 2
	}
	return min(wait, n.maxWait)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// slackError is the short error code Slack answers a refused post with
// (invalid_payload, no_service, channel_is_archived, ...).
var slackError = regexp.MustCompile(`^[a-z_]{1,64}$`)

// answer says what the endpoint answered, or why it could not be
// reached, without t's URL. An answer's body is quoted only when it is
// one of Slack's error codes: another may echo the request's path.
func answer(t Target, resp *http.Response, err error) string {
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message starts with the method and the URL
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return "no answer within the deadline"
		case errors.Is(err, context.Canceled):
			return "cancelled before it answered"
		}
		return "could not reach it: " + scrub(t, err.Error())
	}
	msg := "it answered " + resp.Status
	if resp.StatusCode/100 == 3 {
		msg += "; buoy follows no redirect: give the URL it redirects to"
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 65))
	if code := strings.TrimSpace(string(b)); t.Kind == Slack && slackError.MatchString(code) {
		msg += ": " + code
	}
	return msg
}

func tries(n int) string {
	if n == 1 {
		return "1 try"
	}
	return fmt.Sprintf("%d tries", n)
}
