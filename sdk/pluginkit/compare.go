package pluginkit

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
)

// difference returns how b differs from a, both valid answers for n
// subjects, or "" when they agree. When reverse is set, b answers the
// reversed batch: subject i of a is subject n-1-i of b. Numbers agree when
// bit-identical (tol 0) or within tol relative to the larger magnitude (at
// least 1).
func difference(a, b *answer, n int, reverse bool, tol float64) string {
	other := func(i int) int {
		if reverse {
			return n - 1 - i
		}
		return i
	}
	same := func(x, y float64) bool {
		if tol == 0 {
			return math.Float64bits(x) == math.Float64bits(y)
		}
		return math.Abs(x-y) <= tol*max(1, math.Abs(x), math.Abs(y))
	}
	switch {
	case a.score != nil:
		x, y := a.score, b.score
		if !slices.Equal(x.FactorNames, y.FactorNames) {
			return fmt.Sprintf("factor names %q, then %q", x.FactorNames, y.FactorNames)
		}
		for i := range n {
			j := other(i)
			if !same(x.Values[i], y.Values[j]) {
				return fmt.Sprintf("subject %d: value %v, then %v", i, x.Values[i], y.Values[j])
			}
			if x.Label(i) != y.Label(j) {
				return fmt.Sprintf("subject %d: label %q, then %q", i, x.Label(i), y.Label(j))
			}
			for f := range x.FactorNames {
				if cx, cy := x.Contribution(i, f), y.Contribution(j, f); !same(cx, cy) {
					return fmt.Sprintf("subject %d: factor %q contributes %v, then %v", i, x.FactorNames[f], cx, cy)
				}
			}
		}
	case a.segment != nil:
		for i := range n {
			j := other(i)
			sx, sy := memberships(a.segment, i), memberships(b.segment, j)
			if !slices.EqualFunc(sx, sy, func(p, q membership) bool { return p.key == q.key && same(p.weight, q.weight) }) {
				return fmt.Sprintf("subject %d: segments %v, then %v", i, sx, sy)
			}
		}
	default:
		x, y := a.report, b.report
		if x.Title != y.Title {
			return fmt.Sprintf("title %q, then %q", x.Title, y.Title)
		}
		if len(x.Sections) != len(y.Sections) {
			return fmt.Sprintf("%d sections, then %d", len(x.Sections), len(y.Sections))
		}
		for i := range x.Sections {
			ex := sdk.AppendReport(nil, &sdk.Report{Sections: x.Sections[i : i+1]})
			ey := sdk.AppendReport(nil, &sdk.Report{Sections: y.Sections[i : i+1]})
			if !bytes.Equal(ex, ey) {
				return fmt.Sprintf("section %d (%q) differs", i, x.Sections[i].Key)
			}
		}
	}
	return ""
}

// membership is one segment a subject belongs to.
type membership struct {
	key    string
	weight float64
}

func (m membership) String() string {
	if m.weight == 1 {
		return m.key
	}
	return fmt.Sprintf("%s×%v", m.key, m.weight)
}

// memberships returns subject i's segments, sorted: the order of a
// subject's segments carries no meaning, nor does the order of Keys.
func memberships(r *sdk.SegmentResponse, i int) []membership {
	var out []membership
	for j := r.Offsets[i]; j < r.Offsets[i+1]; j++ {
		m := membership{key: r.Keys[r.KeyCodes[j]], weight: 1}
		if len(r.Weights) > 0 {
			m.weight = r.Weights[j]
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(p, q membership) int {
		if c := strings.Compare(p.key, q.key); c != 0 {
			return c
		}
		switch {
		case p.weight < q.weight:
			return -1
		case p.weight > q.weight:
			return 1
		}
		return 0
	})
	return out
}
