// Package export writes a workspace's records of one type to a file, as
// CSV, JSON Lines or XLSX, for reading in a spreadsheet or loading into
// another system.
//
// An export streams: it reads the records in pages by ID (keyset
// pagination, id > last ORDER BY id), writes each page and lets it go,
// so its memory does not grow with the number of records. It reads as a
// viewer of one workspace, so it never sees another workspace's records
// and never writes. A filter, written as the GraphQL XxxWhereInput of the
// type, narrows the records (see DecodeWhere).
//
// The columns are the type's fields in schema order (id, created_at,
// updated_at, then its own fields, foreign keys as IDs), then one column
// "custom.KEY" per custom field the workspace defines for the type, in key
// order. Money is in currency units with two decimals, times are RFC 3339
// in UTC, and a missing value (a null, an empty text, an unset custom
// field) is an empty cell in CSV and XLSX and null in JSON Lines. Text in
// CSV and XLSX cells is escaped against formula injection.
package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Format is a file format an export writes.
type Format string

// The formats.
const (
	// CSV is comma-separated values with a header row (RFC 4180).
	CSV Format = "csv"
	// JSONL is JSON Lines: one JSON object per record, keyed by column,
	// with typed values.
	JSONL Format = "jsonl"
	// XLSX is an Excel workbook with one sheet named after the type.
	XLSX Format = "xlsx"
)

// ParseFormat reads a format name: csv, jsonl (or ndjson) or xlsx.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "csv":
		return CSV, nil
	case "jsonl", "ndjson":
		return JSONL, nil
	case "xlsx":
		return XLSX, nil
	}
	return "", errcode.Input("format", "unknown format %q: use csv, jsonl or xlsx", s)
}

// FormatOf is the format a file name's extension names (.csv, .jsonl,
// .ndjson, .xlsx), and false when it names none.
func FormatOf(path string) (Format, bool) {
	ext := strings.TrimPrefix(filepath.Ext(path), ".")
	if ext == "" {
		return "", false
	}
	f, err := ParseFormat(ext)
	return f, err == nil
}

// DefaultPageSize is how many records an export reads at a time.
const DefaultPageSize = 1000

// Options say what to export and how.
type Options struct {
	// Type is the record type, one of Types().
	Type string
	// Where is a JSON filter written as the type's GraphQL XxxWhereInput
	// (see DecodeWhere); empty exports every record.
	Where []byte
	// Format is the file format; empty is CSV.
	Format Format
	// PageSize is how many records are read at a time; 0 is
	// DefaultPageSize.
	PageSize int
}

// Result tells what an export wrote.
type Result struct {
	// Columns are the column names, in order.
	Columns []string
	// Rows is the number of records written.
	Rows int
}

// Run writes the records of o.Type in the workspace of ctx's viewer to w
// in o.Format. ctx must carry a tenancy.Viewer: the export reads as a
// viewer (read-only) of that workspace, whatever the caller's role, and
// sees only its records. Errors about the options (type, format, filter)
// are errcode BAD_USER_INPUT errors; nothing is written before they are
// found.
func Run(ctx context.Context, client *ent.Client, w io.Writer, o Options) (Result, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return Result{}, errcode.New(errcode.Unauthenticated, "export: no workspace in context")
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: v.WorkspaceID, Role: tenancy.RoleViewer, MemberID: v.MemberID, TokenID: v.TokenID})
	src, err := sourceOf(o.Type)
	if err != nil {
		return Result{}, err
	}
	format := o.Format
	if format == "" {
		format = CSV
	}
	if _, err := ParseFormat(string(format)); err != nil {
		return Result{}, err
	}
	page, err := src.newPager(client, o.Where)
	if err != nil {
		return Result{}, err
	}
	n := o.PageSize
	if n <= 0 {
		n = DefaultPageSize
	}
	cols, err := columnsOf(ctx, client, src)
	if err != nil {
		return Result{}, err
	}
	res := Result{Columns: make([]string, len(cols))}
	for i, c := range cols {
		res.Columns[i] = c.name
	}
	out, err := newWriter(format, w, o.Type, res.Columns)
	if err != nil {
		return res, err
	}
	// A page is "workspace_id = ? AND id > ? ORDER BY id LIMIT n". Left
	// to itself SQLite's planner answers it from an index that begins
	// with workspace_id, reading and sorting the whole rest of the
	// workspace for every page (quadratic in the records exported);
	// under store.ByKeys it walks the primary key from the last ID
	// instead, so an export reads the table once.
	pageCtx := store.ByKeys(ctx)
	row := make([]any, len(cols))
	var after pulid.ID
	for {
		recs, err := page(pageCtx, after, n)
		if err != nil {
			out.abort()
			return res, fmt.Errorf("export %s: %w", o.Type, err)
		}
		list := reflect.ValueOf(recs)
		for i := range list.Len() {
			rec := list.Index(i).Elem()
			for j, c := range cols {
				row[j] = c.value(rec)
			}
			if err := out.row(row); err != nil {
				out.abort()
				return res, err
			}
			res.Rows++
		}
		if list.Len() < n {
			break
		}
		after = list.Index(list.Len() - 1).Elem().FieldByName("ID").Interface().(pulid.ID)
	}
	return res, out.close()
}

