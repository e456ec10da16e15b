// Package formula guards text written to spreadsheets (CSV, XLSX) against
// formula injection: a spreadsheet evaluates a cell starting with =, +, -
// or @ as a formula, so text that could be read as one is made inert.
package formula

import "encoding/json"

// Escape escapes a text cell against formula injection: a cell that
// starts with =, +, -, @, a tab or a carriage return, and is not a plain
// number, is prefixed with a single quote, so that a spreadsheet shows it
// as text instead of evaluating it. Other text is returned unchanged.
func Escape(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if IsNumber(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// IsNumber says whether s is a number as JSON writes it: an optional
// minus, no leading zeros, an optional fraction and exponent.
func IsNumber(s string) bool {
	if s == "" || !json.Valid([]byte(s)) {
		return false
	}
	c := s[0]
	return c == '-' || (c >= '0' && c <= '9')
}
