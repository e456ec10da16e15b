// Package read opens the files an import reads as one kind of table: a
// header and numbered rows of text cells. It reads CSV (any of the usual
// delimiters, in UTF-8 with or without a byte-order mark, UTF-16 or
// Windows-1252, declared or detected), JSON Lines and XLSX workbooks.
//
// Every reader is bounded: a row longer than Options.MaxRowBytes, a header
// wider than Options.MaxColumns or a workbook that unpacks to more than
// Options.MaxUnpacked stops the read with an error that says so, and a
// file that is not what it claims (binary as CSV, a truncated workbook) is
// refused at Open. A row that cannot be read (a broken quote, invalid
// UTF-8, a line of JSON Lines that is not an object) is reported as an
// *Error naming its row and column, and the read goes on.
package read

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is a file format Open reads.
type Format string

// The formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
	XLSX  Format = "xlsx"
)

// Defaults of Options.
const (
	DefaultMaxRowBytes = 1 << 20
	DefaultMaxColumns  = 500
	DefaultMaxUnpacked = 512 << 20
)

// Options say how to read a file; the zero value detects everything.
type Options struct {
	// Format is the file's format; when empty, it is told from the file's
	// content, then its name.
	Format Format
	// Delimiter separates CSV cells; when 0, the one of , ; tab | that
	// splits the first lines most evenly.
	Delimiter rune
	// Encoding is the CSV file's text encoding: utf-8, utf-16le,
	// utf-16be or windows-1252; when empty, a byte-order mark decides,
	// else valid UTF-8 is UTF-8, else the file is Windows-1252.
	Encoding string
	// Sheet is the XLSX sheet read; the first when empty.
	Sheet string
	// MaxRowBytes bounds one row (DefaultMaxRowBytes when 0).
	MaxRowBytes int
	// MaxColumns bounds the header (DefaultMaxColumns when 0).
	MaxColumns int
	// MaxUnpacked bounds the bytes an XLSX workbook unpacks to
	// (DefaultMaxUnpacked when 0).
	MaxUnpacked int64
}

func (o Options) withDefaults() Options {
	if o.MaxRowBytes <= 0 {
		o.MaxRowBytes = DefaultMaxRowBytes
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	if o.MaxUnpacked <= 0 {
		o.MaxUnpacked = DefaultMaxUnpacked
	}
	return o
}

// Row is one data row of a table.
type Row struct {
	// Num is the row's number as a person looking at the file would count
	// it: in CSV and XLSX the header is row 1, so the first data row is
	// row 2; in JSON Lines it is the line's number.
	Num int
	// Cells are the row's cells, one per header column, "" when missing.
	Cells []string
}

// Error is a row that could not be read. Table.Next returns it and the
// read can go on.
type Error struct {
	// Row is the row's number, counted as Row.Num is.
	Row int
	// Column is the header of the column at fault, or "" for the row.
	Column string
	// Reason is a short code: bad_quote, invalid_utf8, extra_cells,
	// not_an_object, invalid_json.
	Reason string
	// Message says what is wrong, for a person.
	Message string
}

func (e *Error) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("row %d, column %q: %s", e.Row, e.Column, e.Message)
	}
	return fmt.Sprintf("row %d: %s", e.Row, e.Message)
}

// Table is an opened file.
type Table interface {
	// Format is the file's format.
	Format() Format
	// Header is the column names: the first row of CSV and XLSX, the keys
	// of JSON Lines' objects in the order they first appear. Empty names
	// are "column N" and repeated ones get " (2)", " (3)", ….
	Header() []string
	// Next returns the next row; io.EOF after the last. An *Error is a row
	// that could not be read, and Next may be called again; any other
	// error ends the read.
	Next() (Row, error)
}

// Open reads the size bytes of r as a table. name (a file name, or "")
// helps tell the format when o.Format is empty.
func Open(r io.ReaderAt, size int64, name string, o Options) (Table, error) {
	o = o.withDefaults()
	head := make([]byte, min(size, 64<<10))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		return nil, fmt.Errorf("reading the file: %w", err)
	}
	isZip := bytes.HasPrefix(head, []byte("PK\x03\x04"))
	f := o.Format
	if f == "" {
		f = detect(head, isZip, name)
	}
	switch f {
	case XLSX:
		if !isZip {
			return nil, errors.New("the file is not an XLSX workbook: it does not start as one (a zip archive) does")
		}
		return openXLSX(r, size, o)
	case CSV, JSONL:
		if isZip {
			return nil, fmt.Errorf("the file is a zip archive (an XLSX workbook?), not %s text", strings.ToUpper(string(f)))
		}
		if f == JSONL {
			return openJSONL(r, size, head, o)
		}
		return openCSV(r, size, head, o)
	default:
		return nil, fmt.Errorf("unknown format %q: want csv, jsonl or xlsx", f)
	}
}

// detect tells a file's format from its first bytes, then its name.
func detect(head []byte, isZip bool, name string) Format {
	if isZip {
		return XLSX
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson":
		return JSONL
	case ".xlsx":
		return XLSX
	case ".csv", ".tsv", ".txt":
		return CSV
	}
	if t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return JSONL
	}
	return CSV
}

// header makes names of a header row: trimmed, "column N" when empty,
// " (2)" and on when repeated.
func header(cells []string, maxCols int) ([]string, error) {
	if len(cells) > maxCols {
		return nil, fmt.Errorf("the header has %d columns, more than the %d allowed", len(cells), maxCols)
	}
	out := make([]string, len(cells))
	seen := make(map[string]int, len(cells))
	for i, c := range cells {
		c = strings.TrimSpace(c)
		if c == "" {
			c = fmt.Sprintf("column %d", i+1)
		}
		seen[strings.ToLower(c)]++
		if n := seen[strings.ToLower(c)]; n > 1 {
			c = fmt.Sprintf("%s (%d)", c, n)
		}
		out[i] = c
	}
	return out, nil
}
