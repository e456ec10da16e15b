package valuechain_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/rapportcrm/rapport/plugins/valuechain"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

var nan = math.NaN()

// fixture is a small book of customers whose stages, significance and
// quadrants were worked out by hand below.
//
//	   orders margin  first last  pipeline  employees  stage       why
//	A  8      50,000  900   20    200,000   500        loyal       ≥ 5 orders, first ≥ 365 days ago, last ≤ 365
//	B  3      30,000  200   10    0         20         repeat      2–4 orders
//	C  1      2,000   30    30    500,000   2,000      first_time  one order
//	D  6      8,000   400   400   0         –          lapsed      last order 400 > 365 days ago
//	E  0      –       –     –     10,000    –          prospect    no order
//	F  2      −500    100   50    0         –          repeat      2 orders
//	G  5      12,000  300   5     0         50         repeat      5 orders but first only 300 < 365 days ago
//	H  12     40,000  1000  100   0         0          loyal
var fixture = []valuechain.Customer{
	{ID: "A", Orders: 8, Margin: 50000, DaysSinceFirst: 900, DaysSinceLast: 20, OpenPipeline: 200000, Employees: 500},
	{ID: "B", Orders: 3, Margin: 30000, DaysSinceFirst: 200, DaysSinceLast: 10, OpenPipeline: 0, Employees: 20},
	{ID: "C", Orders: 1, Margin: 2000, DaysSinceFirst: 30, DaysSinceLast: 30, OpenPipeline: 500000, Employees: 2000},
	{ID: "D", Orders: 6, Margin: 8000, DaysSinceFirst: 400, DaysSinceLast: 400, OpenPipeline: 0, Employees: nan},
	{ID: "E", Orders: 0, Margin: nan, DaysSinceFirst: nan, DaysSinceLast: nan, OpenPipeline: 10000, Employees: nan},
	{ID: "F", Orders: 2, Margin: -500, DaysSinceFirst: 100, DaysSinceLast: 50, OpenPipeline: 0, Employees: nan},
	{ID: "G", Orders: 5, Margin: 12000, DaysSinceFirst: 300, DaysSinceLast: 5, OpenPipeline: 0, Employees: 50},
	{ID: "H", Orders: 12, Margin: 40000, DaysSinceFirst: 1000, DaysSinceLast: 100, OpenPipeline: 0, Employees: 0},
}

var wantStage = map[string]valuechain.Stage{
	"A": valuechain.Loyal, "B": valuechain.Repeat, "C": valuechain.FirstTime, "D": valuechain.Lapsed,
	"E": valuechain.Prospect, "F": valuechain.Repeat, "G": valuechain.Repeat, "H": valuechain.Loyal,
}

func TestStageOf(t *testing.T) {
	cfg := valuechain.DefaultConfig()
	for _, c := range fixture {
		if got := valuechain.StageOf(c, cfg); got != wantStage[c.ID] {
			t.Errorf("%s: %s, want %s", c.ID, got, wantStage[c.ID])
		}
	}
	// Boundaries: exactly LapsedDays is not lapsed; exactly LoyalOrders and
	// LoyalTenureDays is loyal; a missing order count is a prospect.
	for _, c := range []struct {
		c    valuechain.Customer
		want valuechain.Stage
	}{
		{valuechain.Customer{Orders: 3, DaysSinceLast: 365, DaysSinceFirst: 500}, valuechain.Repeat},
		{valuechain.Customer{Orders: 3, DaysSinceLast: 365.5, DaysSinceFirst: 500}, valuechain.Lapsed},
		{valuechain.Customer{Orders: 5, DaysSinceLast: 1, DaysSinceFirst: 365}, valuechain.Loyal},
		{valuechain.Customer{Orders: nan, DaysSinceLast: 1}, valuechain.Prospect},
		{valuechain.Customer{Orders: 1, DaysSinceLast: nan, DaysSinceFirst: nan}, valuechain.FirstTime},
	} {
		if got := valuechain.StageOf(c.c, cfg); got != c.want {
			t.Errorf("%+v: %s, want %s", c.c, got, c.want)
		}
	}
}

