package read

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// all reads a table to its end: the rows, and the row errors by row.
func all(t *testing.T, tb Table) ([]Row, []*Error) {
	t.Helper()
	var rows []Row
	var errs []*Error
	for {
		r, err := tb.Next()
		if err == io.EOF {
			return rows, errs
		}
		var re *Error
		if errors.As(err, &re) {
			errs = append(errs, re)
			continue
		}
		if err != nil {
			t.Fatalf("after %d rows: %v", len(rows), err)
		}
		rows = append(rows, r)
	}
}

func open(t *testing.T, data []byte, name string, o Options) Table {
	t.Helper()
	tb, err := Open(bytes.NewReader(data), int64(len(data)), name, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return tb
}

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16be(s string) []byte {
	b := []byte{0xfe, 0xff}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// TestCSVEncodingsAndDelimiters reads the same two-row table written in
// every encoding and with every delimiter: the cells must come back the
// same, with the row numbers a spreadsheet shows.
func TestCSVEncodingsAndDelimiters(t *testing.T) {
	wantHdr := []string{"Name", "City", "Note"}
	want := []Row{
		{Num: 2, Cells: []string{"Jürgen Müller", "Köln", "owes €5"}},
		{Num: 3, Cells: []string{"Zoë", "Montréal", "two\nlines, quoted"}},
	}
	text := func(d string) string {
		return "Name" + d + "City" + d + "Note\r\n" +
			"Jürgen Müller" + d + "Köln" + d + "owes €5\r\n" +
			"Zoë" + d + "Montréal" + d + "\"two\nlines, quoted\"\r\n"
	}
	// Windows-1252: ü=FC, ö=F6, €=80, ë=EB, é=E9.
	cp1252 := func(d string) []byte {
		r := strings.NewReplacer("ü", "\xfc", "ö", "\xf6", "€", "\x80", "ë", "\xeb", "é", "\xe9")
		return []byte(r.Replace(text(d)))
	}
	cases := []struct {
		name string
		data []byte
		o    Options
	}{
		{"utf-8", []byte(text(",")), Options{}},
		{"utf-8 bom", append([]byte("\xef\xbb\xbf"), text(",")...), Options{}},
		{"utf-8 semicolon", []byte(text(";")), Options{}},
		{"utf-8 tab", []byte(text("\t")), Options{}},
		{"utf-8 pipe", []byte(text("|")), Options{}},
		{"utf-16le bom", utf16le(text(","), true), Options{}},
		{"utf-16le no bom", utf16le(text(";"), false), Options{}},
		{"utf-16be bom", utf16be(text("\t")), Options{}},
		{"windows-1252", cp1252(","), Options{}},
		{"windows-1252 declared", cp1252(";"), Options{Encoding: "windows-1252", Delimiter: ';'}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb := open(t, c.data, "people.csv", c.o)
			if tb.Format() != CSV {
				t.Errorf("format %s", tb.Format())
			}
			if !reflect.DeepEqual(tb.Header(), wantHdr) {
				t.Fatalf("header %q", tb.Header())
			}
			rows, errs := all(t, tb)
			if len(errs) > 0 {
				t.Fatalf("row errors: %v", errs)
			}
			if !reflect.DeepEqual(rows, want) {
				t.Fatalf("rows\n got %+v\nwant %+v", rows, want)
			}
		})
	}
}

// TestCSVRowErrors checks that bad rows are reported by row and column
// and that the read goes on after them.
func TestCSVRowErrors(t *testing.T) {
	data := "id,name,email\n" +
		"1,Ann,ann@example.com\n" + // row 2
		"2,\"Bo\"b,bob@example.com\n" + // row 3: a quote inside an unquoted cell
		"3,Cy\xff,cy@example.com\n" + // row 4: invalid UTF-8 in name
		"4,Di,di@example.com,extra\n" + // row 5: a cell beyond the header
		"\n" + // a blank line is no row
		"5,Ed\n" + // row 7: short rows are padded
		"6,Fy,fy@example.com,,\n" // row 8: empty cells beyond the header are dropped
	tb := open(t, []byte(data), "", Options{Encoding: "utf-8"})
	rows, errs := all(t, tb)
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r.Cells, "|")+"@"+string(rune('0'+r.Num)))
	}
	wantRows := []string{"1|Ann|ann@example.com@2", "5|Ed|@7", "6|Fy|fy@example.com@8"}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("rows %q, want %q", got, wantRows)
	}
	wantErrs := []Error{
		{Row: 3, Reason: "bad_quote"},
		{Row: 4, Column: "name", Reason: "invalid_utf8"},
		{Row: 5, Reason: "extra_cells"},
	}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors %v, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		e := errs[i]
		if e.Row != w.Row || e.Column != w.Column || e.Reason != w.Reason || e.Message == "" {
			t.Errorf("error %d: %+v, want %+v", i, *e, w)
		}
	}
}

