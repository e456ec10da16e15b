package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/errcode"
)

// presentErrors gives every GraphQL error an extensions.code, and for input
// errors the offending field in extensions.field. Internal errors are
// logged in full and shown to the client without their details.
func presentErrors(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		// Errors gqlgen makes itself (parse, validation, complexity) come
		// with a code of their own: keep it as the reason.
		existing, _ := gerr.Extensions["code"].(string)
		if existing != "" && !isOurCode(existing) {
			gerr.Extensions["reason"] = existing
			gerr.Extensions["code"] = string(errcode.BadUserInput)
			return gerr
		}
		var ge *gqlerror.Error
		cause := err
		if errors.As(err, &ge) && ge.Err != nil {
			cause = ge.Err
		}
		code := errcode.Of(cause)
		if code == errcode.Internal && existing != "" {
			code = errcode.Code(existing) // set by a layer that knew better
		}
		if code == errcode.Internal && ge != nil && ge.Err == nil && len(gerr.Path) == 0 {
			// A bare gqlerror without a cause was raised by the GraphQL
			// layer about the request itself.
			code = errcode.BadUserInput
		}
		gerr.Extensions["code"] = string(code)
		if f := errcode.FieldOf(cause); f != "" {
			gerr.Extensions["field"] = f
			gerr.Message = f + ": " + errcode.MessageOf(cause)
			if e, ok := errcode.As(cause); ok {
				gerr.Message = e.Error()
			}
		}
		if msg, withheld := errcode.Public(code, cause); withheld {
			level := slog.LevelWarn // an outage, retried by the client
			if code == errcode.Internal {
				level = slog.LevelError
			}
			log.Log(ctx, level, "graphql error withheld from the client", "code", code, "path", gerr.Path.String(), "err", err)
			gerr.Message = msg
		}
		return gerr
	}
}

func isOurCode(c string) bool {
	switch errcode.Code(c) {
	case errcode.Unauthenticated, errcode.Forbidden, errcode.BadUserInput, errcode.NotFound, errcode.PluginFailed, errcode.Conflict, errcode.Unavailable, errcode.RateLimited, errcode.Internal:
		return true
	}
	return false
}
