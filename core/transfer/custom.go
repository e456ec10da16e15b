package transfer

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/value"
	"github.com/rapportcrm/rapport/internal/clip"
)

// customEntity is the custom field entity of each record type that has
// custom fields.
var customEntity = map[string]customfield.Entity{
	"organizations": customfield.EntityOrganization,
	"contacts":      customfield.EntityContact,
	"leads":         customfield.EntityLead,
	"deals":         customfield.EntityDeal,
}

// customKeys are the custom fields a mapping fills.
func customKeys(m mapping.Mapping) map[string]string {
	keys := map[string]string{}
	for _, c := range m.Columns {
		if k, ok := strings.CutPrefix(c.Target, mapping.Custom); ok {
			keys[k] = c.Header
		}
	}
	return keys
}

// loadFields reads the custom field definitions the mapping fills and,
// with CreateFields, creates the missing ones as text fields labelled
// by their column. A custom field the workspace lacks is otherwise an
// error before any row is read.
func (im *importer) loadFields(ctx context.Context, c *ent.Client) error {
	keys := customKeys(im.m)
	if len(keys) == 0 {
		return nil
	}
	entity, ok := customEntity[im.o.Type]
	if !ok {
		return fmt.Errorf("%s have no custom fields: map the columns %s to fields or skip them", im.o.Type, strings.Join(sortedValues(keys), ", "))
	}
	defs, err := c.CustomField.Query().Where(customfield.EntityEQ(entity)).All(ctx)
	if err != nil {
		return err
	}
	im.defs = map[string]*ent.CustomField{}
	for _, d := range defs {
		im.defs[d.Key] = d
	}
	var missing []string
	for k := range keys {
		if _, ok := im.defs[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) == 0 {
		return nil
	}
	if !im.o.CreateFields {
		return fmt.Errorf("%s have no custom field %s: define them, or import with create fields on", im.o.Type, strings.Join(missing, ", "))
	}
	for _, k := range missing {
		d, err := c.CustomField.Create().SetEntity(entity).SetKey(k).SetLabel(clip.String(keys[k], 200, "")).
			SetType(customfield.TypeText).Save(ctx)
		if err != nil {
			return fmt.Errorf("creating custom field %s: %w", k, err)
		}
		im.defs[k] = d
	}
	return nil
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, fmt.Sprintf("%q", v))
	}
	sort.Strings(out)
	return out
}

// customOf is the row's custom field values, typed as their fields are.
func (im *importer) customOf(r record) (map[string]any, *Reject) {
	if len(r.custom) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(r.custom))
	for k, raw := range r.custom {
		s, _ := raw.(string)
		target := mapping.Custom + k
		d := im.defs[k]
		if d == nil {
			return nil, r.reject(target, "unknown_field", "no custom field %q is defined", k)
		}
		switch d.Type {
		case customfield.TypeNumber:
			f, err := value.Number(s)
			if err != nil {
				return nil, r.reject(target, "invalid_number", "%v", err)
			}
			out[k] = f
		case customfield.TypeBoolean:
			b, err := value.Bool(s)
			if err != nil {
				return nil, r.reject(target, "invalid_value", "%v", err)
			}
			out[k] = b
		case customfield.TypeDate:
			t, err := value.Date(s, im.order, im.loc)
			if err != nil {
				return nil, r.reject(target, "invalid_date", "%v", err)
			}
			out[k] = t.In(im.loc).Format(time.DateOnly)
		case customfield.TypeSelect:
			v := ""
			for _, o := range d.Options {
				if strings.EqualFold(o, s) {
					v = o
				}
			}
			if v == "" {
				return nil, r.reject(target, "invalid_value", "%q is not one of %s", s, strings.Join(d.Options, ", "))
			}
			out[k] = v
		default:
			out[k] = s
		}
	}
	return out, nil
}

// withCustom is old's custom fields with the row's over them, and
// whether that changes any.
func withCustom(old map[string]any, row map[string]any) (map[string]any, bool) {
	if len(row) == 0 {
		return old, false
	}
	merged := maps.Clone(old)
	if merged == nil {
		merged = make(map[string]any, len(row))
	}
	changed := false
	for k, v := range row {
		if !reflect.DeepEqual(merged[k], v) {
			changed = true
		}
		merged[k] = v
	}
	return merged, changed
}