// TestRefused checks the files Open or the read refuses as a whole, each
// with a message that says why.
func TestRefused(t *testing.T) {
	long := "a,b\n1," + strings.Repeat("x", 3<<20) + "\n"
	longJSON := "{\"a\":\"" + strings.Repeat("x", 3<<20) + "\"}\n"
	var wide strings.Builder
	for i := 0; i < 600; i++ {
		wide.WriteString("c,")
	}
	wide.WriteString("c\n")
	xl := workbook(t, [][]any{{"a", "b"}, {1, 2}})
	cases := []struct {
		name, file string
		data       []byte
		o          Options
		want       string
	}{
		{"binary as csv", "x.csv", []byte("a,b\n\x00\x01\x02\x03\x04\x00\x00\x00\x07"), Options{}, "binary"},
		{"zip as csv", "x.csv", xl, Options{Format: CSV}, "zip archive"},
		{"csv as xlsx", "x.xlsx", []byte("a,b\n1,2\n"), Options{Format: XLSX}, "not an XLSX"},
		{"truncated xlsx", "x.xlsx", xl[:len(xl)/2], Options{}, "truncated"},
		{"empty", "x.csv", nil, Options{}, "empty"},
		{"too wide", "x.csv", []byte(wide.String()), Options{}, "columns"},
		{"long row", "x.csv", []byte(long), Options{}, "longer than"},
		{"long json line", "x.jsonl", []byte(longJSON), Options{}, "longer than"},
		{"no json object", "x.jsonl", []byte("[1]\n2\n"), Options{}, "not JSON Lines"},
		{"unknown encoding", "x.csv", []byte("a\n"), Options{Encoding: "ebcdic"}, "unknown encoding"},
		{"quote delimiter", "x.csv", []byte("a\n"), Options{Delimiter: '"'}, "cannot delimit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, err := Open(bytes.NewReader(c.data), int64(len(c.data)), c.file, c.o)
			if err == nil {
				_, err = func() ([]Row, error) {
					for {
						if _, err := tb.Next(); err != nil {
							var re *Error
							if errors.As(err, &re) {
								continue
							}
							if err == io.EOF {
								return nil, nil
							}
							return nil, err
						}
					}
				}()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestZipBomb builds a workbook whose sheet packs 8 MiB of the same
// cell into a few KiB: with a 4 MiB limit it is refused before unpacking.
func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("<c><v>1</v></c>"), 8<<20/15)); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb packs to %d bytes", buf.Len())
	}
	_, err = Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "bomb.xlsx", Options{MaxUnpacked: 4 << 20})
	if err == nil || !strings.Contains(err.Error(), "unpacks to more than") {
		t.Fatalf("err %v", err)
	}
}

