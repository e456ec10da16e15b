// Package leadscore is a small, complete lead scorer: the example to copy
// when writing a plugin. It reads ten inputs of each lead, turns each into
// a factor between 0 and 1, and scores the lead 0–100 as the weighted sum,
// explaining the score by each factor's weighted contribution.
//
//	factor           weight  input (plugin.json) and transform
//	estimated_value  20      estimated_value: ln(1+max(v,0)) / ln(1+10⁶), capped at 1; missing 0
//	source           15      source (category): referral 1, partner 0.8, event 0.7, web 0.5,
//	                         cold 0.2; other or missing 0.3
//	status           20      status (category): qualified 1, converted 1, contacted 0.6, new 0.3,
//	                         unqualified 0; other or missing 0.3
//	has_email         5      has_email: 1 when ≥ 0.5, else 0 (missing 0)
//	has_phone         5      has_phone: the same
//	has_company       5      has_company: the same
//	activity          5      activity_count: 1 − e^(−n/5); missing or negative 0
//	recency          10      age_days: e^(−max(d,0)/90); missing 0.5
//	budget           10      budget = custom.budget:number: as estimated_value; missing 0
//	calls             5      calls = count(activities where kind = call within 30d):
//	                         1 − e^(−n/2); missing or negative 0
//
// The last two are declared inputs (sdk/INPUTS.md). budget is the
// workspace's custom lead field "budget" (a number: what the prospect says
// it can spend), read on the same scale as the estimated value. It arrives
// as missing (NaN) for a lead without one, and for every lead while the
// workspace has not defined the field; a missing budget scores 0: the lead
// is not credited for a budget nobody recorded, and where the field does
// not exist every lead misses the same 10 points, which leaves their order
// unchanged. calls counts the lead's calls of the last 30 days: recent
// conversations, where activity_count is everything ever logged.
//
// The weights sum to 100; each factor's contribution is its weight times
// its value, and the score is the sum of the contributions in the order
// above. A lead is "hot" at or above config "hot" (default 70), "warm" at
// or above "warm" (default 40), else "cold".
// A configuration that is not a JSON object of numbers is an error.
//
// `rapport plugin build examples/leadscore` compiles it to WebAssembly; the
// same code runs natively (see Lead and ScoreLead), which is what the
// benchmarks compare.
package leadscore

import (
	"encoding/json"
	"math"

	"github.com/rapportcrm/rapport/sdk"
)

// Plugin is what this package serves.
var Plugin = sdk.Plugin{Score: Score}

// NumFactors is how many factors explain a score.
const NumFactors = 10

// Factors names the explanation's factors, in order.
var Factors = []string{"estimated_value", "source", "status", "has_email", "has_phone", "has_company", "activity", "recency", "budget", "calls"}

// Weights are the factors' weights, in the order of Factors.
var Weights = [NumFactors]float64{20, 15, 20, 5, 5, 5, 5, 10, 10, 5}

var (
	sourceFactor = map[string]float64{"referral": 1, "partner": 0.8, "event": 0.7, "web": 0.5, "cold": 0.2}
	statusFactor = map[string]float64{"qualified": 1, "converted": 1, "contacted": 0.6, "new": 0.3, "unqualified": 0}
	logMax       = math.Log1p(1e6)
)

// Lead is one lead's attributes as plain Go values. NaN marks a missing
// number, "" a missing category.
type Lead struct {
	EstimatedValue float64
	Source, Status string
	HasEmail       float64
	HasPhone       float64
	HasCompany     float64
	ActivityCount  float64
	AgeDays        float64
	// Budget is the custom field budget (NaN when the lead has none);
	// Calls the lead's calls of the last 30 days.
	Budget float64
	Calls  float64
}

// ScoreLead scores one lead and returns the weighted contributions.
func ScoreLead(l *Lead, contrib *[NumFactors]float64) float64 {
	f := [NumFactors]float64{
		valueFactor(l.EstimatedValue),
		lookup(sourceFactor, l.Source, 0.3),
		lookup(statusFactor, l.Status, 0.3),
		flag(l.HasEmail), flag(l.HasPhone), flag(l.HasCompany),
		activityFactor(l.ActivityCount),
		recencyFactor(l.AgeDays),
		valueFactor(l.Budget),
		callsFactor(l.Calls),
	}
	total := 0.0
	for i := range f {
		contrib[i] = Weights[i] * f[i]
		total += contrib[i]
	}
	return total
}

