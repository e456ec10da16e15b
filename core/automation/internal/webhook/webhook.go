// Package webhook posts signed JSON payloads to webhook targets.
//
// A request carries the headers
//
//	X-Rapport-Delivery:  the delivery's ID, the same on every retry
//	X-Rapport-Event:     the event type, e.g. deal.stage_changed
//	X-Rapport-Timestamp: Unix seconds when the request was signed
//	X-Rapport-Signature: v1=<hex HMAC-SHA256 of timestamp + "." + body>
//
// keyed with the action's secret.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/outbound"
)

// Header names.
const (
	HeaderDelivery  = "X-Rapport-Delivery"
	HeaderEvent     = "X-Rapport-Event"
	HeaderTimestamp = "X-Rapport-Timestamp"
	HeaderSignature = "X-Rapport-Signature"
)

// Sign returns the X-Rapport-Signature value for body sent at timestamp
// (Unix seconds).
func Sign(secret []byte, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the tolerance")
)

// Verify checks a request's signature and that its timestamp is within
// tolerance of now (no check when tolerance is 0).
func Verify(secret []byte, timestamp, signature string, body []byte, tolerance time.Duration, now time.Time) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp %q", ErrBadSignature, timestamp)
	}
	if tolerance > 0 && math.Abs(float64(now.Unix()-ts)) > tolerance.Seconds() {
		return ErrStale
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	return nil
}

// Request is one POST.
type Request struct {
	URL        string
	Secret     []byte
	DeliveryID string
	Event      string
	Body       []byte
	Now        time.Time
}

// Result is what the target answered.
type Result struct {
	// Status is the HTTP status, 0 when no answer came.
	Status int
}

// Post sends r with client and returns an error unless the target
// answered 2xx. The client's timeout (or ctx's deadline) bounds a slow
// target.
func Post(ctx context.Context, client *http.Client, r Request) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Result{}, fmt.Errorf("webhook request: %w", err)
	}
	ts := r.Now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Rapport-Webhook/1")
	req.Header.Set(HeaderDelivery, r.DeliveryID)
	req.Header.Set(HeaderEvent, r.Event)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(r.Secret, ts, r.Body))
	res, err := client.Do(req)
	if err != nil {
		// What a tenant reads of the failure says refused, timed out or
		// unreachable, never the addresses or system messages behind it.
		return Result{}, outbound.Error("webhook POST "+redact(r.URL), err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return Result{Status: res.StatusCode}, fmt.Errorf("webhook POST %s: answered %s", redact(r.URL), res.Status)
	}
	return Result{Status: res.StatusCode}, nil
}

func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
