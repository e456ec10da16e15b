package extension

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/rapportcrm/rapport/core/pulid"
)

func TestRanks(t *testing.T) {
	// 20 and 20 share ranks 2 and 3: 2.5 each.
	if got, want := ranks([]float64{30, 20, 10, 20}), []float64{4, 2.5, 1, 2.5}; !reflect.DeepEqual(got, want) {
		t.Errorf("ranks %v, want %v", got, want)
	}
}

// TestCompare works the statistics on small cases by hand.
func TestCompare(t *testing.T) {
	ids := make([]pulid.ID, 20)
	for i := range ids {
		ids[i] = pulid.ID(string(rune('a'+i)) + "_")
	}
	base := make([]float64, 20)
	for i := range base {
		base[i] = float64(i)
	}
	same, reversed, shifted := make([]float64, 20), make([]float64, 20), make([]float64, 20)
	for i := range base {
		same[i], reversed[i], shifted[i] = 2*base[i]+1, -base[i], base[i]+3
	}
	labels := func(change ...int) []string {
		l := make([]string, 20)
		for i := range l {
			l[i] = "cold"
		}
		for _, i := range change {
			l[i] = "hot"
		}
		return l
	}
	// A monotone transform keeps every rank: ρ = 1. k = 20/10 = 2: both
	// tops are {19, 18}. Shift: mean of (2i + 1 − i) = mean(i) + 1 = 10.5.
	c := compare("b", "c", "lead", ids, [2][]float64{base, same}, [2][]string{labels(), labels(3, 7)})
	if c.RankCorrelation == nil || math.Abs(*c.RankCorrelation-1) > 1e-12 || c.TopK != 2 || c.TopKOverlap != 1 || math.Abs(c.MeanShift-10.5) > 1e-12 {
		t.Errorf("monotone: %+v", c)
	}
	if c.LabelChangeCount != 2 || c.LabelChanges[0].SubjectID != ids[3] || c.LabelChanges[1].Candidate != "hot" {
		t.Errorf("label changes %+v", c.LabelChanges)
	}
	// Reversed: ρ = −1, the candidate's top two are 0 and 1: no overlap;
	// shift mean(−2i) = −19.
	c = compare("b", "c", "lead", ids, [2][]float64{base, reversed}, [2][]string{labels(), labels()})
	if math.Abs(*c.RankCorrelation+1) > 1e-12 || c.TopKOverlap != 0 || math.Abs(c.MeanShift+19) > 1e-12 {
		t.Errorf("reversed: %+v", c)
	}
	// A constant candidate has no rank correlation.
	flat := make([]float64, 20)
	if c = compare("b", "c", "lead", ids, [2][]float64{base, flat}, [2][]string{labels(), labels()}); c.RankCorrelation != nil {
		t.Errorf("constant: ρ %v", *c.RankCorrelation)
	}
	// Spearman on ties by hand: x = 1 2 3 4, y = 10 20 20 30: ranks y =
	// 1 2.5 2.5 4; deviations x −1.5 −0.5 0.5 1.5, y −1.5 0 0 1.5;
	// cov = 2.25 + 2.25 = 4.5; var x = 5, var y = 4.5: ρ = 4.5/√22.5.
	rho := spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 20, 30})
	if want := 4.5 / math.Sqrt(22.5); math.Abs(*rho-want) > 1e-12 {
		t.Errorf("ρ with ties %v, want %v", *rho, want)
	}
	_ = shifted
}

