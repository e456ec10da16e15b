// Package inputs is the language in which a plugin's manifest declares
// the data it needs about each subject, and the catalog of what a
// workspace holds that the declarations are checked against.
//
// An input is one string of a manifest's "inputs" list:
//
//	[name =] expression
//
// where the expression is one of
//
//	estimated_value                         a built-in (see Builtins)
//	amount, expected_close_date             a field of the subject
//	custom.budget:number                    a custom field, with the kind expected
//	organization.industry                   a field of a to-one relation (at most 2 hops)
//	contact.organization.custom.tier:category
//	tag:vip                                 1 when the subject has the tag
//	segment                                 the key of its first open segment
//	segment:at_risk                         1 when it is in that segment
//	count(activities where kind = call within 30d)
//	sum(orders.amount within 365d)
//	days_since_last(activities where direction = inbound)
//
// The column the plugin receives is named by name, else by the expression
// as Canonical prints it. sdk/INPUTS.md is the reference.
package inputs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of a declaration.
const (
	// MaxInputs is the most inputs per subject type.
	MaxInputs = 64
	// MaxLen is the longest input string.
	MaxLen = 200
	// MaxHops is the deepest chain of to-one relations.
	MaxHops = 2
	// MaxWindow is the longest window.
	MaxWindow = 10 * 366 * 24 * time.Hour
	// MaxConditions is the most conditions of one aggregate.
	MaxConditions = 8
	// MaxValues is the most values of one "in" list.
	MaxValues = 32
	// BatchBytes is the host's budget for one batch's columns at
	// BatchSubjects subjects: a declaration whose worst case exceeds it is
	// refused.
	BatchBytes = 8 << 20
	// BatchSubjects is the batch size the budget is reckoned at (the
	// host's default).
	BatchSubjects = 1000
)

// Functions are the aggregate functions.
var Functions = []string{"count", "sum", "min", "max", "mean", "days_since_first", "days_since_last"}

// Input is one parsed declaration.
type Input struct {
	// Name is the column's name.
	Name string
	// Text is the declaration as written.
	Text string
	// Kind is how its values travel.
	Kind Kind
	// Builtin is set for a built-in: Name is the built-in's name.
	Builtin bool
	// Path are the to-one relations walked from the subject, in order.
	Path []string
	// Entity is the entity that holds Field (the subject's type, or the
	// target of the last hop of Path).
	Entity string
	// Field is the field read (for a custom field, its key).
	Field string
	// Custom marks a custom field.
	Custom bool
	// Tag is the tag's name, for tag:NAME.
	Tag string
	// Segment is set for "segment" and segment:KEY (SegmentKey set).
	Segment    bool
	SegmentKey string
	// Agg is set for an aggregate.
	Agg *Aggregate
}

// Aggregate is an aggregate over a to-many relation.
type Aggregate struct {
	// Func is one of Functions.
	Func string
	// Relation is the to-many relation of the subject.
	Relation string
	// Target is the entity the relation reaches.
	Target string
	// Field is the target's field aggregated (none for count; for
	// days_since_*, the target's time field unless named).
	Field string
	// Where are conditions on the target's fields, all of which hold.
	Where []Condition
	// Within keeps rows dated in (now − Within, now]; 0 keeps every row.
	Within time.Duration
	// WithinText is the window as written, e.g. "30d".
	WithinText string
}

// Condition compares a field of an aggregated row with values.
type Condition struct {
	Field string
	// Op is =, !=, <, <=, >, >= or in.
	Op string
	// Values are the values compared with (one, except for in).
	Values []string
	// Kind is the field's kind: Numbers parse Values as numbers, flags as
	// true/false.
	Kind Kind
}

// Error is a problem with one input.
type Error struct {
	// Index is the input's position in its list, from 0.
	Index int
	// Subject is the subject type of the list.
	Subject string
	// Problem says what is wrong.
	Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("inputs.%s.%d: %s", e.Subject, e.Index, e.Problem)
}

