package webauth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/core/errcode"
)

// FuzzAuthBody feeds arbitrary bytes to the decoder of every endpoint's
// body: it never panics, refuses with BAD_USER_INPUT, and what it accepts
// is one JSON object of at most MaxBody bytes whose strings are valid
// UTF-8 (invalid bytes become U+FFFD).
func FuzzAuthBody(f *testing.F) {
	for _, s := range []string{
		`{"email":"ann@example.com","password":"a long password","workspace":"acme"}`,
		`{"token":"rpl_x","name":"Ann","password":"a long password"}`,
		`{"token":"rpl_x","password":"p"}`,
		`{"slug":"acme"}`,
		`{}`, `[]`, `null`, `{"email":3}`, `{"a":1}{"b":2}`, `{"email":"\ud800"}`, "{\"name\":\"\xff\"}", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		targets := []any{&signinBody{}, &signupBody{}, &resetBody{}, &workspaceBody{}}
		for _, v := range targets {
			err := decodeBody(strings.NewReader(string(data)), v)
			if err != nil {
				if errcode.Of(err) != errcode.BadUserInput {
					t.Fatalf("%T: error %v is not BAD_USER_INPUT", v, err)
				}
				continue
			}
			if len(data) > MaxBody {
				t.Fatalf("%T: accepted a body of %d bytes", v, len(data))
			}
			var fields []string
			switch b := v.(type) {
			case *signinBody:
				fields = []string{b.Email, b.Password, b.Workspace}
			case *signupBody:
				fields = []string{b.Token, b.Name, b.Password}
			case *resetBody:
				fields = []string{b.Token, b.Password}
			case *workspaceBody:
				fields = []string{b.Slug}
			}
			for _, s := range fields {
				if !utf8.ValidString(s) {
					t.Fatalf("%T: field %q is not UTF-8", v, s)
				}
			}
		}
	})
}