func valueFactor(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Min(math.Log1p(math.Max(v, 0))/logMax, 1)
}

func lookup(table map[string]float64, key string, otherwise float64) float64 {
	if v, ok := table[key]; ok {
		return v
	}
	return otherwise
}

func flag(v float64) float64 {
	if v >= 0.5 {
		return 1
	}
	return 0
}

func activityFactor(n float64) float64 {
	if math.IsNaN(n) || n < 0 {
		return 0
	}
	return 1 - math.Exp(-n/5)
}

func callsFactor(n float64) float64 {
	if math.IsNaN(n) || n < 0 {
		return 0
	}
	return 1 - math.Exp(-n/2)
}

func recencyFactor(d float64) float64 {
	if math.IsNaN(d) {
		return 0.5
	}
	return math.Exp(-math.Max(d, 0) / 90)
}

// Thresholds are the label cut-offs, configurable per binding.
type Thresholds struct {
	Hot  float64 `json:"hot"`
	Warm float64 `json:"warm"`
}

// Label names a score's band.
func (t Thresholds) Label(v float64) string {
	switch {
	case v >= t.Hot:
		return "hot"
	case v >= t.Warm:
		return "warm"
	}
	return "cold"
}

// Score is the score extension point over a columnar batch.
func Score(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	th := Thresholds{Hot: 70, Warm: 40}
	if len(ctx.Config()) > 0 {
		if err := json.Unmarshal(ctx.Config(), &th); err != nil {
			return nil, err
		}
	}
	b := &req.Batch
	value, emails, phones := b.Numbers("estimated_value"), b.Numbers("has_email"), b.Numbers("has_phone")
	companies, activities, ages := b.Numbers("has_company"), b.Numbers("activity_count"), b.Numbers("age_days")
	// Declared inputs arrive under their names: "budget", "calls".
	budgets, calls := b.Numbers("budget"), b.Numbers("calls")
	sourceCol, statusCol := b.Column("source"), b.Column("status")
	// Resolve each dictionary once, not each lead.
	sources := codeFactors(sourceCol, sourceFactor, 0.3)
	statuses := codeFactors(statusCol, statusFactor, 0.3)
	resp := sdk.NewScoreResponse(b.Count, Factors...)
	for i := 0; i < b.Count; i++ {
		c := resp.Contributions[i*NumFactors : i*NumFactors+NumFactors : i*NumFactors+NumFactors]
		c[0] = Weights[0] * valueFactor(value[i])
		c[1] = Weights[1] * codeAt(sourceCol, sources, i, 0.3)
		c[2] = Weights[2] * codeAt(statusCol, statuses, i, 0.3)
		c[3] = Weights[3] * flag(emails[i])
		c[4] = Weights[4] * flag(phones[i])
		c[5] = Weights[5] * flag(companies[i])
		c[6] = Weights[6] * activityFactor(activities[i])
		c[7] = Weights[7] * recencyFactor(ages[i])
		c[8] = Weights[8] * valueFactor(budgets[i])
		c[9] = Weights[9] * callsFactor(calls[i])
		v := c[0] + c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7] + c[8] + c[9]
		resp.Values[i] = v
		resp.SetLabel(i, th.Label(v))
	}
	return resp, nil
}

func codeFactors(c *sdk.Column, table map[string]float64, otherwise float64) []float64 {
	if c == nil {
		return nil
	}
	out := make([]float64, len(c.Dictionary))
	for i, s := range c.Dictionary {
		out[i] = lookup(table, s, otherwise)
	}
	return out
}

func codeAt(c *sdk.Column, factors []float64, i int, otherwise float64) float64 {
	if c == nil || c.Codes == nil || c.Codes[i] == sdk.Missing {
		return otherwise
	}
	return factors[c.Codes[i]]
}
