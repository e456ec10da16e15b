package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/graph"
)

// TestMetricsEndpoint: /metrics answers on the public handler only to the
// operator's token when one is set, and not at all when it is served on
// an address of its own.
func TestMetricsEndpoint(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	get := func(h http.Handler, auth string) int {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), "rapport_graphql_requests_total") && !strings.Contains(rec.Body.String(), "go_") {
			t.Errorf("metrics body: %.200s", rec.Body)
		}
		return rec.Code
	}
	open := graph.NewHandler(graph.Config{Client: st.Client})
	if c := get(open, ""); c != http.StatusOK {
		t.Errorf("open /metrics: %d", c)
	}
	guarded := graph.NewHandler(graph.Config{Client: st.Client, MetricsToken: "s3cret-metrics"})
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer s3cret-metrics": 200} {
		if c := get(guarded, auth); c != want {
			t.Errorf("token %q: %d, want %d", auth, c, want)
		}
	}
	off := graph.NewHandler(graph.Config{Client: st.Client, MetricsOff: true})
	if c := get(off, ""); c != http.StatusNotFound {
		t.Errorf("public /metrics with --metrics-addr: %d", c)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "go_test_total", Help: "x"}))
	if c := get(graph.MetricsHandler(reg, ""), ""); c != 200 {
		t.Errorf("separate metrics handler: %d", c)
	}
}
