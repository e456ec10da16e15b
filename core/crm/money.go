// Package crm holds the value types stored inside CRM records: money
// amounts, score explanations and recorded field changes. It depends on
// nothing else in Rapport, so schema, services and API can all share it.
package crm

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Money is an amount of money in hundredths of the currency unit (cents).
// Every currency is kept at this fixed scale, so sums in SQL are exact.
// In GraphQL a Money is a decimal number with at most two fraction digits,
// such as 1234.5 or -20; it is written out as an exact decimal literal.
type Money int64

// ErrMoney is wrapped by every error that rejects a money value.
var ErrMoney = errors.New("invalid money amount")

// MaxMoney is the largest magnitude accepted: 10^15 units (10^17 cents),
// far above any real amount and well below int64 overflow in sums of
// millions of rows.
const MaxMoney Money = 100_000_000_000_000_000

// ParseMoney reads a decimal such as "12", "-3.5" or "1234.56".
func ParseMoney(s string) (Money, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrMoney)
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("%w: %q (at most two decimals)", ErrMoney, s)
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("%w: %q is not a decimal number", ErrMoney, s)
			}
		}
	}
	if len(whole) > 16 {
		return 0, fmt.Errorf("%w: %q is too large", ErrMoney, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	m := Money(w*100 + f)
	if m > MaxMoney {
		return 0, fmt.Errorf("%w: %q is too large", ErrMoney, s)
	}
	if neg {
		m = -m
	}
	return m, nil
}

// FromFloat converts a float that must be a whole number of cents.
func FromFloat(f float64) (Money, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > float64(MaxMoney)/100 {
		return 0, fmt.Errorf("%w: %v", ErrMoney, f)
	}
	c := math.Round(f * 100)
	if math.Abs(c-f*100) > 1e-6 {
		return 0, fmt.Errorf("%w: %v has more than two decimals", ErrMoney, f)
	}
	return Money(c), nil
}

// String renders the amount as an exact decimal, e.g. "-1234.50".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// Float returns the amount in currency units, for charts and statistics.
func (m Money) Float() float64 { return float64(m) / 100 }

// MarshalGQL writes the amount as a JSON number literal.
func (m Money) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, m.String()) }

// UnmarshalGQL accepts a JSON number or a decimal string.
func (m *Money) UnmarshalGQL(v any) error {
	var (
		out Money
		err error
	)
	switch x := v.(type) {
	case string:
		out, err = ParseMoney(x)
	case json.Number:
		out, err = ParseMoney(x.String())
	case int:
		out, err = FromFloat(float64(x))
	case int64:
		out, err = FromFloat(float64(x))
	case float64:
		out, err = FromFloat(x)
	default:
		err = fmt.Errorf("%w: want a number, got %T", ErrMoney, v)
	}
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// MarshalJSON writes the amount as a JSON number.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads a JSON number or string.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	out, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = out
	return nil
}
