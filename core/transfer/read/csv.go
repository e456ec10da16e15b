package read

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// The encodings CSV files are read in.
const (
	UTF8        = "utf-8"
	UTF16LE     = "utf-16le"
	UTF16BE     = "utf-16be"
	Windows1252 = "windows-1252"
)

// maxBadRows is how many unreadable rows in a row, with no good one
// between, end a CSV read: the file is not CSV.
const maxBadRows = 1000

type csvTable struct {
	r        *csv.Reader
	lim      *limiter
	hdr      []string
	num      int
	end      int // the file line the last record ended on
	checkUTF bool
	bad      int
	maxRow   int
}

// detectEncoding tells a CSV file's encoding from its first bytes.
func detectEncoding(head []byte) (string, error) {
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		return UTF8, nil
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		return UTF16LE, nil
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		return UTF16BE, nil
	}
	if bytes.IndexByte(head, 0) >= 0 {
		// Text in UTF-16 without a mark has a NUL in every other byte of
		// its ASCII characters; any other NUL means binary.
		even, odd := 0, 0
		for i, b := range head {
			if b == 0 {
				if i%2 == 0 {
					even++
				} else {
					odd++
				}
			}
		}
		half := len(head) / 2
		switch {
		case odd > half*3/4 && even == 0:
			return UTF16LE, nil
		case even > half*3/4 && odd == 0:
			return UTF16BE, nil
		}
		return "", errors.New("the file is binary, not CSV text")
	}
	// A sample may end inside a character: up to 3 bytes are let off.
	for cut := 0; cut <= 3 && cut <= len(head); cut++ {
		if utf8.Valid(head[:len(head)-cut]) {
			return UTF8, nil
		}
	}
	return Windows1252, nil
}

func decoderOf(name string) (encoding.Encoding, error) {
	switch strings.ToLower(strings.ReplaceAll(name, "_", "-")) {
	case UTF8, "utf8":
		return unicode.UTF8BOM, nil
	case UTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), nil
	case UTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM), nil
	case Windows1252, "cp1252":
		return charmap.Windows1252, nil
	}
	return nil, fmt.Errorf("unknown encoding %q: want utf-8, utf-16le, utf-16be or windows-1252", name)
}

// detectDelimiter picks the delimiter of , ; tab | that splits the first
// lines of text most evenly: the same count on each line, and most cells.
func detectDelimiter(text []byte) rune {
	lines := splitLines(text, 20)
	best, bestScore := ',', 0
	for _, d := range []rune{',', ';', '\t', '|'} {
		counts := make([]int, 0, len(lines))
		for _, l := range lines {
			counts = append(counts, countOutsideQuotes(l, byte(d)))
		}
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		score := counts[0] * 2
		for _, c := range counts[1:] {
			if c == counts[0] {
				score += 2
			} else if c > 0 {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return best
}

// splitLines returns up to n whole lines of text, quotes respected.
func splitLines(text []byte, n int) [][]byte {
	var out [][]byte
	start, quoted := 0, false
	for i, b := range text {
		switch {
		case b == '"':
			quoted = !quoted
		case b == '\n' && !quoted:
			out = append(out, bytes.TrimRight(text[start:i], "\r"))
			start = i + 1
			if len(out) == n {
				return out
			}
		}
	}
	return out
}

func countOutsideQuotes(line []byte, d byte) int {
	n, quoted := 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case b == d && !quoted:
			n++
		}
	}
	return n
}

func openCSV(r io.ReaderAt, size int64, head []byte, o Options) (Table, error) {
	name := o.Encoding
	if name == "" {
		var err error
		if name, err = detectEncoding(head); err != nil {
			return nil, err
		}
	}
	enc, err := decoderOf(name)
	if err != nil {
		return nil, err
	}
	// The sample, decoded, tells the delimiter.
	sample, _, err := transform.Bytes(enc.NewDecoder(), head)
	if err != nil && len(sample) == 0 {
		return nil, fmt.Errorf("decoding the file as %s: %w", name, err)
	}
	d := o.Delimiter
	if d == 0 {
		d = detectDelimiter(sample)
	}
	if d == '"' || d == '\r' || d == '\n' || !utf8.ValidRune(d) || d == utf8.RuneError {
		return nil, fmt.Errorf("%q cannot delimit CSV cells", d)
	}
	var src io.Reader = io.NewSectionReader(r, 0, size)
	if name == UTF8 || name == "utf8" {
		// UTF-8 is read as it is, so that invalid bytes are reported
		// rather than replaced; only a byte-order mark is skipped.
		skip := int64(0)
		if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
			skip = 3
		}
		src = io.NewSectionReader(r, skip, size-skip)
	} else {
		src = transform.NewReader(src, enc.NewDecoder())
	}
	lim := &limiter{r: src, max: o.MaxRowBytes + 64<<10}
	cr := csv.NewReader(lim)
	cr.Comma = d
	cr.FieldsPerRecord = -1
	t := &csvTable{r: cr, lim: lim, checkUTF: name != Windows1252, maxRow: o.MaxRowBytes}
	cells, err := t.read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: it has no header row")
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header row: %w", err)
	}
	if t.hdr, err = header(cells, o.MaxColumns); err != nil {
		return nil, err
	}
	t.num = 1
	t.end = t.endLine(cells)
	return t, nil
}

