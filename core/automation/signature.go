package automation

import (
	"time"

	"github.com/rapportcrm/rapport/core/automation/internal/webhook"
)

// Webhook request headers.
const (
	// HeaderDelivery carries the delivery's ID, the same on every retry of
	// one delivery: receivers deduplicate on it.
	HeaderDelivery = webhook.HeaderDelivery
	// HeaderEvent carries the event type, e.g. deal.stage_changed.
	HeaderEvent = webhook.HeaderEvent
	// HeaderTimestamp carries the Unix time (seconds) of signing.
	HeaderTimestamp = webhook.HeaderTimestamp
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256, keyed with the
	// webhook action's secret, of the timestamp, ".", and the raw body.
	HeaderSignature = webhook.HeaderSignature
)

// Errors of VerifySignature.
var (
	// ErrBadSignature: the signature does not match the body and
	// timestamp.
	ErrBadSignature = webhook.ErrBadSignature
	// ErrStaleSignature: the timestamp is further from now than the
	// tolerance (a replay).
	ErrStaleSignature = webhook.ErrStale
)

// VerifySignature checks a webhook request as a receiver should: timestamp
// and signature are the X-Rapport-Timestamp and X-Rapport-Signature
// headers, body the raw request body. A tolerance above zero also refuses
// timestamps further than that from now.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, tolerance time.Duration) error {
	return webhook.Verify(secret, timestamp, signature, body, tolerance, time.Now())
}

// Sign returns the X-Rapport-Signature of body signed at timestamp (Unix
// seconds), for receivers' tests.
func Sign(secret []byte, timestamp int64, body []byte) string {
	return webhook.Sign(secret, timestamp, body)
}