// wantSignificance was computed apart from the code (a desk calculator
// on the formula of Significance, default caps and weights 0.5/0.3/0.2):
// A: pipeline ln(200,001)/ln(1,000,001) = 0.883505, size ln(501)/ln(10,001)
// = 0.674952, recency e^(−20/180) = 0.894839, so 0.5·0.883505 +
// 0.3·0.674952 + 0.2·0.894839 = 0.823206; and likewise for the rest.
var wantSignificance = map[string]float64{
	"A": 0.823206, "B": 0.288357, "C": 0.891801, "D": 0.021674,
	"E": 0.333337, "F": 0.151493, "G": 0.322587, "H": 0.114751,
}

func TestSignificance(t *testing.T) {
	cfg := valuechain.DefaultConfig()
	for _, c := range fixture {
		if got := valuechain.Significance(c, cfg); math.Abs(got-wantSignificance[c.ID]) > 5e-7 {
			t.Errorf("%s: %.7f, want %.6f", c.ID, got, wantSignificance[c.ID])
		}
	}
}

// TestPortfolio: the seven customers with orders, by margin, are A 50,000,
// H 40,000, B 30,000, G 12,000, D 8,000, C 2,000, F −500; the median is
// the fourth, 12,000. High profitability: A, H, B, G. High significance
// (≥ 0.5): A and C. So A is strategic; H, B and G profitable; C develop;
// D and F rationalise. E, a prospect, is not placed.
func TestPortfolio(t *testing.T) {
	placed, threshold := valuechain.Portfolio(fixture, valuechain.DefaultConfig())
	if threshold != 12000 {
		t.Errorf("threshold %v, want the median 12,000", threshold)
	}
	var got [][2]string
	for _, p := range placed {
		got = append(got, [2]string{p.ID, string(p.Quadrant)})
	}
	want := [][2]string{{"A", "strategic"}, {"H", "profitable"}, {"B", "profitable"}, {"G", "profitable"}, {"D", "rationalise"}, {"C", "develop"}, {"F", "rationalise"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("placements %v, want %v", got, want)
	}
	// A configured threshold of 35,000 leaves only A and H highly
	// profitable: B and G drop to rationalise.
	cfg := valuechain.DefaultConfig()
	th := 35000.0
	cfg.ProfitThreshold = &th
	placed, _ = valuechain.Portfolio(fixture, cfg)
	q := map[string]valuechain.Quadrant{}
	for _, p := range placed {
		q[p.ID] = p.Quadrant
	}
	if q["B"] != valuechain.Rationalise || q["G"] != valuechain.Rationalise || q["H"] != valuechain.Profitable {
		t.Errorf("with threshold 35,000: %v", q)
	}
}

// batch turns customers into the batch the host sends, IDs included.
func batch(subject string, cs []valuechain.Customer) sdk.Batch {
	b := sdk.Batch{SubjectType: subject, Count: len(cs)}
	cols := map[string][]float64{}
	names := []string{"order_count", "order_margin", "days_since_first_order", "days_since_last_order", "open_pipeline", "employees"}
	for _, c := range cs {
		b.IDs = append(b.IDs, c.ID)
		for i, v := range []float64{c.Orders, c.Margin, c.DaysSinceFirst, c.DaysSinceLast, c.OpenPipeline, c.Employees} {
			cols[names[i]] = append(cols[names[i]], v)
		}
	}
	for _, n := range names {
		b.Columns = append(b.Columns, sdk.Column{Name: n, Numbers: cols[n]})
	}
	return b
}

type ctx struct{}

func (ctx) Config() []byte      { return nil }
func (ctx) Log(level, m string) {}

func TestSegment(t *testing.T) {
	resp, err := valuechain.Segment(ctx{}, &sdk.SegmentRequest{Batch: batch("organization", fixture)})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range fixture {
		if got := resp.Of(i); len(got) != 1 || got[0] != string(wantStage[c.ID]) {
			t.Errorf("%s: %v, want [%s]", c.ID, got, wantStage[c.ID])
		}
	}
}

// TestReport checks the report's figures on the fixture, split between an
// organization and a contact batch, with these activities:
//
//	kind     count  minutes  hours   cost (60/h)
//	call     40     15       10      600   primary
//	email    120    5        10      600   primary
//	meeting  10     60       10      600   primary
//	note     30     3        1.5     90    support
//	task     20     10       3.333   200   support
//
// Total 2,090, primary 1,800: 86.1 %. Margins: strategic 50,000 of
// 141,500 in all (35.3 %); profitable 82,000; develop 2,000; rationalise
// 7,500.
func TestReport(t *testing.T) {
	// Z belongs to an organization: it buys for it and is not a customer
	// of its own, so its large margin changes nothing below.
	contacts := batch("contact", append(append([]valuechain.Customer{}, fixture[4:]...),
		valuechain.Customer{ID: "Z", Orders: 10, Margin: 1e6, DaysSinceFirst: 900, DaysSinceLast: 1, OpenPipeline: 0, Employees: nan}))
	contacts.Columns = append(contacts.Columns, sdk.Column{Name: "has_organization", Numbers: []float64{0, 0, 0, nan, 1}})
	req := &sdk.ReportRequest{
		Batches: []sdk.Batch{batch("organization", fixture[:4]), contacts},
		Metrics: []sdk.Series{{Name: valuechain.ActivitiesMetric, Labels: []string{"call", "email", "meeting", "note", "task"}, Values: []float64{40, 120, 10, 30, 20}}},
	}
	r, err := valuechain.Report(ctx{}, req)
	if err != nil {
		t.Fatal(err)
	}
	kpi := map[string]float64{}
	tables := map[string]sdk.Table{}
	for _, s := range r.Sections {
		for _, k := range s.KPIs {
			kpi[s.Key+"."+k.Key] = k.Value
		}
		for _, tb := range s.Tables {
			tables[s.Key+"."+tb.Key] = tb
		}
	}
	for k, want := range map[string]float64{
		"portfolio.customers_placed":       7,
		"portfolio.profit_threshold":       12000,
		"portfolio.strategic_share":        100.0 / 7,
		"portfolio.strategic_margin_share": 100 * 50000.0 / 141500,
		"lifecycle.customers":              7,
		"lifecycle.returning_share":        100 * 5.0 / 7, // B, F, G repeat; A, H loyal
		"lifecycle.lapsed_share":           100 * 1.0 / 7,
		"activities.cost":                  2090,
		"activities.primary_share":         100 * 1800.0 / 2090,
		"activities.hours":                 34.5 + 1.0/3,
	} {
		if math.Abs(kpi[k]-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, kpi[k], want)
		}
	}
	q := tables["portfolio.quadrants"]
	wantRows := [][]string{
		{"strategic", "1", "50000.00"}, {"profitable", "3", "82000.00"}, {"develop", "1", "2000.00"}, {"rationalise", "2", "7500.00"},
	}
	for i, w := range wantRows {
		if !reflect.DeepEqual(q.Rows[i][:3], w) {
			t.Errorf("quadrant row %d: %v, want %v", i, q.Rows[i][:3], w)
		}
	}
	st := tables["lifecycle.stages"]
	wantStages := [][]string{{"prospect", "1"}, {"first_time", "1"}, {"repeat", "3"}, {"loyal", "2"}, {"lapsed", "1"}}
	for i, w := range wantStages {
		if !reflect.DeepEqual(st.Rows[i][:2], w) {
			t.Errorf("stage row %d: %v, want %v", i, st.Rows[i][:2], w)
		}
	}
	if got := len(tables["portfolio.customers"].Rows); got != 7 {
		t.Errorf("%d customers listed, want 7", got)
	}
}

func loadManifest(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load("plugin.json")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManifestDefaultsAreTheCodes: the defaults plugin.json documents are
// the ones the code applies when a binding gives no configuration.
func TestManifestDefaultsAreTheCodes(t *testing.T) {
	raw, err := pluginkit.DefaultConfig(loadManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	var fromManifest valuechain.Config
	if err := json.Unmarshal(raw, &fromManifest); err != nil {
		t.Fatal(err)
	}
	if want := valuechain.DefaultConfig(); !reflect.DeepEqual(fromManifest, want) {
		t.Errorf("manifest defaults %+v\ncode defaults %+v", fromManifest, want)
	}
}

func TestConformance(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(loadManifest(t), valuechain.Plugin))
}
