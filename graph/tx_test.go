package graph_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestTransactionFailures: a mutation whose transaction cannot be opened,
// or whose commit fails, is answered UNAVAILABLE with a message of the
// server's own (never the driver's, which names the database's user and
// address), nothing of it is stored, and the next mutation succeeds.
func TestTransactionFailures(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		driverErr := errors.New("failed to connect to `user=secretuser database=secretdb`: 127.0.0.1:5432: connection refused")
		count := func() int {
			d := e.ok("a", `{ contacts { totalCount } }`, nil)
			return int(num(d, "contacts", "totalCount"))
		}
		in := map[string]any{"in": map[string]any{"lastName": "Lost"}}
		for _, c := range []struct {
			name string
			set  func(*error)
			want string
		}{
			{"begin", e.counter.failBegin.Store, "nothing was changed"},
			{"commit", e.counter.failCommit.Store, "may or may not be stored"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := count()
				c.set(&driverErr)
				r := e.do("a", createContact, in)
				c.set(nil)
				if len(r.Errors) != 1 || r.Errors[0].code() != "UNAVAILABLE" {
					t.Fatalf("errors %+v, want one UNAVAILABLE", r.Errors)
				}
				msg := r.Errors[0].Message
				if !strings.Contains(msg, c.want) || strings.Contains(msg, "secret") || strings.Contains(msg, "5432") {
					t.Errorf("message %q: want one that says %q and not the driver's", msg, c.want)
				}
				if r.Data["createContact"] != nil {
					t.Errorf("data %v for a mutation that was not stored", r.Data)
				}
				if after := count(); after != before {
					t.Errorf("%d contacts after the failed mutation, %d before", after, before)
				}
				e.ok("a", createContact, in)
				if after := count(); after != before+1 {
					t.Errorf("%d contacts after the next mutation, want %d", after, before+1)
				}
			})
		}
	})
}

// TestDatabaseUnavailable: a read that fails because the database cannot
// be reached is answered UNAVAILABLE, without the driver's words; the
// next read, the database back, succeeds.
func TestDatabaseUnavailable(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.ok("a", `{ contacts { totalCount } }`, nil) // the token is known
		refused := fmt.Errorf("failed to connect to `user=secretuser database=secretdb`: %w",
			&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
		e.counter.failQuery.Store(&refused)
		r := e.do("a", `{ contacts { totalCount } }`, nil)
		e.counter.failQuery.Store(nil)
		if len(r.Errors) == 0 || r.Errors[0].code() != "UNAVAILABLE" {
			t.Fatalf("errors %+v, want UNAVAILABLE", r.Errors)
		}
		if msg := r.Errors[0].Message; strings.Contains(msg, "secret") || !strings.Contains(msg, "unavailable") {
			t.Errorf("message %q: want the server's words, not the driver's", msg)
		}
		e.ok("a", `{ contacts { totalCount } }`, nil)
	})
}
