package deploy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/buoy-deploy/buoy/pkg/clock/clocktest"
	"github.com/buoy-deploy/buoy/pkg/event"
	"github.com/buoy-deploy/buoy/pkg/history"
	"github.com/buoy-deploy/buoy/pkg/manifest"
	"github.com/buoy-deploy/buoy/pkg/notify"
)

// hookServer is a local notification endpoint: it keeps every request
// and answers each with the next of its statuses (then 200).
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []hookRequest
	statuses []int
	// arrived gets a value as each request arrives.
	arrived chan struct{}
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookServer(t *testing.T, statuses ...int) *hookServer {
	t.Helper()
	h := &hookServer{statuses: statuses, arrived: make(chan struct{}, 64)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.requests = append(h.requests, hookRequest{header: r.Header.Clone(), body: body})
		select {
		case h.arrived <- struct{}{}:
		default:
		}
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// signedBy checks a webhook request as a receiver would, apart from
// notify.Sign: HMAC-SHA256 of "<Buoy-Timestamp>.<body>" keyed with secret.
func signedBy(secret string, r hookRequest) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(r.header.Get("Buoy-Timestamp") + "."))
	mac.Write(r.body)
	return hmac.Equal([]byte(r.header.Get("Buoy-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
}

// notifyFixture is the deploy fixture whose project tells a Slack
// webhook (failures and rollbacks only) and a signed webhook (every
// event) about each deployment, both local servers.
type notifyFixture struct {
	*fixture
	slack, hook *hookServer
}

const hookSecret = "hmac-key-0123456789"

func newNotifyFixture(t *testing.T, slack, hook *hookServer) *notifyFixture {
	t.Helper()
	secrets := map[string]string{"SLACK_WEBHOOK_URL": slack.URL + "/services/T0/B0/SLACKSECRET", "HOOK_URL": hook.URL + "/buoy", "HOOK_SECRET": hookSecret}
	// Its own clock, whose waits end at once: retries take no real time.
	notifier := notify.New(notify.WithClock(clocktest.NewAuto(time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC))))
	f := newFixture(t, WithNotifySecrets(secrets), WithNotifier(notifier))
	f.project.Notify = []manifest.NotifyTarget{
		{Kind: manifest.NotifySlack, URLEnv: "SLACK_WEBHOOK_URL", On: []manifest.NotifyEvent{manifest.NotifyFailure, manifest.NotifyRollback}},
		{Kind: manifest.NotifyWebhook, URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET", On: manifest.NotifyEvents()},
	}
	return &notifyFixture{fixture: f, slack: slack, hook: hook}
}

// TestNotifiesStartAndOutcome: each deployment tells the webhook it
// started and how it ended (success, failure, rollback), signed, with
// the deployment's record in the body; Slack hears only of what it
// asked for; the record keeps how each notification went.
func TestNotifiesStartAndOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		failing    string // the service whose rollout fails
		rollback   bool
		wantStatus history.Status
		wantEnd    string
		wantSlack  bool
	}{
		{"success", "", false, history.StatusSucceeded, "success", false},
		{"failure", "worker", false, history.StatusFailed, "failure", true},
		{"rollback", "api", true, history.StatusRolledBack, "rollback", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newNotifyFixture(t, newHookServer(t), newHookServer(t))
			if tc.failing != "" {
				f.w.failRollout[tc.failing] = "tasks stopped: CannotPullContainerError"
			}
			res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.Rollback = tc.rollback })
			if res == nil || res.Deployment == nil || res.Status != tc.wantStatus {
				t.Fatalf("ReleaseDeploy: got %+v, %v; want a %s deployment", res, err, tc.wantStatus)
			}
			hooks := f.hook.got()
			var events []string
			for i, r := range hooks {
				var msg notify.Message
				if err := json.Unmarshal(r.body, &msg); err != nil {
					t.Fatalf("webhook body %d is not a message: %v\n%s", i, err, r.body)
				}
				events = append(events, msg.Event)
				if !signedBy(hookSecret, r) {
					t.Errorf("webhook request %d is not signed with the secret", i)
				}
				if msg.DeploymentID != res.Deployment.ID || msg.Project != "demo" || msg.Environment != "stage" || msg.ReleaseID != res.Release.ID {
					t.Errorf("webhook message %d: got %+v, want deployment %s of release %s to demo/stage", i, msg, res.Deployment.ID, res.Release.ID)
				}
				if msg.Event != "start" && (msg.Status != string(tc.wantStatus) || len(msg.Services) != 2) {
					t.Errorf("webhook message %s: got status %s and %d services, want %s and 2", msg.Event, msg.Status, len(msg.Services), tc.wantStatus)
				}
				if want := res.Deployment.ID + "." + msg.Event; r.header.Get("Buoy-Delivery") != want {
					t.Errorf("Buoy-Delivery: got %q, want %q", r.header.Get("Buoy-Delivery"), want)
				}
			}
			if want := []string{"start", tc.wantEnd}; !slices.Equal(events, want) {
				t.Errorf("webhook events: got %v, want %v", events, want)
			}
			if got := len(f.slack.got()); got != map[bool]int{true: 1, false: 0}[tc.wantSlack] {
				t.Errorf("Slack got %d posts, want one only for a failure or a rollback", got)
			}
			rec := f.deployment(res.Deployment.ID)
			var recorded []string
			for _, n := range rec.Notifications {
				recorded = append(recorded, n.Target+" "+n.Event+" "+n.Outcome)
				if n.Attempts != 1 || n.Error != "" || n.At.IsZero() {
					t.Errorf("notification %+v: want sent in one try, with its time", n)
				}
			}
			want := []string{"webhook (HOOK_URL) start sent", "webhook (HOOK_URL) " + tc.wantEnd + " sent"}
			if tc.wantSlack {
				want = append(want[:1], "slack (SLACK_WEBHOOK_URL) "+tc.wantEnd+" sent", want[1])
			}
			if !slices.Equal(recorded, want) {
				t.Errorf("recorded notifications: got %q, want %q", recorded, want)
			}
			if rec.Status != tc.wantStatus {
				t.Errorf("record status: got %s, want %s", rec.Status, tc.wantStatus)
			}
		})
	}
}

