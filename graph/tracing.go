package graph

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/http/pprof"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/rapportcrm/rapport/internal/telemetry"
)

// resolverSpans traces every field that runs a resolver or a method (the
// ones that reach the database or a plugin: root fields, edges,
// computed fields) as a span "graphql Type.field"; plain struct fields
// make none, and neither does a request that is not traced (before the
// span's name is even built: this runs for every field of an answer).
func resolverSpans(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if !(fc.IsResolver || fc.IsMethod) || !trace.SpanFromContext(ctx).IsRecording() {
		return next(ctx)
	}
	ctx, span := telemetry.StartChild(ctx, "graphql "+fc.Object+"."+fc.Field.Name)
	if !span.IsRecording() {
		return next(ctx)
	}
	defer span.End()
	span.SetAttributes(attribute.String("graphql.field.path", fc.Path().String()))
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "resolver failed")
	}
	return res, err
}

// withTraceID adds the request's trace ID to every error's extensions
// (traceId), so an error a client reports can be found among the traces.
func withTraceID(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := present(ctx, err)
		if id := telemetry.TraceID(ctx); id != "" {
			if gerr.Extensions == nil {
				gerr.Extensions = map[string]any{}
			}
			gerr.Extensions["traceId"] = id
		}
		return gerr
	}
}

// pprofHandler serves Go's profiles (/debug/pprof/…) to the bearer of
// the operator's token only: profiles show every workspace's work, so no
// workspace token, not even an admin's, opens them.
func pprofHandler(token string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" || subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			unauthenticated(w, "profiles need the operator's token: send Authorization: Bearer <token>")
			return
		}
		mux.ServeHTTP(w, r)
	})
}
