package inputs

import "sort"

// Kind is how an input's values travel in a batch.
type Kind string

// The kinds of input. Numbers, flags and times are numeric columns
// (missing values are NaN); categories are codes into a dictionary.
const (
	// Number is a plain number: money in currency units (cents / 100),
	// durations in days, counts.
	Number Kind = "number"
	// Category is text, an enum value or an ID, sent as a code.
	Category Kind = "category"
	// Flag is 0 or 1.
	Flag Kind = "flag"
	// Time is a moment as Unix seconds (UTC); a date is its midnight UTC.
	Time Kind = "time"
	// ID sends the subject IDs beside the columns (the built-in "id").
	ID Kind = "id"
)

// Numeric reports whether values of the kind travel as numbers.
func (k Kind) Numeric() bool { return k == Number || k == Flag || k == Time }

// Field is a scalar field of an entity.
type Field struct {
	// Kind is how its values travel.
	Kind Kind
	// Money marks an amount stored in cents and sent in currency units.
	Money bool
	// Enum lists the values of an enumerated field.
	Enum []string
	// MaxLen bounds a text field's length (0: an ID, an enum or unbounded).
	MaxLen int
	// Computed, when set, says how the host computes a field that is not
	// stored (an order's margin is its amount − its cost).
	Computed string
}

// Relation leads from an entity to another.
type Relation struct {
	// Target is the entity reached.
	Target string
	// Key is the foreign-key field: on the source for a to-one relation,
	// on the target for a to-many one.
	Key string
}

// Entity is what the catalog knows of one record type.
type Entity struct {
	// Fields are its scalar fields by name.
	Fields map[string]Field
	// One are its to-one relations by name (a deal's stage).
	One map[string]Relation
	// Many are its to-many relations by name (a contact's activities).
	Many map[string]Relation
	// Time is the field that dates a row of the entity, for windows and
	// days_since_* when it is reached through a to-many relation.
	Time string
	// Custom reports whether the entity has custom fields.
	Custom bool
	// Tags reports whether the entity can be tagged.
	Tags bool
}

// Subjects are the entity types a plugin can be given as subjects.
var Subjects = []string{"contact", "organization", "lead", "deal"}

// Lookup returns the catalog's entity of the given type.
func Lookup(entity string) (Entity, bool) {
	e, ok := catalog[entity]
	return e, ok
}

// Entities returns the names of every entity in the catalog, sorted.
func Entities() []string {
	out := make([]string, 0, len(catalog))
	for name := range catalog {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
