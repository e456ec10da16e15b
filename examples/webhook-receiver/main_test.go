package main

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
)

// TestReceiver checks the standard-library recipe against Rapport's own
// signing: a signed delivery is accepted once (a retry of it is answered
// but not handled again), and forged, altered, stale or unsigned ones are
// refused.
func TestReceiver(t *testing.T) {
	secret := []byte("s3cret")
	var handled []string
	h := handler(secret, func(event string, body []byte) { handled = append(handled, event) })
	body := `{"type":"deal.stage_changed","record":{"id":"del_1"}}`
	now := time.Now().Unix()
	send := func(ts int64, sig, payload, delivery string) int {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(payload))
		req.Header.Set("X-Rapport-Timestamp", strconv.FormatInt(ts, 10))
		req.Header.Set("X-Rapport-Signature", sig)
		req.Header.Set("X-Rapport-Delivery", delivery)
		req.Header.Set("X-Rapport-Event", "deal.stage_changed")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	good := automation.Sign(secret, now, []byte(body))
	for _, c := range []struct {
		name          string
		ts            int64
		sig, payload  string
		want, handled int
	}{
		{"signed", now, good, body, 204, 1},
		{"retried", now, good, body, 204, 1},
		{"forged", now, "v1=00", body, 401, 1},
		{"altered body", now, good, body + " ", 401, 1},
		{"other secret", now, automation.Sign([]byte("other"), now, []byte(body)), body, 401, 1},
		{"stale", now - 3600, automation.Sign(secret, now-3600, []byte(body)), body, 401, 1},
		{"unsigned", now, "", body, 401, 1},
	} {
		if got := send(c.ts, c.sig, c.payload, "dlv_1"); got != c.want || len(handled) != c.handled {
			t.Errorf("%s: status %d, handled %d; want %d, %d", c.name, got, len(handled), c.want, c.handled)
		}
	}
}
