// Package value parses the cells of import files into the values records
// hold: dates and times in the forms CRMs and spreadsheets export, money
// amounts with their thousands separators and currency signs, numbers,
// booleans and email addresses. Every parser returns an error a person
// can act on, and never guesses silently: a date such as 03/04/2024 is
// read day-first or month-first by the DateOrder the caller gives, which
// OrderOf tells from a column's values.
package value

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DateOrder says how a date written with slashes or dots is read.
type DateOrder int

// The orders.
const (
	// Unknown reads a slashed date only when its parts leave no doubt
	// (13/04/2024 or 04/13/2024).
	Unknown DateOrder = iota
	// DayFirst reads 03/04/2024 as 3 April.
	DayFirst
	// MonthFirst reads 03/04/2024 as 4 March.
	MonthFirst
)

// String names the order as mapping files write it.
func (o DateOrder) String() string {
	switch o {
	case DayFirst:
		return "dmy"
	case MonthFirst:
		return "mdy"
	}
	return ""
}

// ParseDateOrder reads "dmy" or "mdy" ("" is Unknown).
func ParseDateOrder(s string) (DateOrder, error) {
	switch strings.ToLower(s) {
	case "":
		return Unknown, nil
	case "dmy":
		return DayFirst, nil
	case "mdy":
		return MonthFirst, nil
	}
	return Unknown, fmt.Errorf("unknown date order %q: want dmy or mdy", s)
}

// isoLayouts are the unambiguous forms, tried in order.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02",
	time.RFC1123Z,
	time.RFC1123,
	"Jan 2, 2006",
	"January 2, 2006",
	"2 Jan 2006",
	"2 January 2006",
	"Jan 2, 2006 3:04 PM",
	"Jan 2, 2006, 3:04 PM",
}

