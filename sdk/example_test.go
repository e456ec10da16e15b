package sdk_test

import (
	"fmt"
	"math"

	"github.com/rapportcrm/rapport/sdk"
)

// A scorer reads the columns its manifest asked for and answers one value
// per subject, with an optional label and an explanation by factor.
func ExamplePlugin() {
	score := func(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
		b := &req.Batch
		amount, source := b.Numbers("amount"), b.Texts("source")
		resp := sdk.NewScoreResponse(b.Count, "amount", "referral")
		for i := 0; i < b.Count; i++ {
			a := 0.0
			if !math.IsNaN(amount[i]) {
				a = math.Min(amount[i]/1000, 1) * 60
			}
			r := 0.0
			if source[i] == "referral" {
				r = 40
			}
			resp.SetContribution(i, 0, a)
			resp.SetContribution(i, 1, r)
			resp.Values[i] = a + r
			if resp.Values[i] >= 50 {
				resp.SetLabel(i, "hot")
			} else {
				resp.SetLabel(i, "cold")
			}
		}
		return resp, nil
	}
	plugin := sdk.Plugin{Score: score}

	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: 3, Columns: []sdk.Column{
		{Name: "amount", Numbers: []float64{500, math.NaN(), 2000}},
		{Name: "source", Codes: []uint32{1, 0, sdk.Missing}, Dictionary: []string{"web", "referral"}},
	}}}
	resp, _ := plugin.Score(nil, req)
	for i := range resp.Values {
		fmt.Printf("%g %s (amount %g, referral %g)\n", resp.Values[i], resp.Label(i), resp.Contribution(i, 0), resp.Contribution(i, 1))
	}
	// Output:
	// 70 hot (amount 30, referral 40)
	// 0 cold (amount 0, referral 0)
	// 60 hot (amount 60, referral 0)
}

// Texts resolves a categorical column's codes; a missing value, or a
// column the batch does not have, reads as "".
func ExampleBatch_Texts() {
	b := sdk.Batch{SubjectType: "contact", Count: 3, Columns: []sdk.Column{
		{Name: "segment", Codes: []uint32{1, sdk.Missing, 0}, Dictionary: []string{"maintain", "most_valuable"}},
	}}
	fmt.Printf("%q %q\n", b.Texts("segment"), b.Texts("no_such_column"))
	// Output: ["most_valuable" "" "maintain"] ["" "" ""]
}

// Numbers gives a numeric column, or NaN (missing) for every subject when
// the batch has no such column.
func ExampleBatch_Numbers() {
	b := sdk.Batch{SubjectType: "deal", Count: 2, Columns: []sdk.Column{{Name: "amount", Numbers: []float64{1200, math.NaN()}}}}
	fmt.Println(b.Numbers("amount"), b.Numbers("probability"))
	// Output: [1200 NaN] [NaN NaN]
}

// A segmenter assigns each subject to any number of segments, each with an
// optional weight; Response packs them for the wire.
func ExampleSegments() {
	s := sdk.NewSegments(3)
	s.Assign(0, "champions", 1)
	s.Assign(0, "newsletter", 0.5)
	s.Assign(2, "at_risk", 1)
	resp := s.Response()
	for i := 0; i < 3; i++ {
		fmt.Println(i, resp.Of(i))
	}
	// Output:
	// 0 [champions newsletter]
	// 1 []
	// 2 [at_risk]
}
