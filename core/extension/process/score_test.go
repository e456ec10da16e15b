package process

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rapportcrm/rapport/sdk"
)

// TestValid: valid accepts exactly the answers Validate accepts, among
// answers with every kind of flaw Validate looks for, anywhere.
func TestValid(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	odd := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Float64frombits(0x7ff0_0000_0000_0001), math.Float64frombits(0xfff8_0000_0000_0000),
		math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 0, math.Copysign(0, -1), 1e308, -1e-308}
	for i := range 20000 {
		n := r.IntN(13)
		factors := []string{"a", "b", "c"}[:r.IntN(4)]
		resp := sdk.NewScoreResponse(n, factors...)
		for j := range resp.Values {
			resp.Values[j] = r.NormFloat64() * 100
		}
		for j := range resp.Contributions {
			resp.Contributions[j] = r.NormFloat64()
		}
		if r.IntN(2) == 0 {
			for j := range n {
				resp.SetLabel(j, []string{"hot", "warm", "cold"}[r.IntN(3)])
			}
		}
		switch r.IntN(8) {
		case 0:
			if len(resp.Values) > 0 {
				resp.Values[r.IntN(len(resp.Values))] = odd[r.IntN(len(odd))]
			}
		case 1:
			if len(resp.Contributions) > 0 {
				resp.Contributions[r.IntN(len(resp.Contributions))] = odd[r.IntN(len(odd))]
			}
		case 2:
			resp.Values = resp.Values[:r.IntN(len(resp.Values)+1)]
		case 3:
			resp.Contributions = append(resp.Contributions, 1)
		case 4:
			if len(resp.LabelCodes) > 0 {
				resp.LabelCodes[r.IntN(len(resp.LabelCodes))] = uint32(r.IntN(5))
			}
		case 5:
			if resp.LabelCodes != nil && n > 0 {
				resp.LabelCodes = resp.LabelCodes[:n-1]
			}
		case 6:
			resp.FactorNames = append(resp.FactorNames, "extra")
		}
		want := resp.Validate(n) == nil
		if got := valid(resp, n); got != want {
			t.Fatalf("case %d: valid says %v, Validate %v (%v) for %+v", i, got, want, resp.Validate(n), resp)
		}
	}
}

// BenchmarkValidate compares valid with Validate on the answer to a batch
// of 1,000 leads with 8 factors.
func BenchmarkValidate(b *testing.B) {
	r := sdk.NewScoreResponse(1000, "a", "b", "c", "d", "e", "f", "g", "h")
	for i := range r.Contributions {
		r.Contributions[i] = float64(i)
	}
	b.Run("Validate", func(b *testing.B) {
		for b.Loop() {
			if r.Validate(1000) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("valid", func(b *testing.B) {
		for b.Loop() {
			if !valid(r, 1000) {
				b.Fatal("refused")
			}
		}
	})
}
