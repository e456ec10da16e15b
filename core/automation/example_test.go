package automation_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
)

// A webhook receiver checks every request's signature before trusting
// it, and deduplicates on X-Rapport-Delivery: a delivery is retried until
// it is answered with a 2xx, so a receiver may see one twice.
func ExampleVerifySignature() {
	secret := []byte("the webhook action's secret")
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		err = automation.VerifySignature(secret,
			r.Header.Get(automation.HeaderTimestamp), r.Header.Get(automation.HeaderSignature), body, 5*time.Minute)
		if err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if id := r.Header.Get(automation.HeaderDelivery); !seen[id] {
			seen[id] = true
			fmt.Println("event", r.Header.Get(automation.HeaderEvent), "accepted")
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What Rapport sends:
	body := `{"id":"dlv_1","type":"deal.stage_changed"}`
	now := time.Now().Unix()
	for _, sig := range []string{automation.Sign(secret, now, []byte(body)), "v1=forged"} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(automation.HeaderDelivery, "dlv_1")
		req.Header.Set(automation.HeaderEvent, "deal.stage_changed")
		req.Header.Set(automation.HeaderTimestamp, strconv.FormatInt(now, 10))
		req.Header.Set(automation.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// event deal.stage_changed accepted
	// 204
	// 401
}
