package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
)

var start = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// receiver is a local HTTP endpoint that keeps every request it gets and
// answers each with the next of its scripted answers (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	answers  []answerScript
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

type answerScript struct {
	status int
	header map[string]string
	body   string
}

func newReceiver(t *testing.T, answers ...answerScript) *receiver {
	t.Helper()
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, received{path: req.URL.Path, header: req.Header.Clone(), body: body})
		a := answerScript{status: http.StatusOK, body: "ok"}
		if len(r.answers) > 0 {
			a, r.answers = r.answers[0], r.answers[1:]
		}
		r.mu.Unlock()
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

func testMessage(event, status string) Message {
	return Message{Event: event, Project: "shop", Environment: "prod", ReleaseID: "01JREL", DeploymentID: "01JDEP",
		Status: status, Reason: "web: 2 tasks stopped <script>&", RequestedBy: "alice via GitHub Actions (https://github.com/acme/shop/actions/runs/7)",
		StartedAt: start, FinishedAt: start.Add(time.Minute),
		Services: []Service{{Service: "web", Cluster: "shop-prod", Region: "eu-west-1", Outcome: "failed", Reason: "2 tasks stopped"}},
		CI:       CI{Provider: "github-actions", BuildURL: "https://github.com/acme/shop/actions/runs/7", Commit: "3f2a9c1e0b1c2d3e", Actor: "alice"}}
}

// TestSlackMessage: a Slack post is JSON with text and blocks naming the
// project, environment, release, status and reason, and a link to the
// CI build; text from AWS is escaped so it cannot add Slack markup.
func TestSlackMessage(t *testing.T) {
	t.Parallel()
	r := newReceiver(t)
	n := New(WithClock(clocktest.NewAuto(start)))
	res := n.Send(context.Background(), []Target{{Name: "slack (SLACK_WEBHOOK_URL)", Kind: Slack, URL: r.URL + "/services/T0/B0/x"}}, testMessage("failure", "failed"))
	if res[0].Err != nil || res[0].Attempts != 1 || res[0].Target != "slack (SLACK_WEBHOOK_URL)" {
		t.Fatalf("Send: got %+v, want sent in 1 try", res[0])
	}
	got := r.got()
	if len(got) != 1 || got[0].path != "/services/T0/B0/x" || got[0].header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests: got %+v, want one JSON post to the webhook's path", got)
	}
	var p slackPayload
	if err := json.Unmarshal(got[0].body, &p); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got[0].body)
	}
	if want := "shop: the deployment of release 01JREL to prod failed"; p.Text != want {
		t.Errorf("text: got %q, want %q", p.Text, want)
	}
	var texts []string // as Slack reads them
	for _, b := range p.Blocks {
		if b.Text != nil {
			texts = append(texts, b.Text.Text)
		}
		for _, f := range append(b.Fields, b.Elements...) {
			texts = append(texts, f.Text)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"*Project*\nshop", "*Environment*\nprod", "*Release*\n`01JREL`", "*Status*\nfailed",
		"2 tasks stopped &lt;script&gt;&amp;", "<https://github.com/acme/shop/actions/runs/7|CI build>", "commit `3f2a9c1e0b1c`"} {
		if !strings.Contains(all, want) {
			t.Errorf("Slack body lacks %s:\n%s", want, all)
		}
	}
	if strings.Contains(all, "<script>") {
		t.Errorf("Slack body carries unescaped markup:\n%s", all)
	}
}

