package errcode_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rapportcrm/rapport/core/errcode"
)

// TestDatabaseUnavailable: the errors of a database that cannot be
// reached or is going away are UNAVAILABLE, wrapped or not; a
// constraint, a syntax error, the request's own deadline and an error
// that already has a code are not.
func TestDatabaseUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want errcode.Code
	}{
		{"refused", refused, errcode.Unavailable},
		{"refused, wrapped", fmt.Errorf("ent: starting a transaction: %w", refused), errcode.Unavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, errcode.Unavailable},
		{"cannot connect now", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P03"}), errcode.Unavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, errcode.Unavailable},
		{"bad connection", driver.ErrBadConn, errcode.Unavailable},
		{"connection done", sql.ErrConnDone, errcode.Unavailable},
		{"cut mid-answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), errcode.Unavailable},
		{"unique violation", &pgconn.PgError{Code: "23505"}, errcode.Internal},
		{"syntax error", &pgconn.PgError{Code: "42601"}, errcode.Internal},
		{"query canceled", &pgconn.PgError{Code: "57014"}, errcode.Internal},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), errcode.Internal},
		{"canceled", context.Canceled, errcode.Internal},
		{"coded", errcode.Wrap(errcode.Conflict, refused), errcode.Conflict},
		{"plain", errors.New("boom"), errcode.Internal},
	} {
		if got := errcode.Of(tc.err); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
