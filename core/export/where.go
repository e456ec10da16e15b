package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/rapportcrm/rapport/core/errcode"
)

// MaxWhereSize is the largest --where document accepted, in bytes.
const MaxWhereSize = 64 << 10

// MaxWhereDepth is the deepest nesting of JSON objects and arrays a
// --where document may have.
const MaxWhereDepth = 32

// DecodeWhere decodes data, a JSON filter written as the GraphQL
// XxxWhereInput of a record type (such as {"lastNameContains":"a"}), into
// v, a pointer to the matching generated ent.XxxWhereInput. Field names
// must match exactly (as GraphQL writes them): an unknown or misspelt one
// is a BAD_USER_INPUT error naming it and where it is. Documents larger
// than MaxWhereSize or nested deeper than MaxWhereDepth are refused. An
// empty document, or null, leaves v as it is: no filter.
func DecodeWhere(data []byte, v any) error {
	if len(data) > MaxWhereSize {
		return errcode.Input("where", "filter is %d bytes, more than the %d allowed", len(data), MaxWhereSize)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if d := jsonDepth(data); d > MaxWhereDepth {
		return errcode.Input("where", "filter nests deeper than %d levels", MaxWhereDepth)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return errcode.Input("where", "not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errcode.Input("where", "not valid JSON: data after the filter object")
	}
	if _, ok := tree.(map[string]any); !ok {
		return errcode.Input("where", "filter must be a JSON object")
	}
	if err := checkKeys(tree, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errcode.Input("where", "%s", whereError(err))
	}
	return nil
}

// whereError words a decoding error for a user who wrote the filter.
func whereError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q: cannot use a JSON %s here (want %s)", te.Field, te.Value, typeWord(te.Type))
		}
		return fmt.Sprintf("cannot use a JSON %s here (want %s)", te.Value, typeWord(te.Type))
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// typeWord names a Go type as a JSON user knows it.
func typeWord(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct:
		if t.Name() == "Time" {
			return "an RFC 3339 time string"
		}
		return "an object"
	}
	return t.String()
}

// jsonDepth is the deepest nesting of objects and arrays in data, which
// need not be valid JSON.
func jsonDepth(data []byte) int {
	depth, most := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

// checkKeys walks a decoded JSON tree beside the Go type it decodes into
// and refuses any object key that is not exactly a field's JSON name
// (encoding/json matches names without regard to case, which would let
// a misspelt filter pass).
func checkKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := jsonFields(t)
		for k, sub := range x {
			ft, ok := fields[k]
			at := k
			if path != "" {
				at = path + "." + k
			}
			if !ok {
				return errcode.Input("where", "unknown filter field %q%s", k, inWhere(path))
			}
			if err := checkKeys(sub, ft, at); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, sub := range x {
			if err := checkKeys(sub, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func inWhere(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the JSON names of struct type t's fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}
