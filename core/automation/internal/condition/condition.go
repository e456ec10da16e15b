// Package condition is the small condition language of automation
// triggers: a JSON tree of comparisons on a record's fields joined by
// and, or and not.
//
//	{"and": [
//	  {"field": "deal.stage", "op": "eq", "value": "Proposal"},
//	  {"field": "deal.amount", "op": "gte", "value": 10000}
//	]}
//
// Operators: eq, ne, gt, gte, lt, lte (numbers, or strings that parse as
// numbers such as money amounts; otherwise strings compared in order), in
// (value is a list), contains (substring, case-insensitive), exists (the
// field is set and not empty: value true or false) and changed (the event
// changed the field: value true or false).
package condition

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDepth bounds the nesting of and/or/not.
const MaxDepth = 16

// MaxNodes bounds the number of comparisons in one condition.
const MaxNodes = 200

// Ops are the comparison operators, in the order they are documented.
var Ops = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists", "changed"}

// Node is one node of a condition: either a comparison (Field, Op, Value)
// or one of And, Or, Not.
type Node struct {
	// And holds when every child holds.
	And []*Node `json:"and,omitempty"`
	// Or holds when some child holds.
	Or []*Node `json:"or,omitempty"`
	// Not holds when its child does not.
	Not *Node `json:"not,omitempty"`
	// Field is the dotted path a comparison reads, e.g. deal.amount.
	Field string `json:"field,omitempty"`
	// Op is the comparison, one of Ops.
	Op string `json:"op,omitempty"`
	// Value is what the field is compared with.
	Value any `json:"value,omitempty"`
}

// Error is a condition that does not validate: Path locates the bad node
// (e.g. "and.1.field"), Msg says why.
type Error struct {
	// Path locates the node, e.g. and.1.field; empty for the whole input.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// Record is what a condition is evaluated on.
type Record interface {
	// Lookup returns the value at a dotted path such as deal.amount, and
	// whether the path is set.
	Lookup(path string) (any, bool)
	// Changed reports whether the event being matched changed the field.
	Changed(path string) bool
}

// Parse decodes and validates a condition. known reports whether a field
// path exists; nil accepts every path. An empty input (or JSON null) is the
// condition that always holds, returned as nil.
func Parse(data []byte, known func(string) bool) (*Node, error) {
	s := strings.TrimSpace(string(data))
	if s == "" || s == "null" || s == "{}" {
		return nil, nil
	}
	var raw any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, &Error{Msg: "not JSON: " + err.Error()}
	}
	if dec.More() {
		return nil, &Error{Msg: "trailing data after the condition"}
	}
	count := 0
	return build(raw, "", 0, &count, known)
}

// FromMap validates a condition already decoded from JSON.
func FromMap(m map[string]any, known func(string) bool) (*Node, error) {
	if len(m) == 0 {
		return nil, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, &Error{Msg: err.Error()}
	}
	return Parse(data, known)
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

func build(raw any, path string, depth int, count *int, known func(string) bool) (*Node, error) {
	if depth > MaxDepth {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("nested deeper than %d", MaxDepth)}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &Error{Path: path, Msg: "expected an object"}
	}
	*count++
	if *count > MaxNodes {
		return nil, &Error{Path: path, Msg: fmt.Sprintf("more than %d nodes", MaxNodes)}
	}
	for _, k := range []string{"and", "or"} {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if len(obj) != 1 {
			return nil, &Error{Path: path, Msg: k + " must be the node's only key"}
		}
		list, ok := v.([]any)
		if !ok || len(list) == 0 {
			return nil, &Error{Path: join(path, k), Msg: "expected a non-empty list of conditions"}
		}
		kids := make([]*Node, len(list))
		for i, item := range list {
			n, err := build(item, join(join(path, k), strconv.Itoa(i)), depth+1, count, known)
			if err != nil {
				return nil, err
			}
			kids[i] = n
		}
		if k == "and" {
			return &Node{And: kids}, nil
		}
		return &Node{Or: kids}, nil
	}
	if v, ok := obj["not"]; ok {
		if len(obj) != 1 {
			return nil, &Error{Path: path, Msg: "not must be the node's only key"}
		}
		n, err := build(v, join(path, "not"), depth+1, count, known)
		if err != nil {
			return nil, err
		}
		return &Node{Not: n}, nil
	}
	for k := range obj {
		if k != "field" && k != "op" && k != "value" {
			return nil, &Error{Path: join(path, k), Msg: "unknown key (want field, op, value, and, or, not)"}
		}
	}
	field, _ := obj["field"].(string)
	if field == "" {
		return nil, &Error{Path: join(path, "field"), Msg: "missing field"}
	}
	if known != nil && !known(field) {
		return nil, &Error{Path: join(path, "field"), Msg: fmt.Sprintf("unknown field %q", field)}
	}
	op, _ := obj["op"].(string)
	if !validOp(op) {
		return nil, &Error{Path: join(path, "op"), Msg: fmt.Sprintf("unknown op %q (want one of %s)", op, strings.Join(Ops, ", "))}
	}
	value, hasValue := obj["value"]
	switch op {
	case "exists", "changed":
		if !hasValue {
			value = true
		}
		if _, ok := value.(bool); !ok {
			return nil, &Error{Path: join(path, "value"), Msg: op + " takes true or false"}
		}
	case "in":
		if _, ok := value.([]any); !ok {
			return nil, &Error{Path: join(path, "value"), Msg: "in takes a list"}
		}
	case "gt", "gte", "lt", "lte":
		if _, ok := number(value); !ok {
			if _, ok := value.(string); !ok {
				return nil, &Error{Path: join(path, "value"), Msg: op + " takes a number or a string"}
			}
		}
	default:
		if !hasValue || value == nil {
			return nil, &Error{Path: join(path, "value"), Msg: "missing value (test for null with exists)"}
		}
		switch value.(type) {
		case map[string]any, []any:
			return nil, &Error{Path: join(path, "value"), Msg: op + " takes a single value"}
		}
	}
	return &Node{Field: field, Op: op, Value: value}, nil
}

