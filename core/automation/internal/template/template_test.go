package template

import (
	"errors"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	vals := map[string]any{"contact.first_name": "Ada", "deal.amount": "12000.00", "deal.owner": nil}
	lookup := func(p string) (any, bool) { v, ok := vals[p]; return v, ok }
	tests := []struct{ src, want string }{
		{"", ""},
		{"plain", "plain"},
		{"Hi {{contact.first_name}}!", "Hi Ada!"},
		{"{{ contact.first_name }}{{deal.amount}}", "Ada12000.00"},
		{"owner: {{deal.owner}}.", "owner: ."},
		{"missing {{deal.nope}}", "missing "},
		{"{ single }", "{ single }"},
	}
	for _, tt := range tests {
		tpl, err := Parse(tt.src, nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		if got := tpl.Render(lookup); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	known := func(p string) bool { return strings.HasPrefix(p, "contact.") }
	tests := []struct{ src, field string }{
		{"{{deal.amount}}", "deal.amount"},
		{"{{contact.first_name", ""},
		{"x }} y", ""},
		{"{{first_name}}", "first_name"},
		{"{{contact..x}}", "contact..x"},
		{"{{contact.a b}}", "contact.a b"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src, known)
		var te *Error
		if !errors.As(err, &te) {
			t.Fatalf("Parse(%q) = %v, want *Error", tt.src, err)
		}
		if te.Field != tt.field {
			t.Errorf("Parse(%q) field %q, want %q", tt.src, te.Field, tt.field)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "Hi {{contact.first_name}}", "{{", "}}", "{{a.b}}{{c.d}}x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(src, nil)
		if err != nil {
			return
		}
		_ = tpl.Render(func(string) (any, bool) { return "v", true })
	})
}
