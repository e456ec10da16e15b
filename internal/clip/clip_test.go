package clip

import (
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	cases := []struct {
		s    string
		n    int
		mark string
		want string
	}{
		{"short", 10, "...", "short"},
		{"exactly10!", 10, "...", "exactly10!"},
		{"eleven char", 10, "...", "eleven ..."},
		{"abcdef", 4, "", "abcd"},
		// "é" is 2 bytes at 3-4: a cut at 4 would split it.
		{"abcé", 4, "", "abc"},
		{"abcéfg", 6, "...", "abc..."},
		{"ééé", 5, "…", "é…"}, // "…" is 3 bytes
		{"€€", 2, "", ""},
	}
	for _, c := range cases {
		got := String(c.s, c.n, c.mark)
		if got != c.want || len(got) > c.n || !utf8.ValidString(got) {
			t.Errorf("String(%q, %d, %q) = %q, want %q", c.s, c.n, c.mark, got, c.want)
		}
	}
}
