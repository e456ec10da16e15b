package pluginkit

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
)

// shape is what a column holds.
type shape uint8

const (
	categorical shape = iota // codes into a dictionary
	flag                     // 0 or 1
	timestamp                // Unix seconds
	date                     // Unix seconds at midnight UTC
	wholeNumber              // 0–365
	days                     // 0–365, fractional
	fraction                 // 0–1
	amount                   // 0 to about 10⁶, to the cent
	scale                    // a whole number 0–9 (an answer on a scale)
	ids                      // the batch's IDs, no column
)

// inferShape applies the naming rule of the package documentation to an
// attribute's name. The kit uses it for the shape of a declared number
// (see numberShape), for metrics and record attributes it does not know,
// and for inputs the language refuses.
func inferShape(attr string) shape {
	sh, _ := nameShape(attr)
	return sh
}

// nameShape is inferShape, and whether a rule matched (false: the
// attribute is categorical by default).
func nameShape(attr string) (shape, bool) {
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
		return flag, true
	case hasSuffix("_at", "_on", "_date", "_time"):
		return timestamp, true
	case strings.HasPrefix(attr, "days_"):
		return days, true
	case hasSuffix("_count", "_days", "_hours", "_age") || attr == "count" || attr == "age":
		return wholeNumber, true
	case hasSuffix("_rate", "_ratio", "_probability", "_share") || attr == "probability":
		return fraction, true
	case hasSuffix("_value", "_amount", "_revenue", "_price", "_total", "_score", "_size", "_budget"),
		slices.Contains([]string{"value", "amount", "revenue", "price", "score", "employees", "budget"}, attr):
		return amount, true
	}
	return categorical, false
}

// vocabulary is the dictionary of a categorical column that is not an
// enum: common CRM values and awkward ones. Codes never point at the last
// entry.
var vocabulary = []string{
	"new", "contacted", "qualified", "won", "lost",
	"web", "referral", "partner", "event",
	"", "1", "true", "Zürich ✓",
	"unused",
}

// enumExtras follow an enum's values in its dictionary: a value the
// plugin does not know (enums grow) and an empty one, then the unused
// entry.
var enumExtras = []string{"", "Zürich ✓", "unused"}

// column is what the kit sends for one input or record attribute.
type column struct {
	name  string
	kind  inputs.Kind
	shape shape
	// dict is a categorical column's dictionary; its last entry is unused.
	dict []string
}

// declaredColumns returns the columns of a subject type's inputs, in
// manifest order: each input as its declared kind, named by its Name. An
// input the language refuses (the manifest check reports it) is sent as
// its name suggests (inferShape); an input whose column name repeats an
// earlier one is left out.
func declaredColumns(subject string, texts []string) []column {
	var out []column
	seen := map[string]bool{}
	for i, t := range texts {
		var c column
		if in, err := inputs.Parse(subject, i, t); err == nil {
			c = declared(in)
		} else {
			c = inferred(t)
		}
		if seen[c.name] {
			continue
		}
		seen[c.name] = true
		out = append(out, c)
	}
	return out
}

// recordShapes are the kinds of the record attributes of sdk.RecordTypes.
var recordShapes = map[string]map[string]shape{
	sdk.RecordPurchases:  {"customer_id": categorical, "product": categorical, "quantity": wholeNumber, "amount": amount},
	sdk.RecordAssessment: {"question": categorical, "answer": scale},
}

// recordColumns returns the columns of a record type's attributes.
func recordColumns(record string, attrs []string) []column {
	var out []column
	for _, a := range attrs {
		sh, ok := recordShapes[record][a]
		if !ok {
			out = append(out, inferred(a))
			continue
		}
		out = append(out, withShape(a, sh))
	}
	return out
}

// inferred is the column of an attribute the kit knows only by name.
func inferred(name string) column {
	if name == "id" {
		return column{name: name, kind: inputs.ID, shape: ids}
	}
	return withShape(name, inferShape(name))
}

