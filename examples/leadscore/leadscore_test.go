package leadscore_test

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/extension/build"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/examples/leadscore"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

type hostContext struct{ config []byte }

func (c hostContext) Config() []byte      { return c.config }
func (c hostContext) Log(level, m string) {}

var (
	moduleOnce sync.Once
	module     *wasm.Module
	moduleErr  error
)

// wasmModule builds this example with `rapport plugin build`'s code and
// loads it, once.
func wasmModule(tb testing.TB) *wasm.Module {
	tb.Helper()
	moduleOnce.Do(func() {
		path, err := build.Build(context.Background(), build.Options{Dir: "."})
		if err != nil {
			moduleErr = err
			return
		}
		code, err := os.ReadFile(path)
		if err != nil {
			moduleErr = err
			return
		}
		e, err := wasm.NewEngine(wasm.Config{})
		if err != nil {
			moduleErr = err
			return
		}
		module, moduleErr = e.Load(context.Background(), "leadscore@1.0.0", code, wasm.Limits{Timeout: time.Minute}, wasm.Grants{})
	})
	if moduleErr != nil {
		tb.Fatal(moduleErr)
	}
	return module
}

// TestHandComputed checks leads against arithmetic done by hand (a
// calculator's ln and e^x).
func TestHandComputed(t *testing.T) {
	// estimated_value 999,999 → ln(10⁶)/ln(1+10⁶) = 0.99999993 → ×20 = 19.9999986
	// source referral → 1 ×15 = 15; status contacted → 0.6 ×20 = 12
	// email, phone yes, company no → 5 + 5 + 0 = 10
	// activity 5 → (1 − e⁻¹) ×5 = 3.1606028; age 0 → e⁰ ×10 = 10
	// budget 999 → ln(1000)/ln(1+10⁶) = 6.9077553/13.8155116 = 0.49999996 → ×10 = 4.9999996
	// calls 2 → (1 − e^(−2/2)) ×5 = 3.1606028
	// total 19.9999986 + 15 + 12 + 10 + 3.1606028 + 10 + 4.9999996 + 3.1606028 = 78.3212038 → "hot"
	l := leadscore.Lead{EstimatedValue: 999_999, Source: "referral", Status: "contacted", HasEmail: 1, HasPhone: 1, ActivityCount: 5, Budget: 999, Calls: 2}
	var c [leadscore.NumFactors]float64
	v := leadscore.ScoreLead(&l, &c)
	if math.Abs(v-78.3212038) > 1e-6 || math.Abs(c[8]-4.9999996) > 1e-6 || math.Abs(c[9]-3.1606028) > 1e-6 {
		t.Errorf("score = %.7f (budget %.7f, calls %.7f), want 78.3212038 (4.9999996, 3.1606028)", v, c[8], c[9])
	}
	// The same lead without a budget (the custom field not defined, or
	// not set): 78.3212038 − 4.9999996 = 73.3212042, still "hot".
	l.Budget = math.NaN()
	if v := leadscore.ScoreLead(&l, &c); math.Abs(v-73.3212042) > 1e-6 || c[8] != 0 {
		t.Errorf("no budget: score = %.7f, budget factor %v; want 73.3212042 and 0", v, c[8])
	}
	// Nothing known: value 0, source 0.3×15 = 4.5, status 0.3×20 = 6,
	// flags 0, activity 0, recency 0.5×10 = 5, budget 0, calls 0 → 15.5 "cold".
	nan := math.NaN()
	empty := leadscore.Lead{EstimatedValue: nan, HasEmail: nan, HasPhone: nan, HasCompany: nan, ActivityCount: nan, AgeDays: nan, Budget: nan, Calls: nan}
	if v := leadscore.ScoreLead(&empty, &c); v != 15.5 {
		t.Errorf("empty lead = %v, want 15.5", v)
	}
}

// TestBatchReadsDeclaredColumns scores the hand-computed lead through
// Score, with the declared inputs in columns named as plugin.json names
// them, and with them absent (a host that sends no such column: NaN).
func TestBatchReadsDeclaredColumns(t *testing.T) {
	col := func(name string, v float64) sdk.Column { return sdk.Column{Name: name, Numbers: []float64{v}} }
	cat := func(name, v string) sdk.Column {
		return sdk.Column{Name: name, Codes: []uint32{0}, Dictionary: []string{v}}
	}
	base := []sdk.Column{col("estimated_value", 999_999), cat("source", "referral"), cat("status", "contacted"),
		col("has_email", 1), col("has_phone", 1), col("has_company", 0), col("activity_count", 5), col("age_days", 0)}
	for _, c := range []struct {
		extra []sdk.Column
		want  float64
	}{
		{[]sdk.Column{col("budget", 999), col("calls", 2)}, 78.3212038},
		{[]sdk.Column{col("budget", math.NaN()), col("calls", 2)}, 73.3212042},
		{nil, 70.1606014}, // 78.3212038 − 4.9999996 − 3.1606028
	} {
		req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead", Count: 1, Columns: append(append([]sdk.Column{}, base...), c.extra...)}}
		resp, err := leadscore.Score(hostContext{}, req)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(resp.Values[0]-c.want) > 1e-6 || len(resp.FactorNames) != leadscore.NumFactors || resp.Label(0) != "hot" {
			t.Errorf("%d extra columns: %v %q, want %v hot", len(c.extra), resp.Values[0], resp.Label(0), c.want)
		}
	}
}

