package value

import (
	"strings"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	utc := time.UTC
	d := func(y int, m time.Month, day, h, mi, s int, loc *time.Location) time.Time {
		return time.Date(y, m, day, h, mi, s, 0, loc)
	}
	cases := []struct {
		in    string
		order DateOrder
		loc   *time.Location
		want  time.Time
		err   string
	}{
		{"2024-03-31", Unknown, utc, d(2024, 3, 31, 0, 0, 0, utc), ""},
		{"2024-03-31T14:05:09Z", Unknown, berlin, d(2024, 3, 31, 14, 5, 9, utc), ""},
		{"2024-03-31T14:05:09.000+0000", Unknown, berlin, d(2024, 3, 31, 14, 5, 9, utc), ""},
		{"2024-03-31 14:05", Unknown, berlin, d(2024, 3, 31, 14, 5, 0, berlin), ""},
		{"2024-03-31 14:05:09 +0200", Unknown, utc, d(2024, 3, 31, 12, 5, 9, utc), ""},
		{"Mar 31, 2024", Unknown, utc, d(2024, 3, 31, 0, 0, 0, utc), ""},
		{"31 March 2024", Unknown, utc, d(2024, 3, 31, 0, 0, 0, utc), ""},
		// Slashed dates: decided by the parts when they leave no doubt.
		{"31/03/2024", Unknown, utc, d(2024, 3, 31, 0, 0, 0, utc), ""},
		{"03/31/2024", Unknown, utc, d(2024, 3, 31, 0, 0, 0, utc), ""},
		{"31.03.2024 9:30", Unknown, utc, d(2024, 3, 31, 9, 30, 0, utc), ""},
		{"3/31/2024 2:15 PM", Unknown, utc, d(2024, 3, 31, 14, 15, 0, utc), ""},
		{"3/31/2024 12:15 am", Unknown, utc, d(2024, 3, 31, 0, 15, 0, utc), ""},
		{"05/05/24", Unknown, utc, d(2024, 5, 5, 0, 0, 0, utc), ""},
		// Else by the order given.
		{"03/04/2024", DayFirst, utc, d(2024, 4, 3, 0, 0, 0, utc), ""},
		{"03/04/2024", MonthFirst, utc, d(2024, 3, 4, 0, 0, 0, utc), ""},
		{"03/04/2024", Unknown, utc, time.Time{}, "day-first or month-first"},
		{"31/02/2024", DayFirst, utc, time.Time{}, "has no day 31"},
		{"13/13/2024", Unknown, utc, time.Time{}, "not a date"},
		{"3/31/2024 25:00", Unknown, utc, time.Time{}, "not a time"},
		{"yesterday", Unknown, utc, time.Time{}, "not a date in a known form"},
		{"", Unknown, utc, time.Time{}, "empty"},
	}
	for _, c := range cases {
		got, err := Date(c.in, c.order, c.loc)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Date(%q): %v, %v; want an error saying %q", c.in, got, err, c.err)
			}
		case err != nil:
			t.Errorf("Date(%q): %v", c.in, err)
		case !got.Equal(c.want):
			t.Errorf("Date(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestOrderOf(t *testing.T) {
	cases := []struct {
		values []string
		want   DateOrder
		err    bool
	}{
		{[]string{"03/04/2024", "25/12/2023"}, DayFirst, false},
		{[]string{"03/04/2024", "12/25/2023 10:00"}, MonthFirst, false},
		{[]string{"03/04/2024", "2024-05-01", ""}, Unknown, false},
		{[]string{"25/12/2023", "12/25/2023"}, Unknown, true},
	}
	for _, c := range cases {
		got, err := OrderOf(c.values)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("OrderOf(%q) = %v, %v; want %v, error %v", c.values, got, err, c.want, c.err)
		}
	}
}

