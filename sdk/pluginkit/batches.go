package pluginkit

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
)

// shape is what a numeric attribute holds, inferred from its name.
type shape uint8

const (
	categorical shape = iota
	flag              // 0 or 1
	timestamp         // Unix seconds
	wholeNumber       // 0–365
	fraction          // 0–1
	amount            // 0 to about 10⁶
)

// inferShape applies the naming rule of the package documentation.
func inferShape(attr string) shape {
	if i := strings.LastIndexByte(attr, '.'); i >= 0 {
		attr = attr[i+1:]
	}
	hasSuffix := func(suffixes ...string) bool {
		for _, s := range suffixes {
			if strings.HasSuffix(attr, s) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(attr, "has_") || strings.HasPrefix(attr, "is_"):
		return flag
	case hasSuffix("_at", "_on", "_date", "_time"):
		return timestamp
	case hasSuffix("_count", "_days", "_hours", "_age") || attr == "count" || attr == "age":
		return wholeNumber
	case hasSuffix("_rate", "_ratio", "_probability", "_share") || attr == "probability":
		return fraction
	case hasSuffix("_value", "_amount", "_revenue", "_price", "_total", "_score", "_size", "_budget"),
		slices.Contains([]string{"value", "amount", "revenue", "price", "score", "employees", "budget"}, attr):
		return amount
	}
	return categorical
}

// vocabulary is the dictionary of every categorical column: common CRM
// values and awkward ones. Codes never point at the last entry.
var vocabulary = []string{
	"new", "contacted", "qualified", "won", "lost",
	"web", "referral", "partner", "event",
	"", "1", "true", "Zürich ✓",
	"unused",
}

// layout is how a canonical batch carries its attributes.
type layout uint8

const (
	inferred   layout = iota // each attribute as its name suggests
	allNumbers               // every attribute numeric
	allCodes                 // every attribute categorical, columns reversed
)

var layouts = []layout{inferred, allNumbers, allCodes}

func (l layout) String() string {
	switch l {
	case allNumbers:
		return "numbers"
	case allCodes:
		return "codes"
	}
	return "inferred"
}

// missing is how many values a canonical batch leaves out.
type missing uint8

const (
	noneMissing missing = iota
	someMissing         // a third of the values, and every value of the last subject
	allMissing          // every value; categorical columns get an empty dictionary
)

// batchSpec describes a canonical batch.
type batchSpec struct {
	layout  layout
	count   int
	missing missing
	// noColumns leaves the columns (and IDs) out altogether.
	noColumns bool
}

func (s batchSpec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d subjects, %s layout", s.count, s.layout)
	switch s.missing {
	case someMissing:
		b.WriteString(", a third of the values missing")
	case allMissing:
		b.WriteString(", every value missing")
	}
	if s.noColumns {
		b.WriteString(", no columns")
	}
	return b.String()
}

// seed fixes the canonical values; changing it changes every request.
const seed = 0x5eed_2a9e

// canonicalBatch builds a batch of subject type subject with the given
// inputs.
func canonicalBatch(subject string, inputs []string, s batchSpec) sdk.Batch {
	b := sdk.Batch{SubjectType: subject, Count: s.count}
	if s.noColumns {
		return b
	}
	for j, attr := range inputs {
		if attr == "id" {
			b.IDs = make([]string, s.count)
			for i := range b.IDs {
				b.IDs[i] = fmt.Sprintf("%s_%06d", subject, i)
			}
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(subject + "/" + attr))
		r := rand.New(rand.NewPCG(seed, h.Sum64()))
		gone := func(i int) bool {
			switch s.missing {
			case someMissing:
				return (i+j)%3 == 0 || i == s.count-1
			case allMissing:
				return true
			}
			return false
		}
		sh := inferShape(attr)
		c := sdk.Column{Name: attr}
		if s.layout == allCodes || (s.layout == inferred && sh == categorical) {
			c.Codes = make([]uint32, s.count)
			if s.missing != allMissing {
				c.Dictionary = slices.Clone(vocabulary)
			}
			for i := range c.Codes {
				c.Codes[i] = uint32(r.IntN(len(vocabulary) - 1))
				if gone(i) {
					c.Codes[i] = sdk.Missing
				}
			}
		} else {
			c.Numbers = make([]float64, s.count)
			for i := range c.Numbers {
				c.Numbers[i] = number(r, sh)
				if gone(i) {
					c.Numbers[i] = math.NaN()
				}
			}
		}
		b.Columns = append(b.Columns, c)
	}
	if s.layout == allCodes {
		slices.Reverse(b.Columns)
	}
	return b
}

func number(r *rand.Rand, sh shape) float64 {
	switch sh {
	case flag:
		return float64(r.IntN(2))
	case timestamp:
		return float64(1_600_000_000 + r.IntN(100_000_000))
	case wholeNumber:
		return float64(r.IntN(366))
	case fraction:
		return r.Float64()
	case amount:
		return math.Round(math.Expm1(r.Float64()*14)*100) / 100
	}
	return float64(r.IntN(10))
}

// canonicalMetrics builds the standard metric series a report plugin asks
// for: twelve monthly points for per-period series, one point labelled
// "all" for single values, a point per kind or source for the rest —
// values drawn like attributes of the same name. With every value missing
// the series have no points, as the host sends a metric without data.
func canonicalMetrics(names []string, s batchSpec) []sdk.Series {
	var out []sdk.Series
	for _, name := range names {
		sr := sdk.Series{Name: name}
		if s.missing != allMissing && !s.noColumns {
			switch {
			case strings.HasSuffix(name, "_by_kind"):
				sr.Labels = []string{"note", "call", "email", "meeting", "task"}
			case strings.HasSuffix(name, "_by_source"):
				sr.Labels = []string{"web", "referral", "event", "partner", "cold"}
			case strings.HasPrefix(name, "clv_") || name == "acquisition_cost" || strings.HasPrefix(name, "average_days"):
				sr.Labels = []string{"all"}
			default:
				for m := 1; m <= 12; m++ {
					sr.Labels = append(sr.Labels, fmt.Sprintf("2025-%02d", m))
				}
			}
			h := fnv.New64a()
			h.Write([]byte("metric/" + name))
			r := rand.New(rand.NewPCG(seed, h.Sum64()))
			sh := inferShape(name)
			if strings.HasSuffix(name, "_by_kind") || strings.HasSuffix(name, "_by_source") || strings.HasSuffix(name, "_customers") || strings.HasPrefix(name, "customers") {
				sh = wholeNumber
			}
			for range sr.Labels {
				sr.Values = append(sr.Values, number(r, sh))
			}
		}
		out = append(out, sr)
	}
	return out
}

// reversed returns a copy of b with its subjects in reverse order.
func reversed(b sdk.Batch) sdk.Batch {
	out := b
	out.Columns = make([]sdk.Column, len(b.Columns))
	for j, c := range b.Columns {
		if c.Numbers != nil {
			c.Numbers = slices.Clone(c.Numbers)
			slices.Reverse(c.Numbers)
		}
		if c.Codes != nil {
			c.Codes = slices.Clone(c.Codes)
			slices.Reverse(c.Codes)
		}
		out.Columns[j] = c
	}
	if b.IDs != nil {
		out.IDs = slices.Clone(b.IDs)
		slices.Reverse(out.IDs)
	}
	return out
}
