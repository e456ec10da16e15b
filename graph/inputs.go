package graph

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/rapportcrm/rapport/core/pulid"
)

// checkInputs walks every argument of every field of the operation, with
// its variables substituted, against the argument's declared type, before
// any resolver sees it. It refuses, with BAD_USER_INPUT naming the
// argument and the limit:
//   - filters (arguments of a *WhereInput type) nested deeper than
//     Limits.MaxFilterDepth, with more than Limits.MaxFilterBranches
//     conditions, or with a list longer than Limits.MaxFilterList;
//   - any list longer than Limits.MaxInputList, any value nested deeper than
//     Limits.MaxInputDepth;
//   - strings that are not valid UTF-8 or hold a NUL byte;
//   - Float values that are not finite numbers (a "NaN" string included),
//     Int values outside the 32-bit range GraphQL declares, Time values
//     that are not RFC 3339, IDs that are not Rapport IDs and cursors that
//     do not decode.
func checkInputs(oc *graphql.OperationContext, schema *ast.Schema, l Limits) *gqlerror.Error {
	c := inputChecker{schema: schema, oc: oc, limits: l, seen: map[string]bool{}}
	return c.selections(oc.Operation.SelectionSet)
}

// checkVariables checks the raw values of an operation's variables
// against the types it declares for them, as checkInputs does.
func checkVariables(op *ast.OperationDefinition, vars map[string]any, schema *ast.Schema, l Limits) *gqlerror.Error {
	c := &inputChecker{schema: schema, limits: l}
	for _, vd := range op.VariableDefinitions {
		v, ok := vars[vd.Variable]
		if !ok || vd.Type == nil {
			continue
		}
		w := walk{c: c, filter: strings.HasSuffix(vd.Type.Name(), "WhereInput")}
		if err := w.value(v, vd.Type, "variables."+vd.Variable, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

type inputChecker struct {
	schema *ast.Schema
	oc     *graphql.OperationContext
	limits Limits
	seen   map[string]bool // fragments walked
}

func (c *inputChecker) selections(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := c.field(s); err != nil {
				return err
			}
			if err := c.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := c.selections(s.SelectionSet); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !c.seen[s.Name] {
				c.seen[s.Name] = true
				if err := c.selections(s.Definition.SelectionSet); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *inputChecker) field(f *ast.Field) *gqlerror.Error {
	if f.Definition == nil {
		return nil
	}
	for _, arg := range f.Arguments {
		def := f.Definition.Arguments.ForName(arg.Name)
		if def == nil || arg.Value == nil {
			continue
		}
		v, err := arg.Value.Value(c.oc.Variables)
		if err != nil {
			return inputError(reasonInvalidValue, arg.Name, "%v", err)
		}
		w := walk{c: c, filter: strings.HasSuffix(def.Type.Name(), "WhereInput")}
		if err := w.value(v, def.Type, arg.Name, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// walk checks one argument's value.
type walk struct {
	c        *inputChecker
	filter   bool // the argument is a where filter
	branches int
}

// depth counts every level of v, objects how many input objects enclose it.
func (w *walk) value(v any, t *ast.Type, path string, depth, objects int) *gqlerror.Error {
	l := w.c.limits
	if depth > l.MaxInputDepth {
		return inputError(reasonInputLimit, path, "input nested deeper than %d levels", l.MaxInputDepth)
	}
	if v == nil {
		return nil
	}
	if t != nil && t.Elem != nil { // a list type
		list, ok := v.([]any)
		if !ok { // a single value coerced to a list
			return w.value(v, t.Elem, path, depth+1, objects)
		}
		if w.filter && len(list) > l.MaxFilterList {
			return inputError(reasonInputLimit, path, "a filter list holds at most %d values, got %d", l.MaxFilterList, len(list))
		}
		if len(list) > l.MaxInputList {
			return inputError(reasonInputLimit, path, "a list holds at most %d values, got %d", l.MaxInputList, len(list))
		}
		for i, e := range list {
			if err := w.value(e, t.Elem, path+"."+strconv.Itoa(i), depth+1, objects); err != nil {
				return err
			}
		}
		return nil
	}
	name := ""
	if t != nil {
		name = t.NamedType
	}
	var def *ast.Definition
	if name != "" {
		def = w.c.schema.Types[name]
	}
	switch x := v.(type) {
	case map[string]any:
		if def != nil && def.Kind == ast.InputObject {
			if w.filter {
				w.branches++
				if w.branches > l.MaxFilterBranches {
					return inputError(reasonInputLimit, path, "a filter holds at most %d conditions", l.MaxFilterBranches)
				}
				if objects >= l.MaxFilterDepth {
					return inputError(reasonInputLimit, path, "a filter is nested at most %d levels deep", l.MaxFilterDepth)
				}
				if objects > 0 && emptyCondition(x) {
					return inputError(reasonInvalidValue, path, "an empty condition: give at least one field")
				}
			}
			for k, e := range x {
				fd := def.Fields.ForName(k)
				var ft *ast.Type
				if fd != nil {
					ft = fd.Type
				}
				if err := w.value(e, ft, path+"."+k, depth+1, objects+1); err != nil {
					return err
				}
			}
			return nil
		}
		for k, e := range x { // a Map scalar: JSON of any shape
			if err := w.value(e, nil, path+"."+k, depth+1, objects); err != nil {
				return err
			}
		}
		return nil
	case []any: // a list inside a Map scalar
		if len(x) > l.MaxInputList {
			return inputError(reasonInputLimit, path, "a list holds at most %d values, got %d", l.MaxInputList, len(x))
		}
		for i, e := range x {
			if err := w.value(e, nil, path+"."+strconv.Itoa(i), depth+1, objects); err != nil {
				return err
			}
		}
		return nil
	case string:
		if !utf8.ValidString(x) {
			return inputError(reasonInvalidValue, path, "not valid UTF-8")
		}
		if strings.IndexByte(x, 0) >= 0 {
			return inputError(reasonInvalidValue, path, "holds a NUL character")
		}
	}
	return w.scalar(v, name, path)
}

// scalar checks a leaf value against its scalar type.
func (w *walk) scalar(v any, name, path string) *gqlerror.Error {
	switch name {
	case "Float":
		f, ok := number(v)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return inputError(reasonInvalidValue, path, "not a finite number: %s", short(v))
		}
	case "Int":
		f, ok := number(v)
		if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
			return inputError(reasonInvalidValue, path, "not an integer between %d and %d: %s", math.MinInt32, math.MaxInt32, short(v))
		}
	case "Time":
		s, ok := v.(string)
		if !ok {
			return inputError(reasonInvalidValue, path, "not an RFC 3339 time: %s", short(v))
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return inputError(reasonInvalidValue, path, "not an RFC 3339 time: %s", short(v))
		}
	case "ID":
		var id pulid.ID
		if err := id.UnmarshalGQL(v); err != nil {
			return inputError(reasonInvalidValue, path, "not an ID: %s", short(v))
		}
	case "Cursor":
		var cur entgql.Cursor[pulid.ID]
		if err := cur.UnmarshalGQL(v); err != nil {
			return inputError(reasonInvalidValue, path, "not a cursor this API gave out")
		}
	case "":
		// inside a Map scalar: JSON numbers are finite by construction
	default:
		if def := w.c.schema.Types[name]; def != nil && def.Kind == ast.Enum {
			s, ok := v.(string)
			if !ok || def.EnumValues.ForName(s) == nil {
				return inputError(reasonInvalidValue, path, "not a value of %s: %s", name, short(v))
			}
		}
	}
	return nil
}

// number reads a JSON or literal number.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case string:
		return 0, false
	}
	return 0, false
}

// short quotes a value for an error message, at most 40 characters of it.
func short(v any) string {
	s, _ := json.Marshal(v)
	if len(s) > 40 {
		return string(s[:40]) + "…"
	}
	return string(s)
}

// emptyCondition reports whether a nested filter object sets nothing: no
// field, or only nulls and empty lists, which the filters ignore (so
// {"not": {"idIn": []}} would negate nothing).
func emptyCondition(x map[string]any) bool {
	for _, v := range x {
		switch e := v.(type) {
		case nil:
		case []any:
			if len(e) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}
