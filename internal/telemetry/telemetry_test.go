package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The exporter posts OTLP/HTTP JSON to /v1/traces: IDs in hex, 64-bit
// integers as strings, the parent's span ID, kind 2 for a server span and
// status code 2 for an error, under the resource's service.name.
func TestOTLPExporter(t *testing.T) {
	var got map[string]any
	var path, ctype, auth string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, ctype, auth = r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
	}))
	defer collector.Close()
	exp, err := NewOTLPExporter(collector.URL, map[string]string{"Authorization": "Bearer k"})
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "rapport-test"))))
	tr := tp.Tracer("scope-x")
	ctx, parent := tr.Start(context.Background(), "HTTP POST /graphql", trace.WithSpanKind(trace.SpanKindServer))
	_, child := tr.Start(ctx, "SQL SELECT", trace.WithAttributes(attribute.Int("rows", 3), attribute.Bool("ok", true), attribute.String("db.query.text", "SELECT 1")))
	child.SetStatus(codes.Error, "boom")
	child.End()
	if path != "/v1/traces" || ctype != "application/json" || auth != "Bearer k" {
		t.Fatalf("posted to %q as %q with %q", path, ctype, auth)
	}
	rs := got["resourceSpans"].([]any)[0].(map[string]any)
	if a := rs["resource"].(map[string]any)["attributes"].([]any)[0].(map[string]any); a["key"] != "service.name" || a["value"].(map[string]any)["stringValue"] != "rapport-test" {
		t.Errorf("resource %v", a)
	}
	ss := rs["scopeSpans"].([]any)[0].(map[string]any)
	if ss["scope"].(map[string]any)["name"] != "scope-x" {
		t.Errorf("scope %v", ss["scope"])
	}
	span := ss["spans"].([]any)[0].(map[string]any)
	if span["traceId"] != parent.SpanContext().TraceID().String() || span["parentSpanId"] != parent.SpanContext().SpanID().String() ||
		span["name"] != "SQL SELECT" || span["kind"] != float64(1) || span["status"].(map[string]any)["code"] != float64(2) {
		t.Errorf("span %v", span)
	}
	want := map[string]string{"rows": `{"intValue":"3"}`, "ok": `{"boolValue":true}`, "db.query.text": `{"stringValue":"SELECT 1"}`}
	for _, a := range span["attributes"].([]any) {
		kv := a.(map[string]any)
		b, _ := json.Marshal(kv["value"])
		if w := want[kv["key"].(string)]; string(b) != w {
			t.Errorf("attribute %s = %s, want %s", kv["key"], b, w)
		}
	}
	parent.End()
	span = got["resourceSpans"].([]any)[0].(map[string]any)["scopeSpans"].([]any)[0].(map[string]any)["spans"].([]any)[0].(map[string]any)
	if span["kind"] != float64(2) || span["parentSpanId"] != nil {
		t.Errorf("root span %v", span)
	}
	if _, err := NewOTLPExporter("localhost:4318", nil); err == nil {
		t.Error("an endpoint without a scheme was taken")
	}
}

// Records logged with a traced context carry its trace and span IDs;
// others carry none.
func TestLogHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil))).With("k", "v")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("x").Start(context.Background(), "s")
	defer span.End()
	log.InfoContext(ctx, "traced")
	log.Info("plain")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "trace_id="+span.SpanContext().TraceID().String()) ||
		!strings.Contains(lines[0], "span_id="+span.SpanContext().SpanID().String()) || !strings.Contains(lines[0], "k=v") ||
		strings.Contains(lines[1], "trace_id") {
		t.Errorf("log:\n%s", buf.String())
	}
}

// Setup without an endpoint (flag or environment) leaves tracing off.
func TestSetupOff(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	stop, on, err := Setup(context.Background(), Options{})
	if err != nil || on || stop(context.Background()) != nil {
		t.Errorf("Setup() = %v, %v", on, err)
	}
	if _, _, err := Setup(context.Background(), Options{Endpoint: "not a url"}); err == nil {
		t.Error("a bad endpoint was taken")
	}
}
