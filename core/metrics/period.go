package metrics

import (
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
)

// Period is the length of the buckets a series is cut into.
type Period string

// The periods metrics are reported by. Periods are calendar periods in UTC.
const (
	Month   Period = "month"
	Quarter Period = "quarter"
	Year    Period = "year"
)

// ParsePeriod reads "month", "quarter" or "year" (any case; "" is Month).
func ParsePeriod(s string) (Period, error) {
	switch p := Period(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return Month, nil
	case Month, Quarter, Year:
		return p, nil
	}
	return "", errcode.Input("period", "unknown period %q: use month, quarter or year", s)
}

// PerYear is the number of periods in a year: 12, 4 or 1.
func (p Period) PerYear() int {
	switch p {
	case Quarter:
		return 4
	case Year:
		return 1
	}
	return 12
}

// months is the length of the period in months.
func (p Period) months() int { return 12 / p.PerYear() }

// index numbers the period holding t: consecutive periods have consecutive
// indexes (months since year 0, quarters since year 0, or the year). The
// SQL in sql.go computes the same numbers in the database.
func (p Period) index(t time.Time) int {
	t = t.UTC()
	switch p {
	case Quarter:
		return t.Year()*4 + (int(t.Month())-1)/3
	case Year:
		return t.Year()
	}
	return t.Year()*12 + int(t.Month()) - 1
}

// start returns the first instant of the period with index i.
func (p Period) start(i int) time.Time {
	switch p {
	case Quarter:
		return time.Date(floorDiv(i, 4), time.Month(mod(i, 4)*3+1), 1, 0, 0, 0, 0, time.UTC)
	case Year:
		return time.Date(i, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(floorDiv(i, 12), time.Month(mod(i, 12)+1), 1, 0, 0, 0, 0, time.UTC)
}

// label names the period with index i: "2025-03", "2025-Q1" or "2025".
func (p Period) label(i int) string {
	switch p {
	case Quarter:
		return fmt.Sprintf("%04d-Q%d", floorDiv(i, 4), mod(i, 4)+1)
	case Year:
		return fmt.Sprintf("%04d", i)
	}
	return fmt.Sprintf("%04d-%02d", floorDiv(i, 12), mod(i, 12)+1)
}

// span describes the period with index i.
func (p Period) span(i int) Span {
	return Span{Label: p.label(i), Start: p.start(i), End: p.start(i + 1)}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int) int { return a - floorDiv(a, b)*b }

// Span is one period of a series: [Start, End) in UTC, and its label.
type Span struct {
	// Label is "2025-03" for a month, "2025-Q1" for a quarter, "2025" for a year.
	Label string `json:"label"`
	// Start is the first instant of the period.
	Start time.Time `json:"start"`
	// End is the first instant after the period.
	End time.Time `json:"end"`
	// Partial is true when the period had not ended when the metric was
	// computed (End is after that moment): its figures are so far, not
	// final, and rates over it are not comparable with whole periods'.
	Partial bool `json:"partial"`
}

// defaultPeriods is how many periods a range given by neither end spans.
func (p Period) defaultPeriods() int {
	switch p {
	case Quarter:
		return 8
	case Year:
		return 5
	}
	return 12
}

// ParseRange reads a range as people type it. from and to are each a year
// ("2025"), a month ("2025-03"), a day ("2025-03-15") or an RFC 3339 time;
// to includes the year, month or day it names (an RFC 3339 time is
// exclusive). An empty end is filled in around now: by default the range
// is the 12 months (8 quarters, 5 years) ending with now's; with forward,
// the ones starting with it (for forecasts). Errors are BAD_USER_INPUT.
func ParseRange(from, to string, p Period, now time.Time, forward bool) (time.Time, time.Time, error) {
	if p == "" {
		p = Month
	}
	if _, err := ParsePeriod(string(p)); err != nil {
		return time.Time{}, time.Time{}, err
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = parseBound(from, false); err != nil {
			return f, t, errcode.Input("from", "%v", err)
		}
	}
	if to != "" {
		if t, err = parseBound(to, true); err != nil {
			return f, t, errcode.Input("to", "%v", err)
		}
	}
	n := p.defaultPeriods()
	switch {
	case f.IsZero() && t.IsZero():
		k := p.index(now)
		if forward {
			f, t = p.start(k), p.start(k+n)
		} else {
			f, t = p.start(k-n+1), p.start(k+1)
		}
	case f.IsZero():
		f = p.start(p.index(t.Add(-time.Nanosecond)) - n + 1)
	case t.IsZero():
		t = p.start(p.index(f) + n)
	}
	if !t.After(f) {
		return f, t, errcode.Input("to", "the range ends (%s) before it starts (%s)", to, from)
	}
	return f, t, nil
}

// parseBound reads one end of a range; end moves it to the end of the
// year, month or day it names.
func parseBound(s string, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []struct {
		layout string
		next   func(time.Time) time.Time
	}{
		{"2006", func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }},
		{"2006-01", func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }},
		{"2006-01-02", func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }},
	} {
		if t, err := time.ParseInLocation(l.layout, s, time.UTC); err == nil {
			if end {
				t = l.next(t)
			}
			return t, nil
		}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q is not a year (2025), month (2025-03), day (2025-03-15) or RFC 3339 time", s)
	}
	return t.UTC(), nil
}
