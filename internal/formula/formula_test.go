package formula

import "testing"

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"plain":           "plain",
		`=HYPERLINK("x")`: `'=HYPERLINK("x")`,
		"+1 555":          "'+1 555",
		"-":               "'-",
		"-5":              "-5",
		"-1.5e3":          "-1.5e3",
		"+5":              "'+5",
		"@sum":            "'@sum",
		"\tx":             "'\tx",
		"\rx":             "'\rx",
		"a=b":             "a=b",
		"'already quoted": "'already quoted",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
