package telemetry

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Handler traces every request of next as a server span "HTTP METHOD
// /path", a child of the caller's trace when its traceparent header names
// one (with the propagator Setup installs), carrying the method, the path
// and the status answered.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := otel.GetTextMapPropagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := Start(ctx, "HTTP "+r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.written {
		w.status, w.written = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer below.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Driver wraps an ent driver so that every SQL statement run inside a
// traced operation is a client span "SQL VERB" (SELECT, INSERT, …)
// holding the statement's text, never its arguments (which hold the
// records' values). Statements outside any trace make no span.
func Driver(d dialect.Driver) dialect.Driver { return &tracedDriver{Driver: d} }

type tracedDriver struct{ dialect.Driver }

func (d *tracedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return statement(ctx, d.Dialect(), query, func(ctx context.Context) error { return d.Driver.Exec(ctx, query, args, v) })
}

func (d *tracedDriver) Query(ctx context.Context, query string, args, v any) error {
	return statement(ctx, d.Dialect(), query, func(ctx context.Context) error { return d.Driver.Query(ctx, query, args, v) })
}

func (d *tracedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &tracedTx{Tx: tx, dialect: d.Dialect()}, nil
}

// BeginTx starts a transaction with options, when the driver below can.
func (d *tracedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tracedTx{Tx: tx, dialect: d.Dialect()}, nil
}

type tracedTx struct {
	dialect.Tx
	dialect string
}

func (t *tracedTx) Exec(ctx context.Context, query string, args, v any) error {
	return statement(ctx, t.dialect, query, func(ctx context.Context) error { return t.Tx.Exec(ctx, query, args, v) })
}

func (t *tracedTx) Query(ctx context.Context, query string, args, v any) error {
	return statement(ctx, t.dialect, query, func(ctx context.Context) error { return t.Tx.Query(ctx, query, args, v) })
}

func statement(ctx context.Context, dia, query string, run func(context.Context) error) error {
	ctx, span := StartChild(ctx, "SQL "+verb(query), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", dbSystem(dia)), attribute.String("db.query.text", query)))
	if !span.IsRecording() {
		return run(ctx)
	}
	defer span.End()
	err := run(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "statement failed")
	}
	return err
}

func verb(q string) string {
	q = strings.TrimSpace(q)
	if i := strings.IndexAny(q, " \t\n("); i > 0 {
		q = q[:i]
	}
	return strings.ToUpper(q)
}

func dbSystem(dia string) string {
	if dia == dialect.Postgres {
		return "postgresql"
	}
	return dia
}

// LogHandler adds trace_id and span_id to every record logged with a
// context that holds a span (the *Context methods of slog.Logger).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as)}
}
func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }

// queryContexter and execContexter are what ent's SQL driver and
// transactions offer besides dialect.Driver, for raw statements (ent's
// sql/execquery feature): the wrappers pass them on, traced.
type queryContexter interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type execContexter interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func queryContext(ctx context.Context, below any, dia, query string, args []any) (*sql.Rows, error) {
	q, ok := below.(queryContexter)
	if !ok {
		return nil, fmt.Errorf("QueryContext is not supported by %T", below)
	}
	var rows *sql.Rows
	err := statement(ctx, dia, query, func(ctx context.Context) (err error) {
		rows, err = q.QueryContext(ctx, query, args...)
		return err
	})
	return rows, err
}

func execContext(ctx context.Context, below any, dia, query string, args []any) (sql.Result, error) {
	x, ok := below.(execContexter)
	if !ok {
		return nil, fmt.Errorf("ExecContext is not supported by %T", below)
	}
	var res sql.Result
	err := statement(ctx, dia, query, func(ctx context.Context) (err error) {
		res, err = x.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// QueryContext runs a raw query through the driver below, traced.
func (d *tracedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return queryContext(ctx, d.Driver, d.Dialect(), query, args)
}

// ExecContext runs a raw statement through the driver below, traced.
func (d *tracedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, d.Driver, d.Dialect(), query, args)
}

// QueryContext runs a raw query in the transaction, traced.
func (t *tracedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return queryContext(ctx, t.Tx, t.dialect, query, args)
}

// ExecContext runs a raw statement in the transaction, traced.
func (t *tracedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return execContext(ctx, t.Tx, t.dialect, query, args)
}
