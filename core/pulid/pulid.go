// Package pulid implements Rapport's record identifiers: a short type prefix,
// an underscore and a ULID, for example "con_01JD8Z2X9T3V4W5Y6Z7A8B9C0D".
//
// IDs are globally unique across every table, sort by creation time, and are
// opaque to API clients. The prefix lets the GraphQL node resolver find the
// table of any ID without a lookup.
package pulid

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID is a prefixed ULID. The zero value is the empty ID, which is never valid
// for a stored record.
type ID string

// ErrMalformed is returned (wrapped) when text is not a well-formed ID.
var ErrMalformed = fmt.Errorf("malformed id")

// New returns a fresh ID with the given type prefix.
func New(prefix string) ID {
	return ID(prefix + "_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(time.Now()), entropy{}).String()))
}

// entropy reads from crypto/rand; ULIDs made in the same millisecond are
// then unique with overwhelming probability, from any number of processes.
type entropy struct{}

func (entropy) Read(p []byte) (int, error) { return io.ReadFull(rand.Reader, p) }

// Parse checks that s is a well-formed ID (prefix of 2 to 8 lower-case
// letters, an underscore, and a 26-character ULID) and returns it.
func Parse(s string) (ID, error) {
	prefix, rest, ok := strings.Cut(s, "_")
	if !ok || len(prefix) < 2 || len(prefix) > 8 || len(rest) != ulid.EncodedSize {
		return "", fmt.Errorf("%w: %q", ErrMalformed, s)
	}
	for _, r := range prefix {
		if r < 'a' || r > 'z' {
			return "", fmt.Errorf("%w: %q", ErrMalformed, s)
		}
	}
	if _, err := ulid.ParseStrict(strings.ToUpper(rest)); err != nil {
		return "", fmt.Errorf("%w: %q", ErrMalformed, s)
	}
	return ID(s), nil
}

// Prefix returns the type prefix of the ID ("con" for a contact), or "" if
// the ID has none.
func (id ID) Prefix() string {
	p, _, ok := strings.Cut(string(id), "_")
	if !ok {
		return ""
	}
	return p
}

// String returns the ID as text.
func (id ID) String() string { return string(id) }

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*id = ""
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(string(v))
	default:
		return fmt.Errorf("pulid: cannot scan %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }

// UnmarshalGQL implements graphql.Unmarshaler; malformed IDs are rejected
// with an error wrapping ErrMalformed.
func (id *ID) UnmarshalGQL(v any) error {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case ID:
		s = string(x)
	default:
		return fmt.Errorf("%w: ids are strings, got %T", ErrMalformed, v)
	}
	p, err := Parse(s)
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (id ID) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(id)))
}