// TestSlackHeadlines: each event and status has its own headline.
func TestSlackHeadlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ event, status, want string }{
		{"start", "in-progress", ":rocket: *shop*: deploying release 01JREL to prod"},
		{"success", "succeeded", ":white_check_mark: *shop*: release 01JREL is deployed to prod"},
		{"failure", "failed", ":x: *shop*: the deployment of release 01JREL to prod failed"},
		{"failure", "cancelled", ":no_entry_sign: *shop*: the deployment of release 01JREL to prod was cancelled"},
		{"rollback", "rolled-back", ":leftwards_arrow_with_hook: *shop*: the deployment of release 01JREL to prod failed and was rolled back to what ran before"},
	} {
		if got, _ := headline(testMessage(tc.event, tc.status)); got != tc.want {
			t.Errorf("headline(%s, %s): got %q, want %q", tc.event, tc.status, got, tc.want)
		}
	}
	// A `buoy rollback` is a deployment that says what it undoes.
	for _, tc := range []struct{ event, status, want string }{
		{"start", "in-progress", ":leftwards_arrow_with_hook: *shop*: rolling prod back to release 01JREL"},
		{"success", "succeeded", ":leftwards_arrow_with_hook: *shop*: prod is rolled back to release 01JREL"},
		{"failure", "failed", ":x: *shop*: the deployment of release 01JREL to prod failed"},
	} {
		msg := testMessage(tc.event, tc.status)
		msg.RollbackOf = "01JBAD"
		if got, _ := headline(msg); got != tc.want {
			t.Errorf("headline(%s, %s): got %q, want %q", tc.event, tc.status, got, tc.want)
		}
	}
}

// verifySignature checks a webhook request the way a receiver would,
// written here apart from Sign: HMAC-SHA256 over "<timestamp>.<body>".
func verifySignature(secret string, h http.Header, body []byte) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	_, _ = io.WriteString(mac, h.Get("Buoy-Timestamp")+".")
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(h.Get("Buoy-Signature")), []byte(want))
}

