package telemetry_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/telemetry"
)

// The traced driver keeps what ent's raw statements need (QueryContext on
// the client and in a transaction) and traces them inside a trace only.
func TestDriverRawStatements(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	st := storetest.Open(t, "sqlite", store.WithDriver(telemetry.Driver))
	ctx := tenancy.System(context.Background())
	rows, err := st.Client.QueryContext(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if n := len(rec.Ended()); n != 0 {
		t.Errorf("%d spans outside a trace, want none", n)
	}
	traced, span := telemetry.Start(ctx, "request")
	tx, err := st.Client.Tx(traced)
	if err != nil {
		t.Fatal(err)
	}
	rows, err = tx.Client().QueryContext(traced, "SELECT 2")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	span.End()
	var sel int
	for _, s := range rec.Ended() {
		if s.Name() == "SQL SELECT" && s.Parent().SpanID() == span.SpanContext().SpanID() {
			sel++
		}
	}
	if sel != 1 {
		t.Errorf("%d SQL SELECT spans under the request, want 1", sel)
	}
}
