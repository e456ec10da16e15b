package extension

import (
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