// TestWebhookIsSigned: a webhook gets the message as JSON with the
// event, delivery, timestamp and signature headers; the signature checks
// out over the exact body with the secret, and fails with another secret
// or another body.
func TestWebhookIsSigned(t *testing.T) {
	t.Parallel()
	r := newReceiver(t)
	n := New(WithClock(clocktest.NewAuto(start)))
	msg := testMessage("rollback", "rolled-back")
	res := n.Send(context.Background(), []Target{{Name: "webhook", Kind: Webhook, URL: r.URL + "/hook", Secret: "s3cret"}}, msg)
	if res[0].Err != nil {
		t.Fatalf("Send: %v", res[0].Err)
	}
	got := r.got()[0]
	for name, want := range map[string]string{
		"Buoy-Event": "rollback", "Buoy-Delivery": "01JDEP.rollback",
		"Buoy-Timestamp": strconv.FormatInt(start.Unix(), 10), "Content-Type": "application/json",
	} {
		if v := got.header.Get(name); v != want {
			t.Errorf("header %s: got %q, want %q", name, v, want)
		}
	}
	if !verifySignature("s3cret", got.header, got.body) {
		t.Errorf("signature %q does not check out over the body:\n%s", got.header.Get("Buoy-Signature"), got.body)
	}
	if verifySignature("another", got.header, got.body) || verifySignature("s3cret", got.header, append(got.body, ' ')) {
		t.Error("the signature checks out with another secret or body")
	}
	var body Message
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatal(err)
	}
	msg.Version = 1
	if b, w := mustJSON(t, body), mustJSON(t, msg); b != w {
		t.Errorf("body:\n got %s\nwant %s", b, w)
	}
	for _, key := range []string{`"version":1`, `"event":"rollback"`, `"deploymentId":"01JDEP"`, `"services":[{"service":"web"`, `"ci":{"provider":"github-actions"`} {
		if !strings.Contains(string(got.body), key) {
			t.Errorf("body lacks %s:\n%s", key, got.body)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRetries: 429 and 5xx answers are retried, waiting what Retry-After
// says (in seconds or as a date) or doubling from the least wait; other
// answers are not; a wait that would end past the deadline is not
// waited, and retries end after the last one allowed. Waits take time
// from the clock, so none is real.
func TestRetries(t *testing.T) {
	t.Parallel()
	retryAt := start.Add(3 * time.Second).Format(http.TimeFormat)
	for _, tc := range []struct {
		name      string
		answers   []answerScript
		wantErr   string
		attempts  int
		wantWaits []time.Duration
	}{
		{"500 then 200", []answerScript{{status: 500}}, "", 2, []time.Duration{250 * time.Millisecond}},
		{"429 with Retry-After seconds", []answerScript{{status: 429, header: map[string]string{"Retry-After": "2"}}}, "", 2, []time.Duration{2 * time.Second}},
		{"503 with Retry-After date", []answerScript{{status: 503, header: map[string]string{"Retry-After": retryAt}}}, "", 2, []time.Duration{3 * time.Second}},
		{"502, 500, 504 then 200", []answerScript{{status: 502}, {status: 500}, {status: 504}}, "", 4,
			[]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{"always 500", []answerScript{{status: 500}, {status: 500}, {status: 500}, {status: 500}}, "it answered 500 Internal Server Error (4 tries)", 4,
			[]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second}},
		{"400 is not retried", []answerScript{{status: 400, body: "bad"}}, "it answered 400 Bad Request (1 try)", 1, nil},
		{"Retry-After past the deadline", []answerScript{{status: 429, header: map[string]string{"Retry-After": "30"}}},
			"it answered 429 Too Many Requests; the next try was due in 30s, after the 5s deadline (1 try)", 1, nil},
		{"a redirect is not followed", []answerScript{{status: 301, header: map[string]string{"Location": "/elsewhere"}}},
			"it answered 301 Moved Permanently; buoy follows no redirect: give the URL it redirects to (1 try)", 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newReceiver(t, tc.answers...)
			clk := clocktest.NewAuto(start)
			n := New(WithClock(clk))
			res := n.Send(context.Background(), []Target{{Name: "webhook", Kind: Webhook, URL: r.URL, Secret: "k"}}, testMessage("start", "in-progress"))[0]
			switch {
			case tc.wantErr == "" && res.Err != nil:
				t.Errorf("Send: %v, want it sent", res.Err)
			case tc.wantErr != "" && (res.Err == nil || res.Err.Error() != tc.wantErr):
				t.Errorf("Send: got error %v, want %q", res.Err, tc.wantErr)
			}
			if res.Attempts != tc.attempts || len(r.got()) != tc.attempts {
				t.Errorf("attempts: got %d (the endpoint saw %d), want %d", res.Attempts, len(r.got()), tc.attempts)
			}
			if got := clk.Sleeps(); !slices.Equal(got, tc.wantWaits) {
				t.Errorf("waits: got %v, want %v", got, tc.wantWaits)
			}
			for i, req := range r.got() {
				if !verifySignature("k", req.header, req.body) {
					t.Errorf("try %d is not signed", i+1)
				}
			}
		})
	}
}

// TestUnreachableEndpoints: an endpoint nobody listens on, or one that
// never answers, is given up on within the deadline; the error says why
// without the URL (a Slack URL is the credential), and neither does an
// answer whose body could echo it.
func TestUnreachableEndpoints(t *testing.T) {
	t.Parallel()
	const secretPath = "/services/T0/B0/SECRETPATH"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + secretPath
	ln.Close()
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select { // until the client hangs up, or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // first: Close waits for the handler
	echo := newReceiver(t, answerScript{status: 404, body: "no route to " + secretPath})
	slack404 := newReceiver(t, answerScript{status: 404, body: "no_service"})
	for _, tc := range []struct {
		name     string
		url      string
		deadline time.Duration
		want     string
	}{
		{"nobody listens", dead, DefaultDeadline, "could not reach it: dial tcp"},
		// A real wait, as short as the deadline: a hung request is bounded
		// in real time.
		{"never answers", hung.URL + secretPath, 100 * time.Millisecond, "no answer within the deadline"},
		{"an answer that echoes the path", echo.URL + secretPath, DefaultDeadline, "it answered 404 Not Found (1 try)"},
		{"Slack's error code", slack404.URL + secretPath, DefaultDeadline, "it answered 404 Not Found: no_service (1 try)"},
		{"not a URL", "hooks.example.com" + secretPath, DefaultDeadline, "its URL is not an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := New(WithClock(clocktest.NewAuto(start)), WithDeadline(tc.deadline))
			res := n.Send(context.Background(), []Target{{Name: "slack (SLACK_WEBHOOK_URL)", Kind: Slack, URL: tc.url}}, testMessage("start", "in-progress"))[0]
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Fatalf("Send: got %v, want an error saying %q", res.Err, tc.want)
			}
			if strings.Contains(res.Err.Error(), "SECRETPATH") {
				t.Errorf("the error holds the URL: %v", res.Err)
			}
		})
	}
}