// TestCompareSegments works a segment comparison by hand. The baseline
// sorts six subjects into big or small, both known (like the test
// guest); the candidate renames big to large, lowers its threshold (s3
// moves from small to large), adds vip, and declares huge without
// assigning it:
//
//	subject  baseline     candidate
//	s1       big known    known large
//	s2       big known    known large vip
//	s3       known small  known large
//	s4       known small  known small
//	s5       known small  known small
//	s6       (none)       (none)
//
// Keys: the baseline's big, known, small (big also declared); the
// candidate's known, large, small, vip and the declared huge. Shared:
// known, small; baseline only: big; candidate only: huge, large, vip.
// Sizes (baseline/candidate): big 2/0, huge 0/0, known 5/5, large 0/3,
// small 3/2, vip 0/1.
//
// Key sets differ for s1, s2, s3: 3/6 = 0.5 changed. On the shared keys
// {known, small}: s1 {known} vs {known}, s2 the same, s3 {known, small}
// vs {known}: only s3 changed, 1/6.
//
// Cells: known+small→known+small 2 (s4, s5), then the ones in label
// order: big+known→known+large (s1), big+known→known+large+vip (s2),
// known+small→known+large (s3), (none)→(none) (s6). Rows: big+known,
// known+small, (none); columns: known+large, known+large+vip,
// known+small, (none).
func TestCompareSegments(t *testing.T) {
	set := func(keys ...string) []string { return segmentKeys(keys) }
	base := [][]string{set("known", "big"), set("big", "known"), set("small", "known"), set("known", "small"), set("small", "known", "small"), set()}
	cand := [][]string{set("large", "known"), set("vip", "known", "large"), set("known", "large"), set("known", "small"), set("small", "known"), nil}
	c := compareSegments([2][][]string{base, cand}, [2][]string{{"big"}, {"vip", "huge", "large"}})
	if want := []SegmentSize{{"big", 2, 0}, {"huge", 0, 0}, {"known", 5, 5}, {"large", 0, 3}, {"small", 3, 2}, {"vip", 0, 1}}; !reflect.DeepEqual(c.Sizes, want) {
		t.Errorf("sizes %v, want %v", c.Sizes, want)
	}
	if !reflect.DeepEqual(c.BaselineOnly, []string{"big"}) || !reflect.DeepEqual(c.CandidateOnly, []string{"huge", "large", "vip"}) ||
		!reflect.DeepEqual(c.Shared, []string{"known", "small"}) {
		t.Errorf("keys: baseline only %v, candidate only %v, shared %v", c.BaselineOnly, c.CandidateOnly, c.Shared)
	}
	if c.ChangedShare != 0.5 || math.Abs(c.SharedChangedShare-1.0/6) > 1e-15 {
		t.Errorf("changed %v, shared changed %v; want 0.5 and 1/6", c.ChangedShare, c.SharedChangedShare)
	}
	wantCells := []ConfusionCell{{"known+small", "known+small", 2}, {"big+known", "known+large", 1}, {"big+known", "known+large+vip", 1},
		{"known+small", "known+large", 1}, {"(none)", "(none)", 1}}
	if !reflect.DeepEqual(c.Confusion, wantCells) || c.ConfusionCellCount != 5 {
		t.Errorf("confusion %v (%d cells), want %v", c.Confusion, c.ConfusionCellCount, wantCells)
	}
	if !reflect.DeepEqual(c.BaselineLabels, []string{"big+known", "known+small", "(none)"}) ||
		!reflect.DeepEqual(c.CandidateLabels, []string{"known+large", "known+large+vip", "known+small", "(none)"}) {
		t.Errorf("rows %v, columns %v", c.BaselineLabels, c.CandidateLabels)
	}

	// The same plugin on both sides: nothing changed, a diagonal matrix.
	c = compareSegments([2][][]string{base, base}, [2][]string{{"big"}, {"big"}})
	if c.ChangedShare != 0 || c.SharedChangedShare != 0 || len(c.BaselineOnly)+len(c.CandidateOnly) != 0 || len(c.Shared) != 3 ||
		!reflect.DeepEqual(c.Confusion, []ConfusionCell{{"known+small", "known+small", 3}, {"big+known", "big+known", 2}, {"(none)", "(none)", 1}}) {
		t.Errorf("self: %+v", c)
	}
	// Pure renaming: every key set changes, none of the shared ones (there
	// are none).
	c = compareSegments([2][][]string{{set("a"), set("b")}, {set("x"), set("y")}}, [2][]string{})
	if c.ChangedShare != 1 || c.SharedChangedShare != 0 || len(c.Shared) != 0 {
		t.Errorf("renamed: %+v", c)
	}
	// No subjects: empty lists, not nil (JSON [] rather than null).
	c = compareSegments([2][][]string{}, [2][]string{})
	if c.ChangedShare != 0 || c.Sizes == nil || c.Confusion == nil || c.BaselineLabels == nil || c.Shared == nil {
		t.Errorf("empty: %+v", c)
	}
	// 600 subjects each in its own baseline segment and none of the
	// candidate's: 600 cells of 1, the first 500 (by label) kept.
	many := make([][]string, 600)
	for i := range many {
		many[i] = set(fmt.Sprintf("k%03d", i))
	}
	c = compareSegments([2][][]string{many, make([][]string, 600)}, [2][]string{})
	if c.ConfusionCellCount != 600 || len(c.Confusion) != 500 || c.Confusion[499].Baseline != "k499" || len(c.BaselineLabels) != 500 ||
		!reflect.DeepEqual(c.CandidateLabels, []string{"(none)"}) || c.ChangedShare != 1 {
		t.Errorf("many: %d cells, %d kept, last %v, columns %v", c.ConfusionCellCount, len(c.Confusion), c.Confusion[499], c.CandidateLabels)
	}
}

func TestSegmentLabel(t *testing.T) {
	if got := segmentKeys([]string{"small", "known", "small"}); !reflect.DeepEqual(got, []string{"known", "small"}) {
		t.Errorf("keys %v", got)
	}
	if got := segmentLabel(segmentKeys([]string{"small", "known"})); got != "known+small" {
		t.Errorf("label %q", got)
	}
	if got := segmentLabel(nil); got != "(none)" {
		t.Errorf("empty label %q", got)
	}
}
