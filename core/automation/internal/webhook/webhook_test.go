package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"a":1}`)
	now := time.Unix(1_700_000_000, 0)
	sig := Sign(secret, now.Unix(), body)
	tests := []struct {
		name      string
		secret    []byte
		ts        string
		sig       string
		body      string
		tolerance time.Duration
		want      error
	}{
		{"valid", secret, "1700000000", sig, `{"a":1}`, 5 * time.Minute, nil},
		{"tampered body", secret, "1700000000", sig, `{"a":2}`, 0, ErrBadSignature},
		{"wrong secret", []byte("other"), "1700000000", sig, `{"a":1}`, 0, ErrBadSignature},
		{"wrong timestamp", secret, "1700000001", sig, `{"a":1}`, 0, ErrBadSignature},
		{"bad timestamp", secret, "x", sig, `{"a":1}`, 0, ErrBadSignature},
		{"stale", secret, "1699990000", Sign(secret, 1699990000, body), `{"a":1}`, 5 * time.Minute, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.ts, tt.sig, []byte(tt.body), tt.tolerance, now)
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPost(t *testing.T) {
	status := http.StatusOK
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
	}))
	defer srv.Close()
	r := Request{URL: srv.URL, Secret: []byte("k"), DeliveryID: "dlv_1", Event: "deal.updated", Body: []byte(`{}`), Now: time.Now()}
	res, err := Post(context.Background(), srv.Client(), r)
	if err != nil || res.Status != 200 {
		t.Fatalf("Post = %v, %v", res, err)
	}
	if err := Verify([]byte("k"), got.Header.Get(HeaderTimestamp), got.Header.Get(HeaderSignature), gotBody, time.Minute, time.Now()); err != nil {
		t.Errorf("signature: %v", err)
	}
	if got.Header.Get(HeaderDelivery) != "dlv_1" || got.Header.Get(HeaderEvent) != "deal.updated" {
		t.Errorf("headers %v", got.Header)
	}
	status = http.StatusInternalServerError
	if res, err := Post(context.Background(), srv.Client(), r); err == nil || res.Status != 500 {
		t.Errorf("500: %v, %v", res, err)
	}
}