// column is one column of an export: its name and how a record's value
// is read into a cell.
type column struct {
	name string
	// value is the cell of the record (an ent struct, not a pointer):
	// nil (missing), string (text), date (a calendar date), bool, int64,
	// float64, crm.Money or time.Time (UTC).
	value func(rec reflect.Value) any
}

// date is a calendar date, YYYY-MM-DD, from a custom date field.
type date string

// hidden are the fields an export leaves out: the workspace (every row's
// is the viewer's), the deletion mark (deleted records are not read) and
// the custom fields object (spread into custom.KEY columns).
var hidden = map[string]bool{"workspace_id": true, "deleted_at": true, "custom_fields": true}

var (
	timeType  = reflect.TypeFor[time.Time]()
	moneyType = reflect.TypeFor[crm.Money]()
)

// columnsOf lists the columns of the source: its scalar fields, then the
// workspace's custom fields of its entity.
func columnsOf(ctx context.Context, client *ent.Client, src source) ([]column, error) {
	var cols []column
	var customIdx []int
	t := src.record
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "custom_fields" {
			customIdx = f.Index
		}
		if !f.IsExported() || f.Anonymous || f.Name == "Edges" || name == "" || name == "-" || hidden[name] {
			continue
		}
		conv, err := converter(f.Type)
		if err != nil {
			return nil, fmt.Errorf("export: field %s of %s: %w", name, t.Name(), err)
		}
		idx := f.Index
		cols = append(cols, column{name: name, value: func(rec reflect.Value) any { return conv(rec.FieldByIndex(idx)) }})
	}
	if src.entity == "" || customIdx == nil {
		return cols, nil
	}
	defs, err := client.CustomField.Query().
		Where(customfield.EntityEQ(src.entity)).
		Order(ent.Asc(customfield.FieldKey)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("export: loading custom fields: %w", err)
	}
	for _, d := range defs {
		key, typ := d.Key, d.Type
		cols = append(cols, column{name: "custom." + key, value: func(rec reflect.Value) any {
			m, _ := rec.FieldByIndex(customIdx).Interface().(map[string]any)
			return customCell(typ, m[key])
		}})
	}
	return cols, nil
}

// converter returns how a field of Go type t becomes a cell.
func converter(t reflect.Type) (func(reflect.Value) any, error) {
	if t.Kind() == reflect.Pointer {
		inner, err := converter(t.Elem())
		if err != nil {
			return nil, err
		}
		return func(v reflect.Value) any {
			if v.IsNil() {
				return nil
			}
			return inner(v.Elem())
		}, nil
	}
	switch {
	case t == timeType:
		return func(v reflect.Value) any {
			tm := v.Interface().(time.Time)
			if tm.IsZero() {
				return nil
			}
			return tm.UTC()
		}, nil
	case t == moneyType:
		return func(v reflect.Value) any { return crm.Money(v.Int()) }, nil
	}
	switch t.Kind() {
	case reflect.String:
		return func(v reflect.Value) any {
			if v.Len() == 0 {
				return nil
			}
			return v.String()
		}, nil
	case reflect.Bool:
		return func(v reflect.Value) any { return v.Bool() }, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(v reflect.Value) any { return v.Int() }, nil
	case reflect.Float32, reflect.Float64:
		return func(v reflect.Value) any { return v.Float() }, nil
	}
	return nil, fmt.Errorf("no cell for type %s", t)
}

// customCell is the cell of a custom field value of type typ. A value
// that does not have its definition's type (written before the
// definition changed) is kept as text.
func customCell(typ customfield.Type, v any) any {
	if v == nil {
		return nil
	}
	switch typ {
	case customfield.TypeNumber:
		if f, ok := v.(float64); ok {
			return f
		}
	case customfield.TypeBoolean:
		if b, ok := v.(bool); ok {
			return b
		}
	case customfield.TypeDate:
		if s, ok := v.(string); ok {
			if _, err := time.Parse(time.DateOnly, s); err == nil {
				return date(s)
			}
		}
	}
	if s, ok := v.(string); ok {
		if s == "" {
			return nil
		}
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
