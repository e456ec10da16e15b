package privacy

import (
	"fmt"
	"strings"
	"testing"
)

// TestScrubberManyValues scrubs with more values than one regular
// expression holds, longest first and ignoring case.
func TestScrubberManyValues(t *testing.T) {
	var vals []string
	for i := 0; i < 2000; i++ {
		vals = append(vals, fmt.Sprintf("value %04d %s", i, strings.Repeat("x", 200)))
	}
	vals = append(vals, "Ada Lovelace", "Ada", strings.Repeat("y", maxScrub+1), "ab", "erased")
	s := newScrubber(vals)
	if len(s.res) < 2 {
		t.Fatalf("%d expressions", len(s.res))
	}
	for in, want := range map[string]string{
		"call ADA LOVELACE re " + vals[1999]: "call Erased re Erased",
		"ada wrote; ab stays":                "Erased wrote; ab stays",
		strings.Repeat("y", maxScrub+1):      strings.Repeat("y", maxScrub+1),
	} {
		if got := s.str(in); got != want {
			t.Errorf("%.40q: got %.60q", in, got)
		}
	}
	if got := newScrubber(nil).str("Ada"); got != "Ada" {
		t.Errorf("empty scrubber: %q", got)
	}
}