// workbook writes rows to a one-sheet XLSX file.
func workbook(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSX(t *testing.T) {
	data := workbook(t, [][]any{
		{"Name", "Amount", "", "Name"},
		{"Ann", 12.5, nil, "dup"},
		{},
		{"Bo <b>", 3, nil, nil, nil},
		{"Cy", nil, nil, nil, "beyond"},
	})
	tb := open(t, data, "", Options{})
	if tb.Format() != XLSX {
		t.Errorf("format %s", tb.Format())
	}
	if want := []string{"Name", "Amount", "column 3", "Name (2)"}; !reflect.DeepEqual(tb.Header(), want) {
		t.Fatalf("header %q, want %q", tb.Header(), want)
	}
	rows, errs := all(t, tb)
	want := []Row{
		{Num: 2, Cells: []string{"Ann", "12.5", "", "dup"}},
		{Num: 4, Cells: []string{"Bo <b>", "3", "", ""}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %+v, want %+v", rows, want)
	}
	if len(errs) != 1 || errs[0].Row != 5 || errs[0].Reason != "extra_cells" {
		t.Errorf("errors %v, want row 5's extra cell", errs)
	}
}

func TestJSONL(t *testing.T) {
	data := "\xef\xbb\xbf{\"id\": 1, \"name\": \"Ann\", \"tags\": [\"a\", \"b\"]}\n" + // line 1
		"\n" + // line 2, blank
		"{\"id\": 2.50, \"email\": \"bo@example.com\", \"name\": null, \"vip\": true}\r\n" + // line 3: a new key
		"[1, 2]\n" + // line 4: not an object
		"{\"id\": 3, \"name\": \"Cy\"\n" + // line 5: cut short
		"{\"name\": \"Dee\", \"nested\": {\"x\": 1}}" // line 6, no final newline
	tb := open(t, []byte(data), "people.jsonl", Options{})
	wantHdr := []string{"id", "name", "tags", "email", "vip", "nested"}
	if !reflect.DeepEqual(tb.Header(), wantHdr) {
		t.Fatalf("header %q, want %q", tb.Header(), wantHdr)
	}
	rows, errs := all(t, tb)
	want := []Row{
		{Num: 1, Cells: []string{"1", "Ann", `["a","b"]`, "", "", ""}},
		{Num: 3, Cells: []string{"2.50", "", "", "bo@example.com", "true", ""}},
		{Num: 6, Cells: []string{"", "Dee", "", "", "", `{"x":1}`}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n got %+v\nwant %+v", rows, want)
	}
	if len(errs) != 2 || errs[0].Row != 4 || errs[0].Reason != "not_an_object" || errs[1].Row != 5 || errs[1].Reason != "invalid_json" {
		t.Errorf("errors %+v", errs)
	}
	// Detected without a name, from the first character.
	if tb := open(t, []byte(data), "", Options{}); tb.Format() != JSONL {
		t.Errorf("format %s", tb.Format())
	}
}

func TestDetectDelimiter(t *testing.T) {
	cases := []struct {
		text string
		want rune
	}{
		{"a,b,c\n1,2,3\n", ','},
		{"a;b;c\n1,5;2,5;3\n", ';'}, // decimal commas
		{"a\tb\n\"x,y,z\"\t2\n", '\t'},
		{"a|b\n1|2\n", '|'},
		{"single\n1\n", ','},
	}
	for _, c := range cases {
		if got := detectDelimiter([]byte(c.text)); got != c.want {
			t.Errorf("%q: %q, want %q", c.text, got, c.want)
		}
	}
}

// FuzzOpen reads any bytes as every format: no panic, and every row has
// as many cells as the header.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"), "x.csv")
	f.Add([]byte("{\"a\":1}\n{\"b\":[1]}\n"), "x.jsonl")
	f.Add(utf16le("a;b\r\n1;\"2\n3\"\r\n", true), "")
	f.Add([]byte("a,b\n\"1,2\n"), "x.csv")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		for _, format := range []Format{"", CSV, JSONL, XLSX} {
			tb, err := Open(bytes.NewReader(data), int64(len(data)), name, Options{Format: format, MaxRowBytes: 1 << 16, MaxUnpacked: 1 << 20})
			if err != nil {
				continue
			}
			for i := 0; i < 10_000; i++ {
				r, err := tb.Next()
				if err == io.EOF {
					break
				}
				var re *Error
				if errors.As(err, &re) {
					continue
				}
				if err != nil {
					break
				}
				if len(r.Cells) != len(tb.Header()) {
					t.Fatalf("%s: row %d has %d cells, header %d", format, r.Num, len(r.Cells), len(tb.Header()))
				}
			}
		}
	})
}
