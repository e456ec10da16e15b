// Package errcode gives every error a stable code that API clients and the
// CLI can act on. Codes are the values of GraphQL's extensions.code.
package errcode

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients.
type Code string

// The codes Rapport reports.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	PluginFailed    Code = "PLUGIN_FAILED"
	// Conflict: the request is valid but clashes with work in progress
	// (another segmentation run of the same binding, say); retry later.
	Conflict Code = "CONFLICT"
	// Unavailable means the server is at capacity for the work asked
	// (reports, metrics, plugin runs), or its database cannot be reached:
	// retry later.
	Unavailable Code = "UNAVAILABLE"
	// RateLimited means the caller's token or workspace spent its budget
	// of requests or query cost: retry after the time the error says.
	RateLimited Code = "RATE_LIMITED"
	// LinkExpired: a one-time link (invite, password reset) is unknown,
	// used or expired; ask for a new one.
	LinkExpired Code = "LINK_EXPIRED"
	Internal    Code = "INTERNAL"
)

// Error is an error with a code and, for input errors, the offending field
// (a dotted path such as "input.3.email").
type Error struct {
	Code  Code
	Field string
	Msg   string
	Err   error
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Field != "" {
		return e.Field + ": " + msg
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Input returns a BAD_USER_INPUT error about field.
func Input(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Wrap gives err a code, keeping it as the cause.
func Wrap(code Code, err error) *Error { return &Error{Code: code, Err: err} }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// AtIndex prefixes the field of err with list[index], so a client of a
// bulk call learns which record failed: "input.3.email". The code of err is
// kept.
func AtIndex(list string, index int, err error) *Error {
	return Under(fmt.Sprintf("%s.%d", list, index), err)
}

// Under prefixes the field of err with prefix, the path of the argument
// that holds it: a record's error about "organizationID" becomes one about
// "input.organizationID". An error that names no field is about the whole
// argument, prefix. The code of err is kept.
func Under(prefix string, err error) *Error {
	e := &Error{Code: Of(err), Field: prefix, Err: err}
	if inner, ok := As(err); ok {
		e.Msg = inner.Msg
		if inner.Field != "" {
			e.Field = prefix + "." + inner.Field
		}
	} else if f := FieldOf(err); f != "" {
		e.Field = prefix + "." + f
		e.Msg = MessageOf(err)
	}
	return e
}
