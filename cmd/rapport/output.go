package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/internal/formula"
	"github.com/rapportcrm/rapport/internal/round"
)

// table is what a listing command prints: column names (snake_case, the
// keys of its JSON objects) and rows of typed cells. A cell is one of:
//
//   - nil: missing; an empty cell, null in JSON
//   - string (or a type whose kind is string, such as an ID): text
//   - bool
//   - int, int64: a count
//   - float64, *float64: a measured figure (rate, ratio, score, average),
//     shown rounded by round.Measure; nil, NaN and ±Inf are missing
//   - exact: a number already rounded to its precision (money as a
//     float, rounded to the cent), shown as it is
//   - crm.Money, *crm.Money: an exact amount, two decimals
//   - json.Number: a number kept as written
//   - time.Time, *time.Time: RFC 3339 in UTC; the zero time and nil are
//     missing
//   - rawJSON: a JSON document, embedded as is in JSON and compact
//     elsewhere
//
// The table and CSV forms print numbers without thousands separators and
// missing cells empty; JSON has the values typed.
type table struct {
	Columns []string
	Rows    [][]any
}

// exact is a number already rounded to its precision: printed as it is.
type exact float64

// rawJSON is a cell holding a JSON document; empty is missing.
type rawJSON []byte

// jsonCell is c as a JSON value: a string, bool, number (float64,
// int64 or json.Number), nil or json.RawMessage.
func jsonCell(c any) any {
	switch v := c.(type) {
	case nil:
		return nil
	case string:
		return v
	case bool:
		return v
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return round.Measure(v)
	case *float64:
		if v == nil {
			return nil
		}
		return jsonCell(*v)
	case exact:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
		return float64(v)
	case json.Number:
		return v
	case crm.Money:
		return json.Number(v.String())
	case *crm.Money:
		if v == nil {
			return nil
		}
		return json.Number(v.String())
	case time.Time:
		if v.IsZero() {
			return nil
		}
		return v.UTC().Format(time.RFC3339)
	case *time.Time:
		if v == nil {
			return nil
		}
		return jsonCell(*v)
	case rawJSON:
		if len(v) == 0 {
			return nil
		}
		return json.RawMessage(v)
	}
	if rv := reflect.ValueOf(c); rv.Kind() == reflect.String {
		return rv.String()
	}
	return fmt.Sprint(c)
}

// textCell is c as a table or CSV cell, and whether it is text rather
// than a number, a boolean or a time.
func textCell(c any) (string, bool) {
	switch v := jsonCell(c).(type) {
	case nil:
		return "", false
	case string:
		_, isTime := c.(time.Time)
		_, isTimePtr := c.(*time.Time)
		return v, !isTime && !isTimePtr
	case bool:
		return strconv.FormatBool(v), false
	case int64:
		return strconv.FormatInt(v, 10), false
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), false
	case json.Number:
		return v.String(), false
	case json.RawMessage:
		var b bytes.Buffer
		if json.Compact(&b, v) != nil {
			return string(v), true
		}
		return b.String(), true
	}
	return fmt.Sprint(c), true
}

// csvSafe escapes a text cell against formula injection (see
// formula.Escape).
func csvSafe(s string) string { return formula.Escape(s) }

// isJSONNumber says whether s is a number as JSON writes it.
func isJSONNumber(s string) bool { return formula.IsNumber(s) }

// write prints t as format: "table" (aligned text), "json" (an array of
// objects keyed by column, in column order, with typed values) or "csv"
// (with a header row, text cells escaped by csvSafe).
func (t table) write(w io.Writer, format string) error {
	switch format {
	case "", "table":
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for i, c := range t.Columns {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprintln(tw)
		for _, r := range t.Rows {
			for i, c := range r {
				if i > 0 {
					fmt.Fprint(tw, "\t")
				}
				s, _ := textCell(c)
				fmt.Fprint(tw, s)
			}
			fmt.Fprintln(tw)
		}
		return tw.Flush()
	case "json":
		out := make([]jsonObject, 0, len(t.Rows))
		for _, r := range t.Rows {
			obj := jsonObject{keys: t.Columns, values: make([]any, len(t.Columns))}
			for i, c := range r {
				obj.values[i] = jsonCell(c)
			}
			out = append(out, obj)
		}
		return writeJSON(w, out)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for i, c := range r {
				s, text := textCell(c)
				if text {
					s = csvSafe(s)
				}
				rec[i] = s
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return errcode.Input("output", "unknown output format %q: use table, json or csv", format)
}

// jsonObject is a JSON object whose keys keep their order.
type jsonObject struct {
	keys   []string
	values []any
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.values[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON prints v as indented JSON, the form every command's
// --output json has.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// optional is s, or nil (missing) when s is empty.
func optional(s string) any {
	if s == "" {
		return nil
	}
	return s
}