func validOp(op string) bool {
	for _, o := range Ops {
		if o == op {
			return true
		}
	}
	return false
}

// Fields lists the field paths the condition reads.
func (n *Node) Fields() []string {
	if n == nil {
		return nil
	}
	var out []string
	var walk func(*Node)
	walk = func(n *Node) {
		switch {
		case n.And != nil:
			for _, k := range n.And {
				walk(k)
			}
		case n.Or != nil:
			for _, k := range n.Or {
				walk(k)
			}
		case n.Not != nil:
			walk(n.Not)
		default:
			out = append(out, n.Field)
		}
	}
	walk(n)
	return out
}

// Eval reports whether r meets the condition; a nil condition always holds.
func (n *Node) Eval(r Record) bool {
	if n == nil {
		return true
	}
	switch {
	case n.And != nil:
		for _, k := range n.And {
			if !k.Eval(r) {
				return false
			}
		}
		return true
	case n.Or != nil:
		for _, k := range n.Or {
			if k.Eval(r) {
				return true
			}
		}
		return false
	case n.Not != nil:
		return !n.Not.Eval(r)
	}
	if n.Op == "changed" {
		return r.Changed(n.Field) == n.Value.(bool)
	}
	got, ok := r.Lookup(n.Field)
	if list, isList := got.([]string); isList {
		return evalList(n, list)
	}
	if n.Op == "exists" {
		return (ok && got != nil && fmt.Sprint(got) != "") == n.Value.(bool)
	}
	switch n.Op {
	case "eq":
		return ok && equal(got, n.Value)
	case "ne":
		return !ok || !equal(got, n.Value)
	case "in":
		if !ok {
			return false
		}
		for _, v := range n.Value.([]any) {
			if equal(got, v) {
				return true
			}
		}
		return false
	case "contains":
		return ok && got != nil && strings.Contains(strings.ToLower(fmt.Sprint(got)), strings.ToLower(fmt.Sprint(n.Value)))
	}
	if !ok || got == nil {
		return false
	}
	c, ok := compare(got, n.Value)
	if !ok {
		return false
	}
	switch n.Op {
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	default:
		return c <= 0
	}
}

// evalList evaluates a condition on a list-valued field (a record's
// segment keys): eq and contains hold when an element equals the value
// (case-insensitively), in when an element is among the values, exists
// when the list is not empty; ne is the negation of eq, and the order
// comparisons never hold.
func evalList(n *Node, list []string) bool {
	has := func(v any) bool {
		for _, x := range list {
			if strings.EqualFold(x, fmt.Sprint(v)) {
				return true
			}
		}
		return false
	}
	switch n.Op {
	case "exists":
		return (len(list) > 0) == n.Value.(bool)
	case "eq", "contains":
		return has(n.Value)
	case "ne":
		return !has(n.Value)
	case "in":
		for _, v := range n.Value.([]any) {
			if has(v) {
				return true
			}
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case fmt.Stringer:
		return number(x.String())
	}
	return 0, false
}

func equal(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ab, ok := a.(bool); ok {
		bb, ok := b.(bool)
		return ok && ab == bb
	}
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x == y
		}
	}
	return strings.EqualFold(fmt.Sprint(a), fmt.Sprint(b))
}

// compare orders a and b: numerically when both are numbers, else as
// strings.
func compare(a, b any) (int, bool) {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			switch {
			case x < y:
				return -1, true
			case x > y:
				return 1, true
			}
			return 0, true
		}
		return 0, false
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)), true
}