func TestMoney(t *testing.T) {
	cases := []struct {
		in       string
		negative bool
		cents    int64
		currency string
		err      string
	}{
		{"1234", false, 123400, "", ""},
		{"1,234.56", false, 123456, "", ""},
		{"1.234,56", false, 123456, "", ""},
		{"1 234,5", false, 123450, "", ""},
		{"1\u202f234,50 €", false, 123450, "", ""},
		{"$12,000", false, 1200000, "", ""},
		{"12,5", false, 1250, "", ""},
		{"0.99", false, 99, "", ""},
		{"EUR 1.000", false, 100000, "EUR", ""},
		{"1,000.00 usd", false, 100000, "USD", ""},
		{"1'234.50 CHF", false, 123450, "CHF", ""},
		{"-5", true, -500, "", ""},
		{"(5.25)", true, -525, "", ""},
		{"-5", false, 0, "", "negative"},
		{"-0", false, 0, "", ""},
		{"1,23,4", false, 0, "", "grouped oddly"},
		{"12abc", false, 0, "", "not an amount"},
		{"USD 5 EUR", false, 0, "", "two currencies"},
		{"99999999999999999999", false, 0, "", "too large"},
		{"", false, 0, "", "empty"},
	}
	for _, c := range cases {
		cents, cur, err := Money(c.in, c.negative)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Money(%q): %d %q %v; want an error saying %q", c.in, cents, cur, err, c.err)
			}
		case err != nil:
			t.Errorf("Money(%q): %v", c.in, err)
		case cents != c.cents || cur != c.currency:
			t.Errorf("Money(%q) = %d %q, want %d %q", c.in, cents, cur, c.cents, c.currency)
		}
	}
}

func TestSmallParsers(t *testing.T) {
	if f, err := Number("2,5"); err != nil || f != 2.5 {
		t.Errorf("Number(2,5) = %v, %v", f, err)
	}
	if _, err := Number("NaN"); err == nil {
		t.Error("NaN taken as a number")
	}
	for in, want := range map[string]float64{"0.25": 0.25, "25%": 0.25, "25": 0.25, "1": 1, "100 %": 1} {
		if got, err := Percent(in); err != nil || got != want {
			t.Errorf("Percent(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Percent("150%"); err == nil {
		t.Error("150% taken as a probability")
	}
	for in, want := range map[string]bool{"Yes": true, "x": true, "0": false, "FALSE": false} {
		if got, err := Bool(in); err != nil || got != want {
			t.Errorf("Bool(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := Bool("maybe"); err == nil {
		t.Error("maybe taken as yes or no")
	}
	for in, want := range map[string]string{" ann@example.com ": "ann@example.com", "Ann Lee <ann@example.co.uk>": "ann@example.co.uk"} {
		if got, err := Email(in); err != nil || got != want {
			t.Errorf("Email(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"ann", "ann@localhost", "a@b@c.com", "=HYPERLINK(\"x\")", "ann@example.com, bo@example.com"} {
		if got, err := Email(bad); err == nil {
			t.Errorf("Email(%q) = %q, want an error", bad, got)
		}
	}
	for in, want := range map[string]string{
		"ann@Example.COM": "example.com", "https://www.acme.io/about": "acme.io", "acme.io.": "acme.io",
		"http://acme.io:8080": "acme.io", "localhost": "", "": "",
	} {
		if got := Domain(in); got != want {
			t.Errorf("Domain(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"+1 (555) 010-0199": "+15550100199", "0049 30 1234": "0049301234", "n/a": "", "12": ""} {
		if got := Phone(in); got != want {
			t.Errorf("Phone(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMoney checks Money against its own rendering: an amount it accepts
// is within int64 cents, and a plain rendering of it parses back the same.
func FuzzMoney(f *testing.F) {
	for _, s := range []string{"1,234.56", "(5)", "EUR 1.000", "1 234,5", "-0.01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, _, err := Money(s, true)
		if err != nil {
			return
		}
		neg := ""
		abs := c
		if c < 0 {
			neg, abs = "-", -c
		}
		plain := neg + formatCents(abs)
		back, _, err := Money(plain, true)
		if err != nil || back != c {
			t.Fatalf("Money(%q) = %d; its rendering %q gives %d, %v", s, c, plain, back, err)
		}
	})
}

func formatCents(c int64) string {
	s := strings.Repeat("0", 3) + itoa(c)
	ip := strings.TrimLeft(s[:len(s)-2], "0")
	if ip == "" {
		ip = "0"
	}
	return ip + "." + s[len(s)-2:]
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
