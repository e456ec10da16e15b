// Command webhook-receiver is a minimal receiver of Rapport's webhook
// action, written with the standard library only so that it reads as the
// recipe for any language:
//
//  1. read the raw body (before any JSON parsing);
//  2. compute HMAC-SHA256 with the action's secret over
//     X-Rapport-Timestamp + "." + body, hex-encode it, prefix "v1=";
//  3. compare it with X-Rapport-Signature in constant time, and refuse a
//     timestamp more than five minutes from now (replays);
//  4. deduplicate on X-Rapport-Delivery: a delivery is retried until it is
//     answered with a 2xx, so the same one may arrive twice;
//  5. answer 2xx quickly; do slow work after.
//
// Run it with the secret the automation's webhook action was saved with:
//
//	RAPPORT_WEBHOOK_SECRET=… go run ./examples/webhook-receiver -addr :9000
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// verify checks a request's signature as Rapport computes it.
func verify(secret []byte, timestamp, signature string, body []byte, now time.Time) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || math.Abs(float64(now.Unix()-ts)) > (5*time.Minute).Seconds() {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(signature))
}

// handler receives webhooks, verifying and deduplicating them.
func handler(secret []byte, got func(event string, body []byte)) http.Handler {
	var mu sync.Mutex
	seen := map[string]bool{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if !verify(secret, r.Header.Get("X-Rapport-Timestamp"), r.Header.Get("X-Rapport-Signature"), body, time.Now()) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("X-Rapport-Delivery")
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if !dup {
			got(r.Header.Get("X-Rapport-Event"), body)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func main() {
	addr := flag.String("addr", ":9000", "address to listen on")
	flag.Parse()
	secret := os.Getenv("RAPPORT_WEBHOOK_SECRET")
	if secret == "" {
		log.Fatal("set RAPPORT_WEBHOOK_SECRET to the webhook action's secret")
	}
	h := handler([]byte(secret), func(event string, body []byte) { log.Printf("%s: %s", event, body) })
	log.Printf("listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, h))
}
