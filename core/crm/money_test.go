package crm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Money
	}{
		{"0", 0}, {"12", 1200}, {"12.5", 1250}, {"12.05", 1205}, {"-3.5", -350},
		{"+7.25", 725}, {" 1 ", 100}, {"1000000000000000", 100_000_000_000_000_000},
	} {
		got, err := ParseMoney(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "-", "1.", ".5", "1.234", "1e3", "abc", "1,5", "10000000000000001", "--1", "1.2.3"} {
		if _, err := ParseMoney(in); !errors.Is(err, ErrMoney) {
			t.Errorf("ParseMoney(%q) = %v, want ErrMoney", in, err)
		}
	}
}

func TestMoneyString(t *testing.T) {
	for m, want := range map[Money]string{0: "0.00", 5: "0.05", -5: "-0.05", 123456: "1234.56", -100: "-1.00"} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d).String() = %s, want %s", int64(m), got, want)
		}
	}
}

func TestUnmarshalGQL(t *testing.T) {
	for _, c := range []struct {
		in   any
		want Money
		ok   bool
	}{
		{12.5, 1250, true}, {int64(3), 300, true}, {3, 300, true}, {json.Number("0.1"), 10, true},
		{"19.99", 1999, true}, {0.1 + 0.2, 30, true}, // float noise below a cent is rounded away
		{1.005, 0, false}, {"x", 0, false}, {true, 0, false},
	} {
		var m Money
		err := m.UnmarshalGQL(c.in)
		if (err == nil) != c.ok || (c.ok && m != c.want) {
			t.Errorf("UnmarshalGQL(%v) = %d, %v", c.in, m, err)
		}
	}
}

// FuzzParseMoney checks that ParseMoney never panics and that every amount
// it accepts prints back to a string that parses to the same amount.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"0", "-1.5", "12.34", "1.", "9999999999999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s)
		if err != nil {
			return
		}
		back, err := ParseMoney(m.String())
		if err != nil || back != m {
			t.Fatalf("%q → %d → %q → %d, %v", s, m, m.String(), back, err)
		}
		if strings.Count(m.String(), ".") != 1 {
			t.Fatalf("String() = %q", m.String())
		}
	})
}
