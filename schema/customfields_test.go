package schema

import (
	"encoding/json"
	"testing"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/errcode"
)

func TestValidateCustomFields(t *testing.T) {
	defs := []*gen.CustomField{
		{Key: "tier", Type: customfield.TypeSelect, Options: []string{"gold", "silver"}, Required: true},
		{Key: "seats", Type: customfield.TypeNumber},
		{Key: "renews", Type: customfield.TypeDate},
		{Key: "vip", Type: customfield.TypeBoolean},
		{Key: "note", Type: customfield.TypeText},
	}
	ok := []map[string]any{
		{"tier": "gold"},
		{"tier": "silver", "seats": json.Number("12"), "renews": "2027-01-31", "vip": true, "note": "hi"},
		{"tier": "gold", "seats": 3, "note": nil},
	}
	for _, v := range ok {
		out, err := ValidateCustomFields(defs, v)
		if err != nil {
			t.Errorf("%v: %v", v, err)
		}
		if s, has := out["seats"]; has {
			if _, isFloat := s.(float64); !isFloat {
				t.Errorf("seats normalised to %T", s)
			}
		}
	}
	bad := []struct {
		v     map[string]any
		field string
	}{
		{map[string]any{}, "customFields.tier"},
		{map[string]any{"tier": nil}, "customFields.tier"},
		{map[string]any{"tier": "bronze"}, "customFields.tier"},
		{map[string]any{"tier": "gold", "seats": "12"}, "customFields.seats"},
		{map[string]any{"tier": "gold", "renews": "31/01/2027"}, "customFields.renews"},
		{map[string]any{"tier": "gold", "vip": "yes"}, "customFields.vip"},
		{map[string]any{"tier": "gold", "other": 1}, "customFields.other"},
	}
	for _, c := range bad {
		_, err := ValidateCustomFields(defs, c.v)
		e, isCoded := errcode.As(err)
		if !isCoded || e.Code != errcode.BadUserInput || e.Field != c.field {
			t.Errorf("%v: err %v, want BAD_USER_INPUT on %s", c.v, err, c.field)
		}
	}
}
