package leadscore

import (
	"math"
	"math/rand/v2"

	"github.com/rapportcrm/rapport/sdk"
)

// Sources and Statuses are the categories Synthetic draws from.
var (
	Sources  = []string{"web", "referral", "event", "partner", "cold", "podcast"}
	Statuses = []string{"new", "contacted", "qualified", "unqualified"}
)

// Synthetic returns n reproducible leads, with a missing value every 17th
// and no budget every 5th (a custom field few leads have).
// Benchmarks and tests use it to compare runtimes on the same data.
func Synthetic(n int) []Lead {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]Lead, n)
	for i := range out {
		l := Lead{
			EstimatedValue: math.Exp(r.Float64() * 13),
			Source:         Sources[r.IntN(len(Sources))],
			Status:         Statuses[r.IntN(len(Statuses))],
			HasEmail:       float64(r.IntN(2)),
			HasPhone:       float64(r.IntN(2)),
			HasCompany:     float64(r.IntN(2)),
			ActivityCount:  float64(r.IntN(30)),
			AgeDays:        float64(r.IntN(400)),
			Budget:         math.Exp(r.Float64() * 12),
			Calls:          float64(r.IntN(6)),
		}
		if i%5 == 0 {
			l.Budget = math.NaN()
		}
		if i%17 == 0 {
			l.EstimatedValue = math.NaN()
			l.Source = ""
		}
		out[i] = l
	}
	return out
}

// Columns turns slices of Lead into score requests, column by column,
// reusing its buffers: what a host does before calling a plugin.
type Columns struct {
	req               sdk.ScoreRequest
	sourceCode        map[string]uint32
	statusCode        map[string]uint32
	numbers           [8][]float64
	sources, statuses []uint32
}

// NewColumns returns a Columns for batches of up to size leads.
func NewColumns(size int) *Columns {
	c := &Columns{sourceCode: map[string]uint32{}, statusCode: map[string]uint32{}}
	for i, s := range Sources {
		c.sourceCode[s] = uint32(i)
	}
	for i, s := range Statuses {
		c.statusCode[s] = uint32(i)
	}
	for i := range c.numbers {
		c.numbers[i] = make([]float64, size)
	}
	c.sources, c.statuses = make([]uint32, size), make([]uint32, size)
	return c
}

// Fill encodes leads (at most the size given to NewColumns) as a request.
// The request is reused by the next Fill.
func (c *Columns) Fill(leads []Lead) *sdk.ScoreRequest {
	n := len(leads)
	for i := range leads {
		l := &leads[i]
		c.numbers[0][i], c.numbers[1][i], c.numbers[2][i] = l.EstimatedValue, l.HasEmail, l.HasPhone
		c.numbers[3][i], c.numbers[4][i], c.numbers[5][i] = l.HasCompany, l.ActivityCount, l.AgeDays
		c.numbers[6][i], c.numbers[7][i] = l.Budget, l.Calls
		if code, ok := c.sourceCode[l.Source]; ok {
			c.sources[i] = code
		} else {
			c.sources[i] = sdk.Missing
		}
		if code, ok := c.statusCode[l.Status]; ok {
			c.statuses[i] = code
		} else {
			c.statuses[i] = sdk.Missing
		}
	}
	c.req.Batch = sdk.Batch{SubjectType: "lead", Count: n, Columns: []sdk.Column{
		{Name: "estimated_value", Numbers: c.numbers[0][:n]},
		{Name: "has_email", Numbers: c.numbers[1][:n]},
		{Name: "has_phone", Numbers: c.numbers[2][:n]},
		{Name: "has_company", Numbers: c.numbers[3][:n]},
		{Name: "activity_count", Numbers: c.numbers[4][:n]},
		{Name: "age_days", Numbers: c.numbers[5][:n]},
		{Name: "budget", Numbers: c.numbers[6][:n]},
		{Name: "calls", Numbers: c.numbers[7][:n]},
		{Name: "source", Codes: c.sources[:n], Dictionary: Sources},
		{Name: "status", Codes: c.statuses[:n], Dictionary: Statuses},
	}}
	return &c.req
}