// Parse reads one input of a subject type's list and checks it against
// the catalog. Custom fields are checked only for their syntax: only a
// workspace knows its custom fields (see CheckCustom).
func Parse(subject string, index int, text string) (*Input, error) {
	return parse(nil, subject, index, text)
}

func parse(ws *Workspace, subject string, index int, text string) (*Input, error) {
	fail := func(format string, args ...any) error {
		return &Error{Index: index, Subject: subject, Problem: fmt.Sprintf(format, args...)}
	}
	if _, ok := catalog[subject]; !ok {
		return nil, fail("unknown subject type %q (want one of %s)", subject, strings.Join(Subjects, ", "))
	}
	if len(text) > MaxLen {
		return nil, fail("longer than %d characters", MaxLen)
	}
	toks, err := lex(text)
	if err != nil {
		return nil, fail("%v", err)
	}
	p := &parser{toks: toks, subject: subject, ws: ws}
	in, err := p.input()
	if err != nil {
		return nil, fail("%v", err)
	}
	in.Text = text
	return in, nil
}

// ParseAll parses a subject type's list, refusing duplicate column names,
// more than MaxInputs inputs, and a worst-case batch over BatchBytes.
// Every problem is returned, joined. ws, when not nil, is the workspace
// the list is checked against (see ParseIn).
func ParseAll(ws *Workspace, subject string, texts []string) ([]*Input, error) {
	var errs []string
	if len(texts) > MaxInputs {
		errs = append(errs, fmt.Sprintf("inputs.%s: %d inputs, at most %d", subject, len(texts), MaxInputs))
	}
	out := make([]*Input, 0, len(texts))
	seen := map[string]int{}
	for i, t := range texts {
		in, err := parse(ws, subject, i, t)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if j, dup := seen[in.Name]; dup {
			errs = append(errs, (&Error{Index: i, Subject: subject, Problem: fmt.Sprintf("column %q is already input %d", in.Name, j)}).Error())
			continue
		}
		seen[in.Name] = i
		out = append(out, in)
	}
	if len(errs) == 0 {
		if b := WorstCaseBytes(out); b > BatchBytes {
			errs = append(errs, fmt.Sprintf("inputs.%s: a batch of %d subjects could take %d bytes, over the host's budget of %d bytes (%d MiB): declare fewer or shorter text inputs", subject, BatchSubjects, b, BatchBytes, BatchBytes>>20))
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// customTextBytes is the worst case reckoned for a custom text value.
const customTextBytes = 1000

// WorstCaseBytes is what BatchSubjects subjects could take on the wire:
// 8 bytes per number, and per category value its code plus, at worst, a
// dictionary entry of its longest length.
func WorstCaseBytes(ins []*Input) int {
	per := 0
	for _, in := range ins {
		switch {
		case in.Kind == ID:
			per += 4 + 26
		case in.Kind != Category:
			per += 8
		case in.Custom:
			per += 4 + customTextBytes
		case in.Segment:
			per += 4 + 64
		default:
			n := 64
			if e, ok := catalog[in.Entity]; ok {
				if f, ok := e.Fields[in.Field]; ok && f.MaxLen > 0 {
					n = f.MaxLen
				}
			}
			per += 4 + n
		}
	}
	return per * BatchSubjects
}

// Canonical prints an input's expression in the one form its column is
// named by: single spaces, lower-case keywords, its window as written.
func (in *Input) Canonical() string {
	switch {
	case in.Builtin:
		return in.Name
	case in.Tag != "":
		if identLike(in.Tag) {
			return "tag:" + in.Tag
		}
		return "tag:" + quote(in.Tag)
	case in.Segment && in.SegmentKey != "":
		return "segment:" + in.SegmentKey
	case in.Segment:
		return "segment"
	case in.Agg != nil:
		a := in.Agg
		var b strings.Builder
		b.WriteString(a.Func + "(" + a.Relation)
		if a.Field != "" && a.Func != "days_since_first" && a.Func != "days_since_last" || a.Field != "" && a.Field != catalog[a.Target].Time {
			b.WriteString("." + a.Field)
		}
		for i, c := range a.Where {
			if i == 0 {
				b.WriteString(" where ")
			} else {
				b.WriteString(" and ")
			}
			b.WriteString(c.Field + " " + c.Op + " ")
			vals := make([]string, len(c.Values))
			for j, v := range c.Values {
				if identLike(v) || c.Kind != Category {
					vals[j] = v
				} else {
					vals[j] = quote(v)
				}
			}
			if c.Op == "in" {
				b.WriteString("(" + strings.Join(vals, ", ") + ")")
			} else {
				b.WriteString(vals[0])
			}
		}
		if a.Within > 0 {
			b.WriteString(" within " + a.WithinText)
		}
		b.WriteString(")")
		return b.String()
	}
	parts := append([]string{}, in.Path...)
	if in.Custom {
		return strings.Join(append(parts, "custom", in.Field), ".") + ":" + string(in.Kind)
	}
	return strings.Join(append(parts, in.Field), ".")
}

// defaultName is the column's name when the input gives none: its
// canonical form, without the kind of a custom field.
func (in *Input) defaultName() string {
	c := in.Canonical()
	if in.Custom {
		c = c[:strings.LastIndexByte(c, ':')]
	}
	return c
}

// quote writes s as the lexer reads a string: in double quotes, with \
// before each double quote and backslash.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func identLike(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// CustomKinds maps a custom field's type (as defined in a workspace) to
// the kind its values travel as.
var CustomKinds = map[string]Kind{
	"number": Number, "boolean": Flag, "date": Time, "text": Category, "select": Category,
}

// CheckCustom checks a parsed custom field against a workspace's
// definition of it: defined reports whether the field exists (a field not
// yet defined arrives as missing and is not an error), typ is its type.
func (in *Input) CheckCustom(defined bool, typ string) error {
	if !in.Custom || !defined {
		return nil
	}
	if k := CustomKinds[typ]; k != in.Kind {
		return fmt.Errorf("custom field %q of %s is of type %s (sent as %s), not %s", in.Field, in.Entity, typ, k, in.Kind)
	}
	return nil
}

// ParseWindow reads a window: a whole number of hours (h), days (d),
// weeks (w) or years of 365 days (y), at most MaxWindow.
func ParseWindow(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("window %q is not a duration such as 30d, 12h, 8w or 1y", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || s[0] == '+' || s[0] == '0' {
		return 0, fmt.Errorf("window %q is not a duration such as 30d, 12h, 8w or 1y", s)
	}
	unit := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("window %q has no unit: use h, d, w or y (30d)", s)
	}
	if n > int(MaxWindow/unit) {
		return 0, fmt.Errorf("window %q is longer than %d days", s, int(MaxWindow/(24*time.Hour)))
	}
	return time.Duration(n) * unit, nil
}

// suggest names the closest of the candidates to s, if one is close.
func suggest(s string, candidates []string) string {
	best, bestD := "", math.MaxInt
	for _, c := range candidates {
		d := distance(s, c)
		if rest, ok := strings.CutPrefix(c, "custom."); ok {
			d = min(d, distance(s, rest))
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" && bestD <= max(2, len(s)/3) {
		return fmt.Sprintf("; did you mean %s?", best)
	}
	return ""
}

// distance is the Levenshtein distance of two short strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// candidates lists what may follow on an entity, for suggestions.
func candidates(entity string, withBuiltins bool) []string {
	e := catalog[entity]
	out := sortedKeys(e.Fields)
	for _, r := range sortedKeys(e.One) {
		out = append(out, r+".")
	}
	if withBuiltins {
		out = append(out, sortedKeys(Builtins[entity])...)
		out = append(out, "segment")
	}
	slices.Sort(out)
	return out
}
