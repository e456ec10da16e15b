package store

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"entgo.io/ent/dialect"
)

type byKeysKey struct{}

// ByKeys marks ctx as running statements that select rows by lists of
// keys, such as a plugin batch's "contact_id IN (…1,000 IDs…)". Every
// such statement also carries the workspace filter, "workspace_id = ?",
// and every table has indexes that begin with workspace_id: SQLite's
// planner then often walks the whole workspace through one of those
// instead of looking the keys up, whether or not it has statistics, so
// a batch costs as much as the workspace is large. Under ByKeys a SQLite
// store writes the filter as "+workspace_id = ?", which SQLite does not
// answer from an index: the filter still applies to every row, and the
// planner looks the keys up. PostgreSQL plans such statements well from
// its statistics and is left alone.
func ByKeys(ctx context.Context) context.Context {
	return context.WithValue(ctx, byKeysKey{}, true)
}

func isByKeys(ctx context.Context) bool {
	b, _ := ctx.Value(byKeysKey{}).(bool)
	return b
}

// workspaceTerm matches the workspace filter as ent writes it in a SQLite
// statement.
var workspaceTerm = regexp.MustCompile("(^|[ (])(`[a-z_0-9]+`\\.`workspace_id` = \\?)")

// keysFirst rewrites the workspace filter of a select run under ByKeys.
func keysFirst(ctx context.Context, query string) string {
	if !isByKeys(ctx) || !strings.HasPrefix(query, "SELECT ") {
		return query
	}
	return workspaceTerm.ReplaceAllString(query, "$1+$2")
}

// keysDriver applies keysFirst to a SQLite driver's queries, in and out
// of transactions.
type keysDriver struct{ dialect.Driver }

func (d keysDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.Driver.Query(ctx, keysFirst(ctx, query), args, v)
}

func (d keysDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return keysTx{tx}, nil
}

// BeginTx starts a transaction with options, as ent's Client.BeginTx
// needs.
func (d keysDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("BeginTx is not supported by driver %T", d.Driver)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return keysTx{tx}, nil
}

type keysTx struct{ dialect.Tx }

func (t keysTx) Query(ctx context.Context, query string, args, v any) error {
	return t.Tx.Query(ctx, keysFirst(ctx, query), args, v)
}

// QueryContext and ExecContext run raw SQL, as ent's generated
// Client.QueryContext and Tx.QueryContext expect of a driver.
func (d keysDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := d.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("QueryContext is not supported by driver %T", d.Driver)
	}
	return q.QueryContext(ctx, keysFirst(ctx, query), args...)
}

// ExecContext: see QueryContext.
func (d keysDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, ok := d.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("ExecContext is not supported by driver %T", d.Driver)
	}
	return q.ExecContext(ctx, query, args...)
}

// QueryContext: see keysDriver.QueryContext.
func (t keysTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	q, ok := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("QueryContext is not supported by transaction %T", t.Tx)
	}
	return q.QueryContext(ctx, keysFirst(ctx, query), args...)
}

// ExecContext: see keysDriver.QueryContext.
func (t keysTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	q, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("ExecContext is not supported by transaction %T", t.Tx)
	}
	return q.ExecContext(ctx, query, args...)
}
