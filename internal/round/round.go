// Package round rounds the figures Rapport shows (reports, metrics,
// scores and comparisons, in the CLI and the GraphQL API) to a sensible
// precision, so that binary noise such as 548.5500000000001 or
// 28.09917355371901 is shown as 548.55 and 28.0992. It is for display
// only: stored values and the values computations use are not rounded.
//
// The rule:
//
//   - Money is rounded to the cent (two decimals): Money.
//   - Every other figure (rates, ratios, shares, scores, averages, days) is
//     rounded to six significant digits, but never to fewer than its whole
//     units, so a large figure keeps its integer part: Measure. A rate of
//     1/3 is 0.333333, 28.09917355371901 is 28.0992, 0.0079741404289 is
//     0.00797414 and 1234567.891 is 1234568.
//
// Rounding is decimal, half away from zero, on the shortest decimal that
// identifies the float (what strconv prints): 1.005 to the cent is 1.01
// and −2.5 to whole units is −3, as written, not as the nearest binary
// fraction would round. NaN and ±Inf are returned unchanged; the CLI and
// the API show them as missing (null).
package round

import (
	"math"
	"strconv"
	"strings"
)

// MoneyDecimals is the number of decimals money is shown with.
const MoneyDecimals = 2

// Digits is the number of significant digits Measure keeps.
const Digits = 6

// Money rounds an amount of money to the cent.
func Money(v float64) float64 { return Decimals(v, MoneyDecimals) }

// Measure rounds a rate, ratio, score or other measured figure to Digits
// significant digits, keeping every whole unit.
func Measure(v float64) float64 {
	if !finite(v) || v == 0 {
		return v
	}
	_, exp := digits(v)
	// v = 0.d₁d₂… × 10^exp: exp whole digits when exp > 0.
	return Decimals(v, max(Digits-exp, 0))
}

// Unit rounds a report figure by its unit: money to the cent, anything
// else ("percent", "count", "days" or none) as Measure.
func Unit(v float64, unit string) float64 {
	if unit == "money" {
		return Money(v)
	}
	return Measure(v)
}

// Ptr is Measure of *p, nil for nil; p is not changed.
func Ptr(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := Measure(*p)
	return &v
}

// Decimals rounds v to n decimals (n ≥ 0), half away from zero.
func Decimals(v float64, n int) float64 {
	if !finite(v) || v == 0 {
		return v
	}
	ds, exp := digits(v)
	// keep is how many of the significant digits ds stay: those before
	// the decimal point (exp) and n after it.
	keep := exp + n
	if keep >= len(ds) {
		return v // already at most n decimals
	}
	var mant string
	switch {
	case keep < 0:
		return math.Copysign(0, v)
	case keep == 0:
		// Everything is below the last kept decimal: 0.0…0d₁ with d₁ ≥ 5
		// rounds up to one unit of the last decimal.
		if ds[0] < '5' {
			return math.Copysign(0, v)
		}
		mant, exp = "1", exp+1
	default:
		mant = ds[:keep]
		if ds[keep] >= '5' {
			var carry bool
			mant, carry = increment(mant)
			if carry {
				exp++
			}
		}
	}
	s := "0." + mant + "e" + strconv.Itoa(exp)
	if v < 0 {
		s = "-" + s
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return v
	}
	return r
}

// digits returns the significant digits of |v| in its shortest decimal
// form and the exponent exp such that |v| = 0.digits × 10^exp.
func digits(v float64) (string, int) {
	s := strconv.FormatFloat(math.Abs(v), 'e', -1, 64) // d.ddde±XX
	mant, e, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(e)
	ds := strings.Replace(mant, ".", "", 1)
	ds = strings.TrimRight(ds, "0")
	if ds == "" {
		ds = "0"
	}
	return ds, exp + 1
}

// increment adds one to the decimal digit string s; carry is true when
// it grew a digit (999 → 1000), returned as "1" followed by zeros.
func increment(s string) (string, bool) {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b), false
		}
		b[i] = '0'
	}
	return "1" + string(b), true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