// TestSendTellsEveryTargetInOrder: targets are told at once, each
// result in the targets' order; one that fails does not stop another.
func TestSendTellsEveryTargetInOrder(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t)
	refusing := newReceiver(t, answerScript{status: 403, body: "action_prohibited"})
	n := New(WithClock(clocktest.NewAuto(start)))
	res := n.Send(context.Background(), []Target{
		{Name: "a", Kind: Slack, URL: refusing.URL},
		{Name: "b", Kind: Webhook, URL: ok.URL, Secret: "k"},
		{Name: "c", Kind: Webhook, URL: ok.URL}, // no secret: never sent unsigned
	}, testMessage("success", "succeeded"))
	if len(res) != 3 || res[0].Target != "a" || res[1].Target != "b" || res[2].Target != "c" {
		t.Fatalf("results: got %+v, want a, b, c in order", res)
	}
	if res[0].Err == nil || res[1].Err != nil || res[2].Err == nil || res[2].Err.Error() != "it has no signing secret" || res[2].Attempts != 0 {
		t.Errorf("results: got %+v, want a refused, b sent, c not sent for want of a secret", res)
	}
	if len(ok.got()) != 1 {
		t.Errorf("the webhook got %d requests, want 1 (the signed one)", len(ok.got()))
	}
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsNameTheTargetNotItsURL: go-retryablehttp's logs of every
// try, retry and failure reach the injected logger at debug level,
// naming the target; neither they nor the Notifier's own hold the URL
// or its secret path, for an answer or for an endpoint nobody listens
// on (whose error quotes the URL).
func TestLogsNameTheTargetNotItsURL(t *testing.T) {
	t.Parallel()
	const secretPath = "/services/T0/B0/SECRETPATH"
	failing := newReceiver(t, answerScript{status: 500}, answerScript{status: 500}, answerScript{status: 500}, answerScript{status: 500})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + secretPath + "?token=SECRETQUERY"
	ln.Close()
	var logs lockedBuffer
	n := New(WithClock(clocktest.NewAuto(start)), WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	res := n.Send(context.Background(), []Target{
		{Name: "slack (SLACK_WEBHOOK_URL)", Kind: Slack, URL: failing.URL + secretPath},
		{Name: "webhook (HOOK_URL)", Kind: Webhook, URL: dead, Secret: "k"},
	}, testMessage("start", "in-progress"))
	if res[0].Err == nil || res[1].Err == nil {
		t.Fatalf("Send: got %+v, want both to fail", res)
	}
	got := logs.String()
	for _, want := range []string{
		`msg="notify: performing request" target="slack (SLACK_WEBHOOK_URL)" method=POST`,
		`msg="notify: retrying request" target="slack (SLACK_WEBHOOK_URL)" request="POST <its URL> (status: 500)"`,
		`msg="notify: request failed" target="webhook (HOOK_URL)" error="Post \"<its URL>\": dial tcp`,
		`msg="notification not sent" target="slack (SLACK_WEBHOOK_URL)" event=start attempts=4`,
		"level=DEBUG",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %s:\n%s", want, got)
		}
	}
	for _, secret := range []string{"SECRETPATH", "SECRETQUERY", failing.URL, "url="} {
		if strings.Contains(got, secret) {
			t.Errorf("logs hold %q:\n%s", secret, got)
		}
	}
	if strings.Contains(got, "level=ERROR") || strings.Contains(got, "level=INFO") || strings.Contains(got, "level=WARN") {
		t.Errorf("logs above debug level:\n%s", got)
	}
}

// TestCancelStopsRetries: a Send whose context is cancelled while it
// waits to try again stops at once, saying so.
func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, answerScript{status: 503})
	clk := clocktest.New(start) // waits end only when advanced: never
	n := New(WithClock(clk))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() {
		done <- n.Send(ctx, []Target{{Name: "webhook", Kind: Webhook, URL: r.URL, Secret: "k"}}, testMessage("start", "in-progress"))[0]
	}()
	clk.WaitUntilWaiting(t, 1, nil)
	cancel()
	res := <-done
	if res.Err == nil || res.Err.Error() != "cancelled before it answered (1 try)" || res.Attempts != 1 {
		t.Errorf("Send: got %+v, want cancelled after 1 try", res)
	}
	if len(r.got()) != 1 {
		t.Errorf("the endpoint got %d requests, want 1", len(r.got()))
	}
}
