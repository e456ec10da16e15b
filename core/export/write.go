package export

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/internal/formula"
)

// writer writes the rows of one export in one format.
type writer interface {
	// row writes one record's cells (see column.value); it may keep no
	// reference to the slice.
	row(cells []any) error
	// close finishes the file and flushes it.
	close() error
	// abort gives up, releasing what the writer holds.
	abort()
}

// newWriter starts a file of format f on w with a header of cols.
func newWriter(f Format, w io.Writer, sheet string, cols []string) (writer, error) {
	switch f {
	case CSV:
		return newCSVWriter(w, cols)
	case JSONL:
		return newJSONLWriter(w, cols)
	case XLSX:
		return newXLSXWriter(w, sheet, cols)
	}
	return nil, fmt.Errorf("export: unknown format %q", f)
}

// text is a cell as text, and whether it is text rather than a number,
// a boolean, a date or a time (only text is escaped against formulas).
func text(c any) (string, bool) {
	switch v := c.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case date:
		return string(v), false
	case bool:
		return strconv.FormatBool(v), false
	case int64:
		return strconv.FormatInt(v, 10), false
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		return strconv.FormatFloat(v, 'f', -1, 64), false
	case crm.Money:
		return v.String(), false
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), false
	}
	return fmt.Sprint(c), true
}

type csvWriter struct {
	buf *bufio.Writer
	cw  *csv.Writer
	rec []string
}

func newCSVWriter(w io.Writer, cols []string) (*csvWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	c := &csvWriter{buf: buf, cw: csv.NewWriter(buf), rec: make([]string, len(cols))}
	return c, c.cw.Write(cols)
}

func (c *csvWriter) row(cells []any) error {
	for i, cell := range cells {
		s, isText := text(cell)
		if isText {
			s = formula.Escape(s)
		}
		c.rec[i] = s
	}
	return c.cw.Write(c.rec)
}

func (c *csvWriter) close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

func (c *csvWriter) abort() { _ = c.close() }

type jsonlWriter struct {
	buf  *bufio.Writer
	keys [][]byte // each column's `"name":`, with the comma before it
	line []byte
}

func newJSONLWriter(w io.Writer, cols []string) (*jsonlWriter, error) {
	j := &jsonlWriter{buf: bufio.NewWriterSize(w, 64<<10)}
	for i, c := range cols {
		k, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		sep := ","
		if i == 0 {
			sep = "{"
		}
		j.keys = append(j.keys, append(append([]byte(sep), k...), ':'))
	}
	return j, nil
}

func (j *jsonlWriter) row(cells []any) error {
	b := j.line[:0]
	for i, cell := range cells {
		b = append(b, j.keys[i]...)
		switch v := cell.(type) {
		case nil:
			b = append(b, "null"...)
		case bool:
			b = strconv.AppendBool(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b = append(b, "null"...)
			} else {
				b = strconv.AppendFloat(b, v, 'f', -1, 64)
			}
		case crm.Money:
			b = append(b, v.String()...)
		default:
			s, _ := text(cell)
			q, err := json.Marshal(s)
			if err != nil {
				return err
			}
			b = append(b, q...)
		}
	}
	if len(cells) == 0 {
		b = append(b, '{')
	}
	b = append(b, '}', '\n')
	j.line = b
	_, err := j.buf.Write(b)
	return err
}

func (j *jsonlWriter) close() error { return j.buf.Flush() }

func (j *jsonlWriter) abort() { _ = j.buf.Flush() }

type xlsxWriter struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	money  int // style of money cells: two decimals
	n      int // rows written, the header included
	values []any
}

func newXLSXWriter(w io.Writer, sheet string, cols []string) (*xlsxWriter, error) {
	f := excelize.NewFile()
	x := &xlsxWriter{w: w, f: f, values: make([]any, len(cols))}
	fail := func(err error) (*xlsxWriter, error) {
		_ = f.Close()
		return nil, fmt.Errorf("export: xlsx: %w", err)
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fail(err)
	}
	var err error
	if x.money, err = f.NewStyle(&excelize.Style{NumFmt: 2}); err != nil { // 0.00
		return fail(err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fail(err)
	}
	if x.sw, err = f.NewStreamWriter(sheet); err != nil {
		return fail(err)
	}
	header := make([]any, len(cols))
	for i, c := range cols {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	if err := x.write(header); err != nil {
		return fail(err)
	}
	return x, nil
}

func (x *xlsxWriter) write(values []any) error {
	x.n++
	cell, err := excelize.CoordinatesToCellName(1, x.n)
	if err != nil {
		return err
	}
	if err := x.sw.SetRow(cell, values); err != nil {
		return fmt.Errorf("export: xlsx row %d: %w", x.n, err)
	}
	return nil
}

func (x *xlsxWriter) row(cells []any) error {
	for i, c := range cells {
		switch v := c.(type) {
		case nil:
			x.values[i] = nil
		case bool, int64:
			x.values[i] = v
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				x.values[i] = nil
			} else {
				x.values[i] = v
			}
		case crm.Money:
			x.values[i] = excelize.Cell{StyleID: x.money, Value: v.Float()}
		default:
			s, isText := text(c)
			if isText {
				s = formula.Escape(s)
			}
			x.values[i] = s
		}
	}
	return x.write(x.values)
}

func (x *xlsxWriter) close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	// File.WriteTo would build the whole archive in a buffer before
	// writing it; a zip writer of our own over w streams it instead (the
	// buffer excelize hands it is left empty).
	zw := zip.NewWriter(x.w)
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	if _, err := x.f.WriteToBuffer(); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

func (x *xlsxWriter) abort() { _ = x.f.Close() }