func withShape(name string, sh shape) column {
	c := column{name: name, shape: sh, kind: inputs.Number}
	switch sh {
	case categorical:
		c.kind, c.dict = inputs.Category, vocabulary
	case flag:
		c.kind = inputs.Flag
	case timestamp, date:
		c.kind = inputs.Time
	}
	return c
}

// declared is the column of a parsed input.
func declared(in *inputs.Input) column {
	c := column{name: in.Name, kind: in.Kind}
	switch in.Kind {
	case inputs.ID:
		c.shape = ids
	case inputs.Flag:
		c.shape = flag
	case inputs.Time:
		c.shape = timestamp
		field := in.Field
		if in.Agg != nil {
			field = in.Agg.Field
		}
		if strings.HasSuffix(field, "_date") {
			c.shape = date
		}
	case inputs.Category:
		c.shape, c.dict = categorical, vocabulary
		if in.Agg == nil && !in.Custom && !in.Segment {
			if e, ok := inputs.Lookup(in.Entity); ok && len(e.Fields[in.Field].Enum) > 0 {
				c.dict = append(slices.Clone(e.Fields[in.Field].Enum), enumExtras...)
			}
		}
	default:
		c.shape = numberShape(in)
	}
	return c
}

// numberShape is how the kit draws a declared number: an aggregate by its
// function (count: whole numbers; days_since_*: days; sum, mean, min and
// max by the field aggregated), anything else by its field: money is an
// amount, otherwise the field's name, then the column's, decides
// (inferShape); a number no name explains is an amount.
func numberShape(in *inputs.Input) shape {
	entity, field := in.Entity, in.Field
	if a := in.Agg; a != nil {
		switch a.Func {
		case "count":
			return wholeNumber
		case "days_since_first", "days_since_last":
			return days
		}
		entity, field = a.Target, a.Field
	}
	if e, ok := inputs.Lookup(entity); ok && !in.Custom && !in.Builtin && e.Fields[field].Money {
		return amount
	}
	for _, name := range []string{field, in.Name} {
		switch sh, ok := nameShape(name); {
		case !ok:
		case sh == wholeNumber || sh == days || sh == fraction || sh == amount:
			return sh
		}
	}
	return amount
}

// layout is how a canonical batch orders its columns.
type layout uint8

const (
	declaredOrder layout = iota // manifest order
	reverseOrder                // the reverse of the manifest's order
)

var layouts = []layout{declaredOrder, reverseOrder}

func (l layout) String() string {
	if l == reverseOrder {
		return "declared layout, columns in reverse order"
	}
	return "declared layout"
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
	fmt.Fprintf(&b, "%d subjects, %s", s.count, s.layout)
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
// columns.
func canonicalBatch(subject string, cols []column, s batchSpec) sdk.Batch {
	b := sdk.Batch{SubjectType: subject, Count: s.count}
	if s.noColumns {
		return b
	}
	for j, col := range cols {
		if col.shape == ids {
			b.IDs = make([]string, s.count)
			for i := range b.IDs {
				b.IDs[i] = fmt.Sprintf("%s_%06d", subject, i)
			}
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(subject + "/" + col.name))
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
		c := sdk.Column{Name: col.name}
		if col.shape == categorical {
			c.Codes = make([]uint32, s.count)
			if s.missing != allMissing {
				c.Dictionary = slices.Clone(col.dict)
			}
			for i := range c.Codes {
				c.Codes[i] = uint32(r.IntN(len(col.dict) - 1))
				if gone(i) {
					c.Codes[i] = sdk.Missing
				}
			}
		} else {
			c.Numbers = make([]float64, s.count)
			for i := range c.Numbers {
				c.Numbers[i] = number(r, col.shape)
				if gone(i) {
					c.Numbers[i] = math.NaN()
				}
			}
		}
		b.Columns = append(b.Columns, c)
	}
	if s.layout == reverseOrder {
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
	case date:
		return float64(1_600_041_600 + 86_400*r.IntN(1_157))
	case wholeNumber:
		return float64(r.IntN(366))
	case days:
		return math.Round(r.Float64()*365*1e4) / 1e4
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