// read reads one record within the row limit.
func (t *csvTable) read() ([]string, error) {
	t.lim.n = 0
	cells, err := t.r.Read()
	if t.lim.over {
		return nil, fmt.Errorf("row %d is longer than %d bytes", t.num+1, t.maxRow)
	}
	return cells, err
}

func (t *csvTable) Format() Format   { return CSV }
func (t *csvTable) Header() []string { return t.hdr }

func (t *csvTable) Next() (Row, error) {
	for {
		cells, err := t.read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		// A blank line is a row to a spreadsheet, though not a record.
		var pe *csv.ParseError
		start := t.end + 1
		switch {
		case errors.As(err, &pe):
			start = pe.StartLine
		case err == nil:
			start, _ = t.r.FieldPos(0)
		}
		t.num += 1 + max(0, start-t.end-1)
		row := Row{Num: t.num}
		if pe != nil {
			t.end = pe.Line
			t.bad++
			if t.bad > maxBadRows {
				return row, fmt.Errorf("%d rows in a row could not be read as CSV: the file is not CSV, or not with delimiter %q", maxBadRows, t.r.Comma)
			}
			return row, &Error{Row: t.num, Reason: "bad_quote", Message: fmt.Sprintf("%v (line %d, byte %d of the line)", pe.Err, pe.Line, pe.Column)}
		}
		if err != nil {
			return row, err
		}
		t.end = t.endLine(cells)
		t.bad = 0
		if len(cells) > len(t.hdr) {
			extra := false
			for _, c := range cells[len(t.hdr):] {
				extra = extra || strings.TrimSpace(c) != ""
			}
			if extra {
				return row, &Error{Row: t.num, Reason: "extra_cells", Message: fmt.Sprintf("the row has %d cells, the header %d", len(cells), len(t.hdr))}
			}
			cells = cells[:len(t.hdr)]
		}
		for len(cells) < len(t.hdr) {
			cells = append(cells, "")
		}
		if t.checkUTF {
			for i, c := range cells {
				if !utf8.ValidString(c) {
					return row, &Error{Row: t.num, Column: t.hdr[i], Reason: "invalid_utf8", Message: "the cell is not valid UTF-8 (give the file's encoding)"}
				}
			}
		}
		row.Cells = cells
		return row, nil
	}
}

// endLine is the file line the record just read ends on.
func (t *csvTable) endLine(cells []string) int {
	if len(cells) == 0 {
		return t.end
	}
	line, _ := t.r.FieldPos(len(cells) - 1)
	return line + strings.Count(cells[len(cells)-1], "\n")
}

// limiter ends a read once more than max bytes were read since n was
// last reset, which bounds the memory one row takes.
type limiter struct {
	r    io.Reader
	n    int
	max  int
	over bool
}

func (l *limiter) Read(p []byte) (int, error) {
	if l.n > l.max {
		l.over = true
		return 0, io.ErrUnexpectedEOF
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}