// TestFailedNotificationNeverFailsTheDeployment: endpoints that answer
// 500 or 429 to every try, or that nobody listens on, do not change how
// the deployment ends: it succeeds, the environment records what it
// runs, the lock is freed; the record keeps each failed notification
// with its error and tries, and each is a warning event.
func TestFailedNotificationNeverFailsTheDeployment(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name      string
		hook      *hookServer
		url       string // the webhook's URL, when not the hook's
		wantError string
		attempts  int
	}{
		{"500 to every try", newHookServer(t, 500, 500, 500, 500, 500, 500, 500, 500), "", "it answered 500 Internal Server Error (4 tries)", 4},
		{"429 to every try", newHookServer(t, 429, 429, 429, 429, 429, 429, 429, 429), "", "it answered 429 Too Many Requests (4 tries)", 4},
		{"nobody listens", newHookServer(t), deadURL, "could not reach it: dial tcp", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newNotifyFixture(t, newHookServer(t), tc.hook)
			if tc.url != "" {
				f.d.notifySecrets["HOOK_URL"] = tc.url
			}
			res, err := f.releaseDeploy("stage")
			if err != nil || res.Status != history.StatusSucceeded {
				t.Fatalf("ReleaseDeploy: got %v, %v; want it to succeed", res.Status, err)
			}
			rec := f.deployment(res.Deployment.ID)
			if rec.Status != history.StatusSucceeded {
				t.Errorf("record status: got %s, want succeeded", rec.Status)
			}
			if cur, err := f.store.GetCurrent(context.Background(), "demo", "stage"); err != nil || cur.DeploymentID != rec.ID {
				t.Errorf("current of stage: got %+v, %v; want deployment %s", cur, err, rec.ID)
			}
			if lockHeld(f.store, "demo", "stage") {
				t.Error("the lock is still held")
			}
			if len(rec.Notifications) != 2 {
				t.Fatalf("recorded notifications: got %+v, want start and success", rec.Notifications)
			}
			for i, n := range rec.Notifications {
				if n.Event != []string{"start", "success"}[i] || n.Outcome != history.NotificationFailed ||
					!strings.HasPrefix(n.Error, tc.wantError) || n.Attempts != tc.attempts {
					t.Errorf("notification %d: got %+v, want %s failed after %d tries: %s", i, n, []string{"start", "success"}[i], tc.attempts, tc.wantError)
				}
			}
			var warned int
			for _, e := range f.events.OfKind(event.Warning) {
				if strings.HasPrefix(e.Message, "could not notify webhook (HOOK_URL) of the deployment's ") &&
					strings.Contains(e.Message, tc.wantError) && e.Deployment == rec.ID {
					warned++
				}
			}
			if warned != 2 {
				t.Errorf("warnings of failed notifications: got %d, want 2 (start, success) in %+v", warned, f.events.OfKind(event.Warning))
			}
			if fin := f.events.OfKind(event.Finished); len(fin) != 1 || fin[0].Outcome != "succeeded" {
				t.Errorf("finished events: got %+v, want one succeeded", fin)
			}
		})
	}
}

