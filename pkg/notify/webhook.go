package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The headers of a webhook request (docs/notifications.md says how a
// receiver checks them).
const (
	// HeaderEvent is the event: start, success, failure or rollback.
	HeaderEvent = "Buoy-Event"
	// HeaderDelivery names the notification: "<deployment id>.<event>",
	// the same on every retry, so a receiver can drop duplicates.
	HeaderDelivery = "Buoy-Delivery"
	// HeaderTimestamp is when the request was signed, in Unix seconds.
	HeaderTimestamp = "Buoy-Timestamp"
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with
	// the target's secret, of the timestamp, ".", and the exact body.
	HeaderSignature = "Buoy-Signature"
)

// Sign returns the HeaderSignature of a request whose HeaderTimestamp is
// timestamp and whose body is body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// encode returns the body and headers of msg's request to t, signed at
// now for a webhook.
func encode(t Target, msg Message, now time.Time) ([]byte, http.Header, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "buoy")
	switch t.Kind {
	case Slack:
		body, err := json.Marshal(slackMessage(msg))
		return body, h, err
	case Webhook:
		if t.Secret == "" {
			return nil, nil, errors.New("it has no signing secret")
		}
		body, err := json.Marshal(msg)
		if err != nil {
			return nil, nil, fmt.Errorf("encode the message: %w", err)
		}
		ts := strconv.FormatInt(now.Unix(), 10)
		h.Set(HeaderEvent, msg.Event)
		h.Set(HeaderDelivery, msg.DeploymentID+"."+msg.Event)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign([]byte(t.Secret), ts, body))
		return body, h, nil
	default:
		return nil, nil, fmt.Errorf("kind %q is not one buoy sends", t.Kind)
	}
}
