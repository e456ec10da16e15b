package read

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

type xlsxTable struct {
	f    *excelize.File
	rows *excelize.Rows
	hdr  []string
	num  int
	max  int
}

// checkZip refuses a workbook whose parts would unpack to more than max
// bytes, before anything is unpacked. (The zip reader refuses a part that
// unpacks to more than its entry declares.)
func checkZip(r io.ReaderAt, size int64, max int64) error {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Errorf("the file is not an XLSX workbook, or it is truncated: %w", err)
	}
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		if total > uint64(max) {
			return fmt.Errorf("the workbook unpacks to more than %d bytes", max)
		}
	}
	return nil
}

func openXLSX(r io.ReaderAt, size int64, o Options) (Table, error) {
	if err := checkZip(r, size, o.MaxUnpacked); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(io.NewSectionReader(r, 0, size), excelize.Options{
		UnzipSizeLimit:    o.MaxUnpacked,
		UnzipXMLSizeLimit: min(o.MaxUnpacked, 16<<20),
	})
	if err != nil {
		return nil, fmt.Errorf("the file is not a readable XLSX workbook: %w", err)
	}
	sheet := o.Sheet
	if sheet == "" {
		list := f.GetSheetList()
		if len(list) == 0 {
			f.Close()
			return nil, errors.New("the workbook has no sheet")
		}
		sheet = list[0]
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sheet %q: %w", sheet, err)
	}
	t := &xlsxTable{f: f, rows: rows, max: o.MaxRowBytes}
	if !rows.Next() {
		t.close()
		if err := rows.Error(); err != nil {
			return nil, fmt.Errorf("sheet %q: %w", sheet, err)
		}
		return nil, fmt.Errorf("sheet %q is empty: it has no header row", sheet)
	}
	cells, err := rows.Columns()
	if err != nil {
		t.close()
		return nil, fmt.Errorf("sheet %q, row 1: %w", sheet, err)
	}
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	if len(cells) == 0 {
		t.close()
		return nil, fmt.Errorf("sheet %q: row 1, the header, is empty", sheet)
	}
	if t.hdr, err = header(cells, o.MaxColumns); err != nil {
		t.close()
		return nil, err
	}
	t.num = 1
	return t, nil
}

func (t *xlsxTable) close() {
	_ = t.rows.Close()
	_ = t.f.Close()
}

func (t *xlsxTable) Format() Format   { return XLSX }
func (t *xlsxTable) Header() []string { return t.hdr }

func (t *xlsxTable) Next() (Row, error) {
	for {
		if !t.rows.Next() {
			err := t.rows.Error()
			t.close()
			if err != nil {
				return Row{}, fmt.Errorf("row %d: %w", t.num+1, err)
			}
			return Row{}, io.EOF
		}
		t.num++
		cells, err := t.rows.Columns()
		if err != nil {
			return Row{Num: t.num}, &Error{Row: t.num, Reason: "bad_cell", Message: err.Error()}
		}
		empty, n := true, 0
		for _, c := range cells {
			n += len(c)
			empty = empty && strings.TrimSpace(c) == ""
		}
		if empty {
			continue
		}
		if n > t.max {
			return Row{Num: t.num}, &Error{Row: t.num, Reason: "row_too_long", Message: fmt.Sprintf("the row is longer than %d bytes", t.max)}
		}
		if len(cells) > len(t.hdr) {
			for _, c := range cells[len(t.hdr):] {
				if strings.TrimSpace(c) != "" {
					return Row{Num: t.num}, &Error{Row: t.num, Reason: "extra_cells", Message: fmt.Sprintf("the row has cells beyond the header's %d columns", len(t.hdr))}
				}
			}
			cells = cells[:len(t.hdr)]
		}
		for len(cells) < len(t.hdr) {
			cells = append(cells, "")
		}
		for i, c := range cells {
			if !utf8.ValidString(c) {
				return Row{Num: t.num}, &Error{Row: t.num, Column: t.hdr[i], Reason: "invalid_utf8", Message: "the cell is not valid UTF-8"}
			}
		}
		return Row{Num: t.num, Cells: cells}, nil
	}
}
