package export_test

import (
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/export"
)

func TestDecodeWhere(t *testing.T) {
	var in ent.ContactWhereInput
	err := export.DecodeWhere([]byte(`{"lastNameContains":"a","or":[{"emailIsNil":true},{"hasOrganizationWith":[{"nameHasPrefix":"I"}]}]}`), &in)
	if err != nil {
		t.Fatal(err)
	}
	if in.LastNameContains == nil || *in.LastNameContains != "a" || len(in.Or) != 2 || !in.Or[0].EmailIsNil ||
		len(in.Or[1].HasOrganizationWith) != 1 || *in.Or[1].HasOrganizationWith[0].NameHasPrefix != "I" {
		t.Errorf("decoded %+v", in)
	}
	for _, empty := range []string{"", "  ", "null"} {
		var in ent.ContactWhereInput
		if err := export.DecodeWhere([]byte(empty), &in); err != nil {
			t.Errorf("%q: %v", empty, err)
		}
		if _, err := in.P(); err != ent.ErrEmptyContactWhereInput {
			t.Errorf("%q decoded to a filter: %v", empty, err)
		}
	}
	for _, typ := range export.Types() {
		w, err := export.NewWhere(typ)
		if err != nil {
			t.Fatal(err)
		}
		err = export.DecodeWhere([]byte(`{"idNEQ":"x","nope":1}`), w)
		if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("%s: unknown field: %v", typ, err)
		}
	}
}

// FuzzWhere feeds the --where decoder outside input: it must never panic,
// must refuse what is over its bounds, and what it accepts must build a
// predicate or fail with an error.
func FuzzWhere(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`,
		`{"lastNameContains":"a"}`,
		`{"or":[{"emailIsNil":true},{"hasOrganization":true}]}`,
		`{"not":{"lastNameHasPrefix":"="}}`,
		`{"and":[{"createdAtGTE":"2000-01-01T00:00:00Z"}],"idIn":["con_1"]}`,
		`{"hasOrganizationWith":[{"employeesGT":10,"or":[{"nameEqualFold":"x"}]}]}`,
		`{"lastnamecontains":"a"}`, `{"lastNameContains":5}`, `{"not":{}}`,
		`{"a":"\"{[","b":[[[[]]]]}`, `{"lastName":"x"} {}`, `{"not":{"not":{"not":{"not":{}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in ent.ContactWhereInput
		err := export.DecodeWhere(data, &in)
		if err != nil {
			if errcode.Of(err) != errcode.BadUserInput {
				t.Fatalf("%q: error %v is not BAD_USER_INPUT", data, err)
			}
			return
		}
		if len(data) > export.MaxWhereSize {
			t.Fatalf("accepted %d bytes", len(data))
		}
		_, _ = in.P()
		// Every type's filter takes the same input without panicking.
		for _, typ := range export.Types() {
			w, _ := export.NewWhere(typ)
			_ = export.DecodeWhere(data, w)
		}
	})
}