// TestWASMMatchesNative scores the same leads natively and through the
// WASM build of the same source. Labels must be identical; values and
// contributions equal to 1e-12 relative: Go's math.Exp and math.Log1p use
// assembly on amd64 and portable Go on wasm, which differ in the last bit.
func TestWASMMatchesNative(t *testing.T) {
	leads := leadscore.Synthetic(10_000)
	req := leadscore.NewColumns(len(leads)).Fill(leads)
	req.Config = []byte(`{"hot": 60, "warm": 30}`)
	native, err := leadscore.Score(hostContext{req.Config}, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wasmModule(t).Score(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i := range leads {
		var c [leadscore.NumFactors]float64
		direct := leadscore.ScoreLead(&leads[i], &c)
		if !close(got.Values[i], native.Values[i]) || native.Values[i] != direct || got.Label(i) != native.Label(i) {
			t.Fatalf("lead %d: wasm %v %q, native %v %q, direct %v", i, got.Values[i], got.Label(i), native.Values[i], native.Label(i), direct)
		}
		for f := 0; f < leadscore.NumFactors; f++ {
			if !close(got.Contribution(i, f), c[f]) || native.Contribution(i, f) != c[f] {
				t.Fatalf("lead %d factor %d: %v vs %v", i, f, got.Contribution(i, f), c[f])
			}
		}
	}
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

const benchLeads = 1_000_000

var (
	benchOnce sync.Once
	benchData []leadscore.Lead
)

func leadsForBench() []leadscore.Lead {
	benchOnce.Do(func() { benchData = leadscore.Synthetic(benchLeads) })
	return benchData
}

// BenchmarkNative is the physical limit: ScoreLead called directly on Go
// values, with the explanation, no encoding. One op scores 1,000,000 leads.
func BenchmarkNative(b *testing.B) {
	leads := leadsForBench()
	values := make([]float64, len(leads))
	contrib := make([][leadscore.NumFactors]float64, len(leads))
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for i := range leads {
			values[i] = leadscore.ScoreLead(&leads[i], &contrib[i])
		}
	}
	b.ReportMetric(float64(b.N*len(leads))/time.Since(start).Seconds(), "leads/s")
}

// BenchmarkWASM scores the same 1,000,000 leads through the WASM module in
// batches: columnar encoding on the host, the call, and decoding the
// answer are all inside the timing.
func BenchmarkWASM(b *testing.B) {
	leads := leadsForBench()
	m := wasmModule(b)
	ctx := context.Background()
	for _, batch := range []int{100, 1000, 10_000} {
		b.Run("batch="+itoa(batch), func(b *testing.B) {
			cols := leadscore.NewColumns(batch)
			start := time.Now()
			for b.Loop() {
				for lo := 0; lo < len(leads); lo += batch {
					resp, err := m.Score(ctx, cols.Fill(leads[lo:min(lo+batch, len(leads))]))
					if err != nil {
						b.Fatal(err)
					}
					_ = resp.Values[0]
				}
			}
			b.ReportMetric(float64(b.N*len(leads))/time.Since(start).Seconds(), "leads/s")
		})
	}
}

// BenchmarkWASMEmptyBatch is the fixed cost of one pooled call.
func BenchmarkWASMEmptyBatch(b *testing.B) {
	m := wasmModule(b)
	req := &sdk.ScoreRequest{Batch: sdk.Batch{SubjectType: "lead"}}
	ctx := context.Background()
	for b.Loop() {
		if _, err := m.Score(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(n int) string {
	s := ""
	for n >= 10 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return string(rune('0'+n)) + s
}

// TestConformance runs the conformance kit on the scorer natively: it
// sends the declared inputs as their kinds under their names (budget an
// amount, calls whole numbers), missing values included.
func TestConformance(t *testing.T) {
	m, err := manifest.Load("plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	pluginkit.Run(t, pluginkit.Native(m, leadscore.Plugin))
}
