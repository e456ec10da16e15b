package condition

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type rec struct {
	fields  map[string]any
	changed map[string]bool
}

func (r rec) Lookup(p string) (any, bool) { v, ok := r.fields[p]; return v, ok }
func (r rec) Changed(p string) bool       { return r.changed[p] }

func TestEval(t *testing.T) {
	r := rec{
		fields: map[string]any{
			"deal.stage": "Proposal", "deal.amount": "12000.00", "deal.name": "Big Deal",
			"deal.status": "open", "deal.probability": nil, "deal.won": false,
		},
		changed: map[string]bool{"deal.stage": true},
	}
	tests := []struct {
		name string
		cond string
		want bool
	}{
		{"empty always holds", ``, true},
		{"eq", `{"field":"deal.stage","op":"eq","value":"Proposal"}`, true},
		{"eq case-insensitive", `{"field":"deal.stage","op":"eq","value":"proposal"}`, true},
		{"eq miss", `{"field":"deal.stage","op":"eq","value":"Won"}`, false},
		{"ne", `{"field":"deal.stage","op":"ne","value":"Won"}`, true},
		{"money gte", `{"field":"deal.amount","op":"gte","value":10000}`, true},
		{"money gte exact", `{"field":"deal.amount","op":"gte","value":12000}`, true},
		{"money gt miss", `{"field":"deal.amount","op":"gt","value":12000}`, false},
		{"lt", `{"field":"deal.amount","op":"lt","value":"20000"}`, true},
		{"lte", `{"field":"deal.amount","op":"lte","value":11999.99}`, false},
		{"and", `{"and":[{"field":"deal.stage","op":"eq","value":"Proposal"},{"field":"deal.amount","op":"gte","value":10000}]}`, true},
		{"and miss", `{"and":[{"field":"deal.stage","op":"eq","value":"Proposal"},{"field":"deal.amount","op":"gte","value":50000}]}`, false},
		{"or", `{"or":[{"field":"deal.stage","op":"eq","value":"Won"},{"field":"deal.amount","op":"gte","value":10000}]}`, true},
		{"not", `{"not":{"field":"deal.status","op":"eq","value":"won"}}`, true},
		{"in", `{"field":"deal.stage","op":"in","value":["Qualified","Proposal"]}`, true},
		{"in miss", `{"field":"deal.stage","op":"in","value":["Won"]}`, false},
		{"contains", `{"field":"deal.name","op":"contains","value":"big"}`, true},
		{"exists", `{"field":"deal.name","op":"exists"}`, true},
		{"exists nil", `{"field":"deal.probability","op":"exists","value":true}`, false},
		{"not exists", `{"field":"deal.probability","op":"exists","value":false}`, true},
		{"changed", `{"field":"deal.stage","op":"changed"}`, true},
		{"unchanged", `{"field":"deal.amount","op":"changed","value":true}`, false},
		{"bool eq", `{"field":"deal.won","op":"eq","value":false}`, true},
		{"missing field ne", `{"field":"deal.nothing","op":"ne","value":"x"}`, true},
		{"missing field gt", `{"field":"deal.nothing","op":"gt","value":1}`, false},
		{"string order", `{"field":"deal.stage","op":"gt","value":"A"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := Parse([]byte(tt.cond), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := n.Eval(r); got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	known := func(f string) bool { return strings.HasPrefix(f, "deal.") }
	tests := []struct {
		name, cond, path string
	}{
		{"not json", `{`, ""},
		{"not an object", `[1]`, ""},
		{"unknown field", `{"field":"contact.x","op":"eq","value":1}`, "field"},
		{"unknown op", `{"field":"deal.stage","op":"like","value":1}`, "op"},
		{"missing field", `{"op":"eq","value":1}`, "field"},
		{"missing value", `{"field":"deal.stage","op":"eq"}`, "value"},
		{"in not a list", `{"field":"deal.stage","op":"in","value":"x"}`, "value"},
		{"gt object", `{"field":"deal.stage","op":"gt","value":{}}`, "value"},
		{"exists string", `{"field":"deal.stage","op":"exists","value":"yes"}`, "value"},
		{"empty and", `{"and":[]}`, "and"},
		{"nested bad", `{"and":[{"field":"deal.a","op":"eq","value":1},{"field":"x","op":"eq","value":1}]}`, "and.1.field"},
		{"mixed keys", `{"and":[{"field":"deal.a","op":"eq","value":1}],"field":"deal.a"}`, ""},
		{"extra key", `{"field":"deal.a","op":"eq","value":1,"vaule":2}`, "vaule"},
		{"trailing", `{"field":"deal.a","op":"eq","value":1} {}`, ""},
		{"too deep", strings.Repeat(`{"not":`, MaxDepth+2) + `{"field":"deal.a","op":"eq","value":1}` + strings.Repeat(`}`, MaxDepth+2), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.cond), known)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
			if tt.path != "" && !strings.HasSuffix(ce.Path, tt.path) {
				t.Errorf("path %q, want suffix %q (%v)", ce.Path, tt.path, err)
			}
		})
	}
}

func TestFields(t *testing.T) {
	n, err := Parse([]byte(`{"or":[{"field":"deal.a","op":"eq","value":1},{"not":{"field":"deal.b","op":"exists"}}]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(n.Fields(), ","); got != "deal.a,deal.b" {
		t.Errorf("Fields = %s", got)
	}
}

// FuzzParse checks that the decoder never panics, that whatever it
// accepts evaluates without panicking, and that an accepted condition
// re-encodes to one that parses to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`,
		`{"field":"deal.stage","op":"eq","value":"Proposal"}`,
		`{"and":[{"field":"deal.amount","op":"gte","value":10000},{"not":{"field":"deal.x","op":"exists"}}]}`,
		`{"or":[{"field":"a","op":"in","value":[1,"2",null]}]}`,
		`{"field":"a","op":"changed","value":false}`,
		`[`, `{"and":{}}`, `{"not":[]}`,
	} {
		f.Add([]byte(s))
	}
	r := rec{fields: map[string]any{"a": "1", "deal.amount": 5.0, "deal.stage": "x"}, changed: map[string]bool{"a": true}}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Parse(data, nil)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		first := n.Eval(r)
		if n == nil {
			return
		}
		again, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(again, nil)
		if err != nil {
			t.Fatalf("re-encoded %s does not parse: %v", again, err)
		}
		if m.Eval(r) != first {
			t.Fatalf("re-encoded %s evaluates differently", again)
		}
	})
}
