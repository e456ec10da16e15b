package pulid

import (
	"errors"
	"strings"
	"testing"
)

func TestNewParsesBack(t *testing.T) {
	seen := map[ID]bool{}
	for i := 0; i < 1000; i++ {
		id := New("con")
		if id.Prefix() != "con" {
			t.Fatalf("prefix of %s = %q", id, id.Prefix())
		}
		if _, err := Parse(string(id)); err != nil {
			t.Fatalf("Parse(New()) = %v", err)
		}
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestNewSortsByTime(t *testing.T) {
	a := New("org")
	// ULIDs share a millisecond prefix; a later millisecond sorts later.
	for b := New("org"); ; b = New("org") {
		if b[:14] != a[:14] {
			if b < a {
				t.Fatalf("%s sorts before earlier %s", b, a)
			}
			return
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"", "con", "con_", "_01jd8z2x9t3v4w5y6z7a8b9c0d", "c_01jd8z2x9t3v4w5y6z7a8b9c0d",
		"CON_01jd8z2x9t3v4w5y6z7a8b9c0d", "con_01jd8z2x9t3v4w5y6z7a8b9c0", "con_01jd8z2x9t3v4w5y6z7a8b9c0dd",
		"con-01jd8z2x9t3v4w5y6z7a8b9c0d", "con_01jd8z2x9t3v4w5y6z7a8b9c0!", "toolongprefix_01jd8z2x9t3v4w5y6z7a8b9c0d",
		"con_81jd8z2x9t3v4w5y6z7a8b9c0d", // first ULID character above 7 overflows 128 bits
	} {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", s, err)
		}
	}
}

func TestGQLRoundTrip(t *testing.T) {
	id := New("del")
	var b strings.Builder
	id.MarshalGQL(&b)
	if b.String() != `"`+string(id)+`"` {
		t.Errorf("MarshalGQL = %s", b.String())
	}
	var got ID
	if err := got.UnmarshalGQL(string(id)); err != nil || got != id {
		t.Errorf("UnmarshalGQL = %v, %v", got, err)
	}
	if err := got.UnmarshalGQL(42); !errors.Is(err, ErrMalformed) {
		t.Errorf("UnmarshalGQL(42) = %v", err)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts
// round-trips and has a prefix.
func FuzzParse(f *testing.F) {
	f.Add("con_01jd8z2x9t3v4w5y6z7a8b9c0d")
	f.Add("")
	f.Add("a_b")
	f.Add(string(New("org")))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		if string(id) != s || id.Prefix() == "" {
			t.Fatalf("Parse(%q) = %q", s, id)
		}
	})
}
