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

// TestPublic: a client is never shown an internal error's detail nor an
// uncoded outage's driver words (which name the database's host and
// user); a coded outage and an input error keep their own words.
func TestPublic(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 5432}, Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name     string
		err      error
		msg      string
		withheld bool
	}{
		{"uncoded outage", fmt.Errorf("user=rapport host=10.0.0.7: %w", refused), errcode.MsgDatabaseUnavailable, true},
		{"coded outage", errcode.New(errcode.Unavailable, "the plugin host is restarting"), "the plugin host is restarting", false},
		{"internal", errors.New("nil map in resolver"), errcode.MsgInternal, true},
		{"coded internal", errcode.New(errcode.Internal, "secret detail"), errcode.MsgInternal, true},
		{"input", errcode.Input("email", "is not a valid email address"), "email: is not a valid email address", false},
		{"not found", errcode.New(errcode.NotFound, "no such deal"), "no such deal", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, withheld := errcode.Public(errcode.Of(tc.err), tc.err)
			if msg != tc.msg || withheld != tc.withheld {
				t.Errorf("Public(%v) = %q, %v; want %q, %v", tc.err, msg, withheld, tc.msg, tc.withheld)
			}
		})
	}
}
