// Package clip shortens text to fit a column of at most n bytes without
// cutting a UTF-8 character in two (PostgreSQL refuses such text).
package clip

import "unicode/utf8"

// String returns s when it fits in n bytes, else its longest prefix that
// fits in n bytes together with mark, followed by mark.
func String(s string, n int, mark string) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
