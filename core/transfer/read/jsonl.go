package read

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

type jsonlTable struct {
	lines *lineReader
	hdr   []string
	index map[string]int
}

// lineReader reads lines of at most max bytes.
type lineReader struct {
	r   *bufio.Reader
	num int
	max int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line, without its end, and its number.
func (l *lineReader) next() ([]byte, int, error) {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > l.max {
			return nil, l.num + 1, fmt.Errorf("line %d is longer than %d bytes", l.num+1, l.max)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			err = nil
		}
		if err != nil {
			return nil, l.num, err
		}
		l.num++
		return bytes.TrimRight(line, "\r\n"), l.num, nil
	}
}

// object reads a line as a JSON object: its keys in order and their
// values as text.
func object(line []byte, visit func(key, value string) error) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return &Error{Reason: "invalid_json", Message: "the line is not JSON: " + err.Error()}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &Error{Reason: "not_an_object", Message: "the line is not a JSON object"}
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return &Error{Reason: "invalid_json", Message: err.Error()}
		}
		key, _ := k.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return &Error{Column: key, Reason: "invalid_json", Message: err.Error()}
		}
		if err := visit(key, text(raw)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return &Error{Reason: "invalid_json", Message: err.Error()}
	}
	if dec.More() {
		return &Error{Reason: "invalid_json", Message: "the line holds more than one JSON value"}
	}
	return nil
}

// text is a JSON value as a cell: a string's text, "" for null, any other
// value as its JSON.
func text(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0, string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case raw[0] == '{' || raw[0] == '[':
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			return b.String()
		}
	}
	return string(raw)
}

func openJSONL(r io.ReaderAt, size int64, head []byte, o Options) (Table, error) {
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, errors.New("the file is binary, not JSON Lines text")
	}
	// A first pass collects the keys, in the order they first appear.
	t := &jsonlTable{index: map[string]int{}}
	lines := newLineReader(io.NewSectionReader(r, 0, size), o.MaxRowBytes)
	good := 0
	for {
		line, _, err := lines.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		err = object(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")), func(key, _ string) error {
			if _, ok := t.index[key]; !ok {
				if len(t.hdr) == o.MaxColumns {
					return fmt.Errorf("the file's objects have more than %d keys", o.MaxColumns)
				}
				t.index[key] = len(t.hdr)
				t.hdr = append(t.hdr, key)
			}
			return nil
		})
		var rowErr *Error
		if err != nil && !errors.As(err, &rowErr) {
			return nil, err
		}
		if err == nil {
			good++
		}
	}
	if good == 0 {
		return nil, errors.New("the file has no JSON object on any line: it is not JSON Lines")
	}
	t.lines = newLineReader(io.NewSectionReader(r, 0, size), o.MaxRowBytes)
	return t, nil
}

func (t *jsonlTable) Format() Format   { return JSONL }
func (t *jsonlTable) Header() []string { return t.hdr }

func (t *jsonlTable) Next() (Row, error) {
	for {
		line, num, err := t.lines.next()
		if err != nil {
			return Row{}, err
		}
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		row := Row{Num: num, Cells: make([]string, len(t.hdr))}
		if !utf8.Valid(line) {
			return Row{Num: num}, &Error{Row: num, Reason: "invalid_utf8", Message: "the line is not valid UTF-8"}
		}
		err = object(line, func(key, value string) error {
			if i, ok := t.index[key]; ok {
				row.Cells[i] = value
			}
			return nil
		})
		if err != nil {
			var rowErr *Error
			if errors.As(err, &rowErr) {
				rowErr.Row = num
				return Row{Num: num}, rowErr
			}
			return Row{Num: num}, err
		}
		return row, nil
	}
}
