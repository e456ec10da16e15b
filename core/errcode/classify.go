package errcode

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"entgo.io/ent/privacy"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Of returns the code for err: the code of an *Error in its chain, else a
// code derived from the data layer's error kinds, else INTERNAL.
func Of(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := As(err); ok {
		return e.Code
	}
	switch {
	case errors.Is(err, privacy.Deny):
		return Forbidden
	case ent.IsNotFound(err):
		return NotFound
	case ent.IsValidationError(err), ent.IsConstraintError(err),
		errors.Is(err, pulid.ErrMalformed), errors.Is(err, crm.ErrMoney):
		return BadUserInput
	case DatabaseUnavailable(err):
		return Unavailable
	}
	return Internal
}

// MsgDatabaseUnavailable is what a client is told of an error that
// DatabaseUnavailable tells, in place of the driver's words.
const MsgDatabaseUnavailable = "the database is unavailable; retry"

// MsgInternal is what a client is told of an internal error.
const MsgInternal = "internal error"

// Public returns the message a client may be shown for err, answered with
// code, and whether err's own words were withheld (the caller then logs
// them): an internal error's detail is never shown, nor the words of an
// outage that no layer coded, which name the database's address and user.
// Other errors are shown as MessageOf tells them.
func Public(code Code, err error) (msg string, withheld bool) {
	switch _, coded := As(err); {
	case code == Internal:
		return MsgInternal, true
	case code == Unavailable && !coded:
		return MsgDatabaseUnavailable, true
	}
	return MessageOf(err), false
}

// DatabaseUnavailable tells the errors of a database that cannot be
// reached or went away mid-statement (refused or broken connections, a
// server shutting down or starting up): the request may succeed if
// retried, unlike an internal error. Such errors' own messages name the
// database's address and user, so they are shown to no client.
func DatabaseUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// The request's own deadline (which passes for a net.Error), not
		// the database's.
		return false
	}
	// PostgreSQL's classes 08 (connection exception) and 57P01–57P03
	// (shutdown, crash shutdown, cannot connect now), from any driver
	// error that tells its SQLSTATE.
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		s := state.SQLState()
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03"
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF)
}

// FieldOf returns the GraphQL name of the field an error is about, if it
// names one: the Field of an *Error, or the field of an ent validation
// error ("first_name" becomes "firstName").
func FieldOf(err error) string {
	if e, ok := As(err); ok {
		return e.Field
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return FieldName(ve.Name)
	}
	return ""
}

// MessageOf returns err's message without the generated layer's prefix:
// a validator's own words ("is not a valid email address") rather than
// `ent: validator failed for field "Contact.email": …`.
func MessageOf(err error) string {
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		if u := ve.Unwrap(); u != nil {
			if inner := errors.Unwrap(u); inner != nil {
				return inner.Error()
			}
			return u.Error()
		}
	}
	return err.Error()
}

// FieldName turns a schema name (line_items) into its GraphQL form
// (lineItems), the form error fields use.
func FieldName(s string) string {
	out := make([]byte, 0, len(s))
	up := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}