// slashed matches d/m/y or m/d/y with / . or - and an optional time.
var slashed = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$`)

// Date parses a date or a date and time; loc is the zone of values that
// name none.
func Date(s string, order DateOrder, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	for _, l := range isoLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	m := slashed.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is not a date in a known form (e.g. 2024-03-31, 31/03/2024, 03/31/2024 or 31.03.2024)", s)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	y, _ := strconv.Atoi(m[3])
	if len(m[3]) == 2 {
		y += 2000
		if y > time.Now().Year()+20 {
			y -= 100
		}
	}
	day, month := a, b
	switch {
	case order == MonthFirst:
		day, month = b, a
	case order == DayFirst:
	case a > 12 && b <= 12:
	case b > 12 && a <= 12:
		day, month = b, a
	case a == b:
	default:
		return time.Time{}, fmt.Errorf("%q could be day-first or month-first: give the date order (dmy or mdy)", s)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, fmt.Errorf("%q is not a date: no month %d or day %d", s, month, day)
	}
	h, mi, sec := 0, 0, 0
	if m[4] != "" {
		h, _ = strconv.Atoi(m[4])
		mi, _ = strconv.Atoi(m[5])
		if m[6] != "" {
			sec, _ = strconv.Atoi(m[6])
		}
		switch strings.ToLower(m[7]) {
		case "pm":
			if h < 12 {
				h += 12
			}
		case "am":
			if h == 12 {
				h = 0
			}
		}
		if h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, fmt.Errorf("%q is not a time of day", s)
		}
	}
	t := time.Date(y, time.Month(month), day, h, mi, sec, 0, loc)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("%q is not a date: %s has no day %d", s, time.Month(month), day)
	}
	return t, nil
}

// OrderOf tells the date order of a column from its values: DayFirst when
// a value's first part exceeds 12, MonthFirst when its second does, and
// Unknown when no value decides. Values deciding both ways are an error.
func OrderOf(values []string) (DateOrder, error) {
	var dayFirst, monthFirst string
	for _, v := range values {
		m := slashed.FindStringSubmatch(strings.TrimSpace(v))
		if m == nil {
			continue
		}
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		switch {
		case a > 12 && b <= 12 && dayFirst == "":
			dayFirst = v
		case b > 12 && a <= 12 && monthFirst == "":
			monthFirst = v
		}
	}
	switch {
	case dayFirst != "" && monthFirst != "":
		return Unknown, fmt.Errorf("the column mixes day-first (%q) and month-first (%q) dates", dayFirst, monthFirst)
	case dayFirst != "":
		return DayFirst, nil
	case monthFirst != "":
		return MonthFirst, nil
	}
	return Unknown, nil
}

// moneyClean strips what surrounds an amount: currency signs and codes,
// spaces (also the narrow and non-breaking ones thousands are grouped by)
// and apostrophes.
var moneyClean = strings.NewReplacer("$", "", "€", "", "£", "", "¥", "", "\u00a0", "", "\u202f", "", " ", "", "'", "")

// currencyCode is a leading or trailing ISO currency code, apart from the
// amount by a space.
var currencyCode = regexp.MustCompile(`^(?:([A-Za-z]{3})\s+)?(.*?)(?:\s+([A-Za-z]{3}))?$`)

// Money parses an amount of money into cents, with the currency code the
// cell names ("" when none). Thousands may be grouped by commas, dots,
// spaces or apostrophes; the decimal mark is the last comma or dot
// followed by one or two digits. Negative amounts (-5, (5)) are refused
// unless negative is true.
func Money(s string, negative bool) (cents int64, currency string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "", errors.New("empty amount")
	}
	m := currencyCode.FindStringSubmatch(s)
	body := s
	if m != nil {
		body = m[2]
		switch {
		case m[1] != "" && m[3] != "":
			return 0, "", fmt.Errorf("%q names two currencies", s)
		case m[1] != "":
			currency = strings.ToUpper(m[1])
		case m[3] != "":
			currency = strings.ToUpper(m[3])
		}
	}
	body = moneyClean.Replace(body)
	neg := false
	if strings.HasPrefix(body, "(") && strings.HasSuffix(body, ")") {
		neg, body = true, body[1:len(body)-1]
	}
	if strings.HasPrefix(body, "-") {
		neg, body = !neg, body[1:]
	} else if strings.HasPrefix(body, "+") {
		body = body[1:]
	}
	if body == "" {
		return 0, "", fmt.Errorf("%q is not an amount", s)
	}
	// The decimal mark: the last , or . with at most two digits after it.
	intPart, frac := body, ""
	if i := strings.LastIndexAny(body, ".,"); i >= 0 && len(body)-i-1 <= 2 && len(body)-i-1 > 0 {
		intPart, frac = body[:i], body[i+1:]
	}
	// Thousands separators: one kind, in groups of three.
	if strings.ContainsAny(intPart, ".,") {
		sep := ","
		if strings.Contains(intPart, ".") {
			sep = "."
		}
		groups := strings.Split(intPart, sep)
		for i, g := range groups {
			if (i > 0 && len(g) != 3) || (i == 0 && (len(g) == 0 || len(g) > 3)) || strings.ContainsAny(g, ".,") {
				return 0, "", fmt.Errorf("%q is not an amount: its digits are grouped oddly", s)
			}
		}
		intPart = strings.Join(groups, "")
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return 0, "", fmt.Errorf("%q is not an amount", s)
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok || !n.IsInt64() || n.Int64() > math.MaxInt64/100 {
		return 0, "", fmt.Errorf("%q is too large an amount", s)
	}
	cents = n.Int64()
	if neg && cents != 0 {
		if !negative {
			return 0, "", fmt.Errorf("%q is negative: amounts here are zero or more", s)
		}
		cents = -cents
	}
	return cents, currency, nil
}

// Number parses a plain number, with a decimal point or comma.
func Number(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if strings.Count(t, ",") == 1 && !strings.Contains(t, ".") {
		t = strings.Replace(t, ",", ".", 1)
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// Percent parses a probability: 0.25, 25% or 25 (read as percent when
// above 1), into 0 to 1.
func Percent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	f, err := Number(strings.TrimSuffix(t, "%"))
	if err != nil {
		return 0, fmt.Errorf("%q is not a probability", s)
	}
	if pct || f > 1 {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("%q is not a probability between 0 and 100%%", s)
	}
	return f, nil
}

// Bool parses yes/no answers as spreadsheets and CRMs write them.
func Bool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "x", "on", "ja", "oui", "sí", "si":
		return true, nil
	case "false", "no", "n", "0", "off", "nein", "non":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", s)
}

// Email checks one email address and returns it trimmed, without a
// display name ("Ann <ann@example.com>" gives ann@example.com).
func Email(s string) (string, error) {
	t := strings.TrimSpace(s)
	a, err := mail.ParseAddress(t)
	if err != nil || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") || len(a.Address) > 320 {
		return "", fmt.Errorf("%q is not an email address", s)
	}
	return a.Address, nil
}

// Domain is the domain an email address or a web address names, lower
// case and without www.: the key contacts are linked to organizations by.
func Domain(s string) string {
	t := strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		t = t[i+1:]
	}
	t = strings.TrimPrefix(strings.TrimPrefix(t, "https://"), "http://")
	if i := strings.IndexAny(t, "/?#:"); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimSuffix(strings.TrimPrefix(t, "www."), ".")
	if !strings.Contains(t, ".") || strings.ContainsAny(t, " \t<>\"") {
		return ""
	}
	return t
}

// Phone reduces a phone number to the digits that identify it, with a
// leading + kept: the key duplicates are found by.
func Phone(s string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	if b.Len() < 5 {
		return ""
	}
	return b.String()
}
