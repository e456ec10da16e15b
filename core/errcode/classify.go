package errcode

import (
	"errors"

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
	}
	return Internal
}
