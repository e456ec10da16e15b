package schema

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"entgo.io/ent"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/hook"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Hooks of the CustomFieldsMixin validate custom field values on write.
func (c CustomFieldsMixin) Hooks() []ent.Hook {
	entity := customfield.Entity(c.Entity)
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				val, set := m.Field("custom_fields")
				create := m.Op().Is(ent.OpCreate)
				if !set && !create {
					return next.Mutate(ctx, m)
				}
				ws, ok := workspaceOf(ctx, m)
				if !ok {
					return next.Mutate(ctx, m)
				}
				cm, ok := m.(interface{ Client() *gen.Client })
				if !ok {
					return nil, fmt.Errorf("mutation %T has no client", m)
				}
				scoped := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleViewer})
				defs, err := customFields(scoped, cm.Client(), ws, entity)
				if err != nil {
					return nil, fmt.Errorf("loading custom fields: %w", err)
				}
				values, _ := val.(map[string]any)
				clean, err := ValidateCustomFields(defs, values)
				if err != nil {
					return nil, err
				}
				if set {
					if err := m.SetField("custom_fields", clean); err != nil {
						return nil, err
					}
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

// ValidateCustomFields checks values against the definitions: every key
// must be defined, every value of its field's type, and every required
// field present. It returns the values normalised (numbers as float64,
// dates as YYYY-MM-DD). Errors are BAD_USER_INPUT naming the field.
func ValidateCustomFields(defs []*gen.CustomField, values map[string]any) (map[string]any, error) {
	byKey := make(map[string]*gen.CustomField, len(defs))
	for _, d := range defs {
		byKey[d.Key] = d
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(values))
	for _, k := range keys {
		d, ok := byKey[k]
		path := "customFields." + k
		if !ok {
			return nil, errcode.Input(path, "no custom field %q is defined", k)
		}
		v := values[k]
		if v == nil {
			if d.Required {
				return nil, errcode.Input(path, "is required")
			}
			continue
		}
		norm, err := customValue(d, v)
		if err != nil {
			return nil, errcode.Input(path, "%v", err)
		}
		out[k] = norm
	}
	for _, d := range defs {
		if _, ok := out[d.Key]; d.Required && !ok {
			return nil, errcode.Input("customFields."+d.Key, "is required")
		}
	}
	return out, nil
}

func customValue(d *gen.CustomField, v any) (any, error) {
	switch d.Type {
	case customfield.TypeText:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want text, got %T", v)
		}
		if len(s) > 10_000 {
			return nil, fmt.Errorf("text longer than 10000 bytes")
		}
		return s, nil
	case customfield.TypeNumber:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int:
			f = float64(x)
		case int64:
			f = float64(x)
		case json.Number:
			var err error
			if f, err = x.Float64(); err != nil {
				return nil, fmt.Errorf("want a number, got %q", x)
			}
		default:
			return nil, fmt.Errorf("want a number, got %T", v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("want a finite number")
		}
		return f, nil
	case customfield.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want true or false, got %T", v)
		}
		return b, nil
	case customfield.TypeDate:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a date YYYY-MM-DD, got %T", v)
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("want a date YYYY-MM-DD, got %q", s)
		}
		return t.Format(time.DateOnly), nil
	case customfield.TypeSelect:
		s, ok := v.(string)
		if !ok || !slices.Contains(d.Options, s) {
			return nil, fmt.Errorf("want one of %v, got %v", d.Options, v)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown field type %q", d.Type)
}

// customFields are the definitions of entity in ws, read once per Batch.
func customFields(ctx context.Context, c *gen.Client, ws pulid.ID, entity customfield.Entity) ([]*gen.CustomField, error) {
	b := batchOf(ctx)
	k := string(ws) + "/" + string(entity)
	if b != nil {
		if defs, ok := b.defs[k]; ok {
			return defs, nil
		}
	}
	defs, err := c.CustomField.Query().Where(customfield.EntityEQ(entity)).All(ctx)
	if err == nil && b != nil {
		b.defs[k] = defs
	}
	return defs, err
}
