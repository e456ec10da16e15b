// Package telemetry is Rapport's tracing: OpenTelemetry spans for HTTP
// requests, GraphQL resolvers, SQL statements, plugin calls, queue jobs and
// webhook deliveries, exported over OTLP when the operator turns it on
// (rapport serve --otlp-endpoint, or OTEL_EXPORTER_OTLP_ENDPOINT), and the
// trace IDs in logs and errors.
//
// Spans go to OpenTelemetry's global tracer provider, looked up at each
// span: a no-op until Setup (or a test) installs one, so tracing costs
// next to nothing when it is off.
package telemetry

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Scope is the instrumentation scope of Rapport's spans.
const Scope = "github.com/rapportcrm/rapport"

// Tracer is the tracer of Rapport's spans, from the global provider.
func Tracer() trace.Tracer { return otel.Tracer(Scope) }

// Start starts a span named name as a child of ctx's span, if any.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, opts...)
}

// StartChild starts a span only when ctx already holds a recording span
// (so statements of background loops, such as the job queue's polling,
// make no traces of their own); otherwise it returns ctx and a span that
// records nothing.
func StartChild(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, parent
	}
	return Tracer().Start(ctx, name, opts...)
}

// TraceID is the trace ID of ctx's span in hex, or "" when there is none.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}
