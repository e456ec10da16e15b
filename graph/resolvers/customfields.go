package resolvers

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/graph/model"
)

// MaxCustomFieldConditions is the most custom field conditions one where
// input takes.
const MaxCustomFieldConditions = 10

// customFieldsColumn is the JSON column the records keep their custom
// field values in (the same name on the four record tables).
const customFieldsColumn = "custom_fields"

// customFieldsWhere turns conditions on the custom fields of entity into a
// predicate on its table: every condition must hold. Each condition's key
// must name a field defined for entity in the caller's workspace, its op
// must suit the field's type and its value must be of that type; anything
// else is BAD_USER_INPUT naming the condition (where.customFields.2.key).
func (r *Resolver) customFieldsWhere(ctx context.Context, entity customfield.Entity, conds []*model.CustomFieldCondition) (func(*sql.Selector), error) {
	const path = "where.customFields"
	if len(conds) > MaxCustomFieldConditions {
		return nil, errcode.Input(path, "at most %d custom field conditions, got %d", MaxCustomFieldConditions, len(conds))
	}
	if len(conds) == 0 {
		return nil, nil
	}
	if _, err := workspaceOf(ctx); err != nil {
		return nil, err
	}
	// The client's privacy rules keep the query to the caller's workspace.
	defs, err := r.Client.CustomField.Query().Where(customfield.EntityEQ(entity)).All(ctx)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]*ent.CustomField, len(defs))
	for _, d := range defs {
		byKey[d.Key] = d
	}
	preds := make([]func(col string) *sql.Predicate, 0, len(conds))
	for i, c := range conds {
		at := fmt.Sprintf("%s.%d", path, i)
		d, ok := byKey[c.Key]
		if !ok {
			return nil, errcode.Input(at+".key", "no custom field %q is defined for %ss", c.Key, entity)
		}
		v, err := conditionValue(d, c.Op, c.Value)
		if err != nil {
			return nil, errcode.Input(at+".value", "custom field %q: %v", c.Key, err)
		}
		opt := sqljson.Path(d.Key)
		switch c.Op {
		case model.CustomFieldOpEq:
			preds = append(preds, func(col string) *sql.Predicate { return sqljson.ValueEQ(col, v, opt) })
		case model.CustomFieldOpContains:
			sub := v.(string)
			preds = append(preds, func(col string) *sql.Predicate { return sqljson.StringContains(col, sub, opt) })
		case model.CustomFieldOpGt:
			preds = append(preds, func(col string) *sql.Predicate { return sqljson.ValueGT(col, v, opt) })
		case model.CustomFieldOpLt:
			preds = append(preds, func(col string) *sql.Predicate { return sqljson.ValueLT(col, v, opt) })
		default:
			return nil, errcode.Input(at+".op", "unknown op %q", c.Op)
		}
	}
	return func(s *sql.Selector) {
		// The column qualified with the selector's table.
		col := s.C(customFieldsColumn)
		ps := make([]*sql.Predicate, len(preds))
		for i, p := range preds {
			ps[i] = p(col)
		}
		s.Where(sql.And(ps...))
	}, nil
}

// conditionValue checks op against the type of the field d and returns
// value as the type the field's values are stored as: a float64 for a
// number, a bool for a boolean, a YYYY-MM-DD string for a date, a string
// for text and select.
func conditionValue(d *ent.CustomField, op model.CustomFieldOp, value any) (any, error) {
	switch d.Type {
	case customfield.TypeNumber:
		if op == model.CustomFieldOpContains {
			return nil, fmt.Errorf("a number field takes EQ, GT or LT, not %s", op)
		}
		f, ok := number(value)
		if !ok {
			return nil, fmt.Errorf("want a number, got %v", value)
		}
		return f, nil
	case customfield.TypeBoolean:
		if op != model.CustomFieldOpEq {
			return nil, fmt.Errorf("a boolean field takes EQ only, not %s", op)
		}
		switch x := value.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("want true or false, got %v", value)
	case customfield.TypeDate:
		if op == model.CustomFieldOpContains {
			return nil, fmt.Errorf("a date field takes EQ, GT or LT, not %s", op)
		}
		s, _ := value.(string)
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("want a date YYYY-MM-DD, got %v", value)
		}
		return t.Format(time.DateOnly), nil
	case customfield.TypeText, customfield.TypeSelect:
		if op == model.CustomFieldOpGt || op == model.CustomFieldOpLt {
			return nil, fmt.Errorf("a %s field takes EQ or CONTAINS, not %s", d.Type, op)
		}
		s, ok := value.(string)
		if !ok {
			return nil, fmt.Errorf("want text, got %v", value)
		}
		if len(s) > 10_000 {
			return nil, fmt.Errorf("text longer than 10000 bytes")
		}
		return s, nil
	}
	return nil, fmt.Errorf("cannot filter on a %s field", d.Type)
}

// number reads a JSON number, or a string holding one, as a finite float64.
func number(v any) (float64, bool) {
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
			return 0, false
		}
	case string:
		var err error
		if f, err = strconv.ParseFloat(x, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}
