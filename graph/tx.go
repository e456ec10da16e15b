package graph

import (
	"context"
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/core/errcode"
)

// transactions runs every mutation operation in one transaction, as
// entgql.Transactioner does (it keeps that extension's serialization of
// the operation's resolvers), but reports a transaction that cannot be
// opened or committed as a coded error through the server's error
// presenter: entgql answers those with the driver's message and no code,
// which tells a client nothing it can act on and shows it the database's
// user, name and address.
type transactions struct {
	entgql.Transactioner
	log *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = transactions{}

// InterceptResponse runs a mutation operation in a transaction: committed
// when the operation has no error, rolled back otherwise.
func (t transactions) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	op := graphql.GetOperationContext(ctx).Operation
	if op == nil || op.Operation != ast.Mutation || (t.SkipTxFunc != nil && t.SkipTxFunc(op)) {
		return next(ctx)
	}
	txCtx, tx, err := t.OpenTx(ctx)
	if err != nil {
		t.log.WarnContext(ctx, "graphql: cannot open a transaction", "err", err)
		return t.failed(ctx, errcode.New(errcode.Unavailable, "the database is unavailable: nothing was changed; retry"))
	}
	defer func() {
		if r := recover(); r != nil {
			_ = tx.Rollback()
			panic(r)
		}
	}()
	rsp := next(txCtx)
	if rsp == nil || len(rsp.Errors) > 0 {
		_ = tx.Rollback()
		if rsp == nil {
			return nil
		}
		// The data of a rolled-back operation was never stored: answer
		// the errors alone, and the extensions (the cost budget).
		return &graphql.Response{Errors: rsp.Errors, Extensions: rsp.Extensions}
	}
	if err := tx.Commit(); err != nil {
		t.log.WarnContext(ctx, "graphql: cannot commit a transaction", "err", err)
		// A lost connection may leave the outcome unknown to the server
		// too: the client must read before it retries a write that is
		// not idempotent.
		return t.failed(ctx, errcode.New(errcode.Unavailable, "the database did not confirm the change: it may or may not be stored; read it back before retrying"))
	}
	return rsp
}

// failed answers err alone, presented as every other error is.
func (t transactions) failed(ctx context.Context, err error) *graphql.Response {
	graphql.AddError(ctx, err)
	return &graphql.Response{Errors: graphql.GetErrors(ctx), Extensions: graphql.GetExtensions(ctx)}
}
