// Package template renders the text of automation actions: email subjects
// and bodies, activity subjects. A template is plain text with fields of
// the record in double braces, e.g. "Hi {{contact.first_name}}". There is
// no logic; a field that is not set renders as nothing. Templates are
// parsed when an automation is saved, so an unknown field is refused then,
// not when the message is sent.
package template

import (
	"fmt"
	"strings"
)

// MaxLen bounds a template's length in bytes.
const MaxLen = 100_000

// Template is a parsed template.
type Template struct {
	parts []part
}

type part struct {
	text  string
	field string // set for a field reference
}

// Error is a template that does not parse, or names an unknown field.
type Error struct {
	// Field is the unknown field, when that is the problem.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *Error) Error() string { return e.Msg }

// Parse parses src. known reports whether a field path exists; nil
// accepts every path.
func Parse(src string, known func(string) bool) (*Template, error) {
	if len(src) > MaxLen {
		return nil, &Error{Msg: fmt.Sprintf("template longer than %d bytes", MaxLen)}
	}
	t := &Template{}
	rest := src
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return nil, &Error{Msg: "unmatched }}"}
			}
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			return t, nil
		}
		if strings.Contains(rest[:i], "}}") {
			return nil, &Error{Msg: "unmatched }}"}
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		rest = rest[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, &Error{Msg: "unclosed {{"}
		}
		name := strings.TrimSpace(rest[:j])
		if !validPath(name) {
			return nil, &Error{Field: name, Msg: fmt.Sprintf("bad field reference {{%s}}: want {{entity.field}}", rest[:j])}
		}
		if known != nil && !known(name) {
			return nil, &Error{Field: name, Msg: fmt.Sprintf("unknown field {{%s}}", name)}
		}
		t.parts = append(t.parts, part{field: name})
		rest = rest[j+2:]
	}
}

func validPath(s string) bool {
	if s == "" || !strings.Contains(s, ".") {
		return false
	}
	for _, seg := range strings.Split(s, ".") {
		if seg == "" {
			return false
		}
		for _, c := range seg {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// Fields lists the field paths the template reads.
func (t *Template) Fields() []string {
	var out []string
	for _, p := range t.parts {
		if p.field != "" {
			out = append(out, p.field)
		}
	}
	return out
}

// Render fills in the fields from lookup; a field that is not set, or is
// nil, renders as nothing.
func (t *Template) Render(lookup func(string) (any, bool)) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.text)
			continue
		}
		if v, ok := lookup(p.field); ok && v != nil {
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}
