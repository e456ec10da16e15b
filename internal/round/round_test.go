package round

import (
	"math"
	"testing"
)

func TestDecimals(t *testing.T) {
	for _, c := range []struct {
		v    float64
		n    int
		want float64
	}{
		{548.5500000000001, 2, 548.55},
		{0.30000000000000004, 2, 0.3},
		{1.005, 2, 1.01}, // as written, not 1.00 from 100.49999999999999
		{-1.005, 2, -1.01},
		{0.125, 2, 0.13}, // halves away from zero
		{-0.125, 2, -0.13},
		{2.5, 0, 3},
		{-2.5, 0, -3},
		{0.5, 0, 1},
		{0.49, 0, 0},
		{0.006, 2, 0.01},
		{0.004, 2, 0},
		{0.0006, 2, 0},
		{999.996, 2, 1000},
		{-999.995, 2, -1000},
		{12, 2, 12},
		{1e20, 2, 1e20},
		{1234.5678, 1, 1234.6},
		{0, 2, 0},
	} {
		if got := Decimals(c.v, c.n); got != c.want {
			t.Errorf("Decimals(%v, %d) = %v, want %v", c.v, c.n, got, c.want)
		}
	}
}

func TestMeasureAndMoney(t *testing.T) {
	for _, c := range []struct {
		name    string
		f       func(float64) float64
		v, want float64
	}{
		{"score noise", Measure, 28.09917355371901, 28.0992},
		{"third", Measure, 1.0 / 3, 0.333333},
		{"two thirds", Measure, 2.0 / 3, 0.666667},
		{"negative", Measure, -28.09917355371901, -28.0992},
		{"small", Measure, 0.007974140428903741, 0.00797414},
		{"whole units kept", Measure, 1234567.891, 1234568},
		{"half at the sixth digit", Measure, 1.000005, 1.00001},
		{"negative half", Measure, -0.1234565, -0.123457},
		{"integer", Measure, 42, 42},
		{"exact", Measure, 0.25, 0.25},
		{"money noise", Money, 548.5500000000001, 548.55},
		{"money negative", Money, -20.004999, -20},
		{"money half", Money, 10.125, 10.13},
		{"money large", Money, 1234567.891, 1234567.89},
		{"unit money", func(v float64) float64 { return Unit(v, "money") }, 12345.678, 12345.68},
		{"unit percent", func(v float64) float64 { return Unit(v, "percent") }, 12345.678, 12345.7},
	} {
		if got := c.f(c.v); got != c.want {
			t.Errorf("%s: %v → %v, want %v", c.name, c.v, got, c.want)
		}
	}
}

func TestNotFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for _, got := range []float64{Measure(v), Money(v), Decimals(v, 3)} {
			if !(math.IsNaN(v) && math.IsNaN(got)) && got != v {
				t.Errorf("%v rounded to %v", v, got)
			}
		}
	}
	if Ptr(nil) != nil {
		t.Error("Ptr(nil) is not nil")
	}
	v := 28.09917355371901
	if p := Ptr(&v); *p != 28.0992 || v != 28.09917355371901 {
		t.Errorf("Ptr: %v, original %v", *p, v)
	}
}
