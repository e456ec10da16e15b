package schema

import (
	"errors"
	"regexp"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/pulid"
)

var (
	slugPattern     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	keyPattern      = crm.CustomFieldKey
	// externalSourcePattern is what names an import source.
	externalSourcePattern = crm.ExternalSource
	// segmentKeyPattern is what a segment key, hand-made or a plugin's
	// answer, looks like.
	segmentKeyPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

	pulidID = pulid.ID("")
	money   = crm.Money(0)
)

// crmMoney converts a count to Money for multiplication.
func crmMoney(n int) crm.Money { return crm.Money(n) }

// errEmail is what a malformed email address is refused with: the API
// shows it as the message of a BAD_USER_INPUT error about the field.
var errEmail = errors.New("is not a valid email address (like name@example.com)")

// validEmail checks an email field of a record a person types in.
func validEmail(s string) error {
	if !emailPattern.MatchString(s) {
		return errEmail
	}
	return nil
}
