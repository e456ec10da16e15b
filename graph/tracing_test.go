package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
	"github.com/rapportcrm/rapport/internal/telemetry"
)

// record installs an in-memory span recorder as the global tracer
// provider for the test, and a no-op one after it.
func record(t *testing.T) *tracetest.SpanRecorder {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() {
		otel.SetTracerProvider(noop.NewTracerProvider())
		_ = tp.Shutdown(context.Background())
	})
	return rec
}

// newTracedEnv is an API over a store whose SQL statements are traced,
// with plugins, a workspace and its admin token ("a").
func newTracedEnv(t *testing.T, dia string, ext *extension.Registry, pprofToken string) *env {
	st := storetest.Open(t, dia, store.WithDriver(telemetry.Driver))
	e := &env{t: t, st: st, tokens: map[string]string{}}
	ws, err := access.CreateWorkspace(context.Background(), st.Client, "alpha", "Alpha")
	if err != nil {
		t.Fatal(err)
	}
	if e.tokens["a"], _, err = access.CreateToken(context.Background(), st.Client, ws, access.TokenOptions{Role: tenancy.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: st.Client, Extensions: ext, PprofToken: pprofToken}))
	t.Cleanup(e.srv.Close)
	return e
}

// spansOf are the ended spans of one trace, by span ID.
func spansOf(rec *tracetest.SpanRecorder, trace string) map[string]sdktrace.ReadOnlySpan {
	out := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID().String() == trace {
			out[s.SpanContext().SpanID().String()] = s
		}
	}
	return out
}

func attr(s sdktrace.ReadOnlySpan, key string) (string, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

// A scoreSubjects request through the real WASM runtime makes one trace:
// the HTTP request's span at its root, the resolver's span below it, SQL
// statements as children (their text, never their arguments), and the
// plugin call's span carrying leadscore@1.0.0 and the batch size (the 7
// leads of the workspace in one batch), below the resolver.
func TestTraceOfScoreSubjects(t *testing.T) {
	dir := extensiontest.Plugins(t)
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newTracedEnv(t, dia, extensiontest.Registry(t, dir), "")
			for i := range 7 {
				e.ok("a", `mutation($in: CreateLeadInput!) { createLead(input: $in) { id } }`,
					map[string]any{"in": map[string]any{"title": fmt.Sprintf("L%d", i), "source": "referral", "estimatedValue": i * 1000, "email": "secret@y.test"}})
			}
			e.ok("a", bindLeads, map[string]any{"p": "leadscore", "v": "1.0.0"})
			rec := record(t)
			d := e.ok("a", `mutation { scoreSubjects(subjectType: lead) { scored } }`, nil)
			if num(d, "scoreSubjects", "scored") != 7 {
				t.Fatalf("scored = %v", d)
			}
			var plugin sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				if ref, _ := attr(s, "rapport.plugin"); ref == "leadscore@1.0.0" && s.Name() == "plugin score" {
					plugin = s
				}
			}
			if plugin == nil {
				t.Fatal("no plugin span for leadscore@1.0.0")
			}
			if n, _ := attr(plugin, "rapport.plugin.batch_size"); n != "7" {
				t.Errorf("batch size %q, want 7", n)
			}
			if _, ok := attr(plugin, "rapport.plugin.guest_time_ms"); !ok {
				t.Error("no guest time on the plugin span")
			}
			spans := spansOf(rec, plugin.SpanContext().TraceID().String())
			// Walk from the plugin's span to the root.
			var chain []string
			for s := plugin; s != nil; s = spans[s.Parent().SpanID().String()] {
				chain = append(chain, s.Name())
				if !s.Parent().IsValid() {
					break
				}
			}
			if got := strings.Join(chain, " < "); got != "plugin score < graphql Mutation.scoreSubjects < HTTP POST /graphql" {
				t.Errorf("plugin span's ancestry: %s", got)
			}
			// The plugin's share of the request: its span within the
			// request's, and the guest's own time within the plugin span.
			var root sdktrace.ReadOnlySpan
			for _, s := range spans {
				if !s.Parent().IsValid() {
					root = s
				}
			}
			span := func(s sdktrace.ReadOnlySpan) time.Duration { return s.EndTime().Sub(s.StartTime()) }
			guestMS, _ := attr(plugin, "rapport.plugin.guest_time_ms")
			guest, err := strconv.ParseFloat(guestMS, 64)
			switch {
			case err != nil:
				t.Errorf("guest time %q: %v", guestMS, err)
			case root == nil:
				t.Error("no root span")
			case span(plugin) > span(root) || time.Duration(guest*float64(time.Millisecond)) > span(plugin)+time.Millisecond:
				t.Errorf("plugin span %v, guest %.3f ms, request %v: a part longer than its whole", span(plugin), guest, span(root))
			default:
				t.Logf("request %v; plugin call %v (%.0f%% of it), of which the guest's own %.3f ms",
					span(root), span(plugin), 100*float64(span(plugin))/float64(span(root)), guest)
			}
			verbs := map[string]int{}
			for _, s := range spans {
				if !strings.HasPrefix(s.Name(), "SQL ") {
					continue
				}
				verbs[s.Name()]++
				q, _ := attr(s, "db.query.text")
				if q == "" || strings.Contains(q, "secret@y.test") {
					t.Errorf("SQL span %s holds %q", s.Name(), q)
				}
				if p := spans[s.Parent().SpanID().String()]; p == nil {
					t.Errorf("SQL span %s has no parent in the trace", s.Name())
				}
			}
			if verbs["SQL SELECT"] == 0 || verbs["SQL INSERT"] == 0 {
				t.Errorf("SQL spans %v, want reads and the scores' inserts", verbs)
			}
		})
	}
}

// An error response carries its trace's ID in extensions.traceId: the ID
// of the request's span.
func TestErrorCarriesTraceID(t *testing.T) {
	e := newTracedEnv(t, "sqlite", nil, "")
	rec := record(t)
	er := e.fail("a", `mutation { updateContact(id: "con_01J00000000000000000000000", input: {lastName: "X"}) { id } }`, nil, "NOT_FOUND")
	id, _ := er.Extensions["traceId"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("traceId %q in %v", id, er.Extensions)
	}
	var found bool
	for _, s := range spansOf(rec, id) {
		found = found || (s.Name() == "HTTP POST /graphql" && !s.Parent().IsValid())
	}
	if !found {
		t.Errorf("no request span in trace %s", id)
	}
}

// /debug/pprof/ is not served without an operator token configured, and
// with one it answers only that token: not a workspace admin's.
func TestPprofNeedsTheOperator(t *testing.T) {
	const operator = "operator-token-0123456789"
	off := newTracedEnv(t, "sqlite", nil, "")
	on := newTracedEnv(t, "sqlite", nil, operator)
	get := func(e *env, auth string) int {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/debug/pprof/", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	tests := []struct {
		name string
		e    *env
		auth string
		want int
	}{
		{"off, operator", off, operator, http.StatusNotFound},
		{"off, admin", off, off.tokens["a"], http.StatusNotFound},
		{"on, nobody", on, "", http.StatusUnauthorized},
		{"on, workspace admin", on, on.tokens["a"], http.StatusUnauthorized},
		{"on, wrong token", on, operator + "x", http.StatusUnauthorized},
		{"on, operator", on, operator, http.StatusOK},
	}
	for _, tt := range tests {
		if got := get(tt.e, tt.auth); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