// TestMissingNotifyVariableFailsFirst: a deployment whose notify targets
// read a variable that was not given (or that does not hold a URL) fails
// as bad input naming the variable, never quoting a value, before it
// writes or changes anything; a dry run only warns; a target of another
// environment does not count.
func TestMissingNotifyVariableFailsFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		secrets map[string]string
		want    []string
	}{
		{"none given", nil, []string{"environment variable HOOK_URL, the URL of notify target webhook (HOOK_URL) (buoy.yaml:9:9), is not set",
			"environment variable HOOK_SECRET, the signing secret of notify target webhook (HOOK_URL) (buoy.yaml:9:9), is not set"}},
		{"empty secret", map[string]string{"HOOK_URL": "https://hooks.example.com/x", "HOOK_SECRET": ""},
			[]string{"environment variable HOOK_SECRET, the signing secret of notify target webhook (HOOK_URL) (buoy.yaml:9:9), is not set"}},
		{"not a URL", map[string]string{"HOOK_URL": "hooks.example.com/SECRETPATH", "HOOK_SECRET": "k"},
			[]string{"environment variable HOOK_URL, the URL of notify target webhook (HOOK_URL) (buoy.yaml:9:9), does not hold an http(s) URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithNotifySecrets(tc.secrets))
			f.project.Notify = []manifest.NotifyTarget{{Kind: manifest.NotifyWebhook, URLEnv: "HOOK_URL", SecretEnv: "HOOK_SECRET",
				On: manifest.NotifyEvents(), Pos: manifest.Position{File: "buoy.yaml", Line: 9, Column: 9}}}
			f.project.Environments[1].Notify = []manifest.NotifyTarget{{Kind: manifest.NotifySlack, URLEnv: "PROD_SLACK", On: manifest.NotifyEvents()}}
			rel := f.prepare()
			writes := f.store.Writes()
			for _, run := range []struct {
				name string
				do   func() (*Result, error)
			}{
				{"release-deploy", func() (*Result, error) { return f.releaseDeploy("stage") }},
				{"deploy", func() (*Result, error) {
					return f.d.Deploy(context.Background(), DeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}, Release: rel.ID})
				}},
			} {
				_, err := run.do()
				if !errors.Is(err, ErrInvalidInput) {
					t.Fatalf("%s: got %v, want ErrInvalidInput", run.name, err)
				}
				for _, want := range append(tc.want, "nothing was changed") {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: error %q does not say %q", run.name, err, want)
					}
				}
				if strings.Contains(err.Error(), "PROD_SLACK") || strings.Contains(err.Error(), "SECRETPATH") {
					t.Errorf("%s: error %q names prod's variable or quotes a value", run.name, err)
				}
			}
			if got := f.w.sideEffects(); len(got) != 0 {
				t.Errorf("side effects: got %q, want none", got)
			}
			if got := f.store.Writes(); !maps.Equal(got, writes) {
				t.Errorf("history writes: got %v, want only the prepared release's, %v", got, writes)
			}
			res, err := f.releaseDeploy("stage", func(in *ReleaseDeployInput) { in.DryRun = true })
			if err != nil || res.Status != StatusPlanned {
				t.Fatalf("dry run: got %+v, %v; want it planned", res, err)
			}
			var warned bool
			for _, e := range f.events.OfKind(event.Warning) {
				warned = warned || strings.HasPrefix(e.Message, "a real run would fail: ") && strings.Contains(e.Message, tc.want[0])
			}
			if !warned {
				t.Errorf("the dry run did not warn that a real run would fail: %+v", f.events.OfKind(event.Warning))
			}
		})
	}
}

// TestInterruptedRunStillTellsItsFailure: a run whose context is
// cancelled while it waits for ECS closes its record as cancelled and
// still tells the webhook: failure, status cancelled.
func TestInterruptedRunStillTellsItsFailure(t *testing.T) {
	t.Parallel()
	f := newNotifyFixture(t, newHookServer(t), newHookServer(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.w.onWait = func() error {
		<-f.hook.arrived // the start, sent in the background, reached the webhook
		cancel()
		return context.Canceled
	}
	res, err := f.d.ReleaseDeploy(ctx, ReleaseDeployInput{Request: Request{Environment: "stage", RequestedBy: "ci"}})
	if !errors.Is(err, context.Canceled) || res == nil || res.Status != history.StatusCancelled {
		t.Fatalf("ReleaseDeploy: got %+v, %v; want it cancelled", res, err)
	}
	var told []string
	for _, r := range f.hook.got() {
		var msg notify.Message
		if err := json.Unmarshal(r.body, &msg); err != nil {
			t.Fatal(err)
		}
		told = append(told, msg.Event+" "+msg.Status)
	}
	if want := []string{"start in-progress", "failure cancelled"}; !slices.Equal(told, want) {
		t.Errorf("webhook told %q, want %q", told, want)
	}
	if got := len(f.slack.got()); got != 1 {
		t.Errorf("Slack got %d posts, want the failure", got)
	}
	rec := f.deployment(res.Deployment.ID)
	if rec.Status != history.StatusCancelled || len(rec.Notifications) != 3 || rec.Notifications[2].Event != "failure" || rec.Notifications[2].Outcome != history.NotificationSent {
		t.Errorf("record: got %s with %+v, want cancelled with start and failure told", rec.Status, rec.Notifications)
	}
}
