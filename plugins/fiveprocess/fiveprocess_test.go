package fiveprocess_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/plugins/fiveprocess"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

var nan = math.NaN()

const eps = 1e-9

// customers is the strategy fixture, three organizations then three
// contacts (active: an order or activity at most 90 days ago):
//
//	    segment      orders revenue margin  last order  last activity  active
//	O1  enterprise   4      40,000  12,000  30          10             yes
//	O2  enterprise   2      20,000  6,000   200         120            no
//	O3  smb          1      5,000   1,000   60          –              yes
//	C1  smb          0      –       –       –           5              yes
//	C2  –            1      15,000  1,000   400         100            no
//	C3  smb          3      20,000  4,000   95          91             no
//
// Revenue 100,000, margin 24,000 over 6 customers: a mean margin per
// customer of 4,000. With weights size 0.4, margin 0.4, activity 0.2:
//
//	enterprise   2 customers, revenue share 0.6, margin 18,000 → 9,000 per
//	             customer, 9,000 / 4,000 = 2.25, / 2 = 1.125 → 1; active 1/2;
//	             100 × (0.4 × 0.6 + 0.4 × 1 + 0.2 × 0.5) = 74
//	smb          3 customers, revenue share 0.25, margin 5,000 → 1,666.67,
//	             / 4,000 = 0.416667, / 2 = 0.208333; active 2/3;
//	             100 × (0.1 + 0.083333 + 0.133333) = 31.6667
//	unsegmented  1 customer, revenue share 0.15, margin 1,000, / 4,000 =
//	             0.25, / 2 = 0.125; active 0; 100 × (0.06 + 0.05) = 11
var customers = []fiveprocess.Customer{
	{Segment: "enterprise", Orders: 4, Revenue: 40000, Margin: 12000, DaysSinceLastOrder: 30, DaysSinceLastActivity: 10},
	{Segment: "enterprise", Orders: 2, Revenue: 20000, Margin: 6000, DaysSinceLastOrder: 200, DaysSinceLastActivity: 120},
	{Segment: "smb", Orders: 1, Revenue: 5000, Margin: 1000, DaysSinceLastOrder: 60, DaysSinceLastActivity: nan},
	{Segment: "smb", Orders: 0, Revenue: nan, Margin: nan, DaysSinceLastOrder: nan, DaysSinceLastActivity: 5},
	{Segment: "", Orders: 1, Revenue: 15000, Margin: 1000, DaysSinceLastOrder: 400, DaysSinceLastActivity: 100},
	{Segment: "smb", Orders: 3, Revenue: 20000, Margin: 4000, DaysSinceLastOrder: 95, DaysSinceLastActivity: 91},
}

func TestSegments(t *testing.T) {
	got := fiveprocess.Segments(customers, fiveprocess.DefaultConfig())
	want := []struct {
		key                        string
		customers, buyers, active  int
		revenue, margin, mpc, attr float64
	}{
		{"enterprise", 2, 2, 1, 60000, 18000, 9000, 74},
		{"smb", 3, 2, 2, 25000, 5000, 5000.0 / 3, 100 * (0.1 + 0.4*(5000.0/3/4000/2) + 0.2*2/3)},
		{fiveprocess.Unsegmented, 1, 1, 0, 15000, 1000, 1000, 11},
	}
	if len(got) != len(want) {
		t.Fatalf("%d segments: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Key != w.key || g.Customers != w.customers || g.Buyers != w.buyers || g.Active != w.active ||
			g.Revenue != w.revenue || g.Margin != w.margin || math.Abs(g.MarginPerCustomer-w.mpc) > eps || math.Abs(g.Attractiveness-w.attr) > eps {
			t.Errorf("segment %d: %+v, want %+v", i, g, w)
		}
	}
	if math.Abs(got[1].Attractiveness-31.6667) > 5e-5 || got[0].MarginPart != 1 || got[1].RevenueShare != 0.25 {
		t.Errorf("smb %+v, enterprise %+v", got[1], got[0])
	}
	// Size alone: attractiveness is the revenue share × 100, so the order
	// stays enterprise 60, smb 25, unsegmented 15.
	cfg := fiveprocess.DefaultConfig()
	cfg.Weights = fiveprocess.Weights{Size: 1}
	got = fiveprocess.Segments(customers, cfg)
	if got[0].Attractiveness != 60 || got[1].Attractiveness != 25 || got[2].Attractiveness != 15 {
		t.Errorf("size alone: %+v", got)
	}
	// No positive margin overall: the margin part is 0 everywhere.
	got = fiveprocess.Segments([]fiveprocess.Customer{{Segment: "a", Margin: -5}, {Segment: "b", Margin: 0}}, fiveprocess.DefaultConfig())
	for _, s := range got {
		if s.MarginPart != 0 || math.IsNaN(s.Attractiveness) {
			t.Errorf("negative margins: %+v", s)
		}
	}
}

// TestEconomics: 10 + 20 + 30 = 60 new customers at 500 each: spend
// 30,000. Churn (0.1 + 0.2) / 2 = 0.15 (the missing period skipped):
// expected lifetime 1 / 0.15 = 6.667 periods. CLV is the predictive 2,000
// when known: CLV:CAC 2,000 / 500 = 4; the historical 1,200 alone gives
// 2.4.
func TestEconomics(t *testing.T) {
	k := func(v float64) fiveprocess.Figure { return fiveprocess.Figure{Value: v, Known: true} }
	e := fiveprocess.EconomicsOf(k(60), k(500), k(0.9), k(0.15), k(1200), k(2000))
	if e.AcquisitionSpend != k(30000) || math.Abs(e.ExpectedLifetime.Value-1/0.15) > eps || e.CLV != k(2000) || e.CLVToCAC != k(4) {
		t.Errorf("%+v", e)
	}
	e = fiveprocess.EconomicsOf(k(60), k(500), k(0.9), k(0), k(1200), fiveprocess.Figure{})
	if e.CLVToCAC != k(2.4) || e.ExpectedLifetime.Known {
		t.Errorf("historical CLV, no churn: %+v", e)
	}
	e = fiveprocess.EconomicsOf(fiveprocess.Figure{}, k(0), fiveprocess.Figure{}, fiveprocess.Figure{}, k(1200), fiveprocess.Figure{})
	if e.CLVToCAC.Known || e.AcquisitionSpend.Known {
		t.Errorf("no acquisition cost: %+v", e)
	}
}

// TestChannels: 10 + 30 + 50 + 10 + (missing) = 100 activities.
func TestChannels(t *testing.T) {
	got := fiveprocess.Channels([]string{"note", "call", "email", "meeting", "task"}, []float64{10, 30, 50, 10, nan})
	want := []fiveprocess.Channel{{"note", 10, 0.1}, {"call", 30, 0.3}, {"email", 50, 0.5}, {"meeting", 10, 0.1}, {"task", 0, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%+v, want %+v", got, want)
	}
}

// TestConversion, from metrics: leads web 50, referral 20, event 20,
// partner 10; converted referral 8, web 5, event 2, cold 1 (a source with
// no leads: rate 0). By leads, ties by source: web 5/50 = 0.1, event
// 2/20 = 0.1, referral 8/20 = 0.4, partner 0/10, cold 1/0 → 0.
//
// From leads: referral converted, converted, qualified (2/3); web new,
// converted (1/2); event new (0/1); no source, converted (1/1, as
// "unknown"); event and unknown tie at one lead and go by name.
func TestConversion(t *testing.T) {
	got := fiveprocess.ConversionFromMetrics(
		[]string{"web", "referral", "event", "partner"}, []float64{50, 20, 20, 10},
		[]string{"referral", "web", "event", "cold"}, []float64{8, 5, 2, 1})
	want := []fiveprocess.Conversion{{"web", 50, 5, 0.1}, {"event", 20, 2, 0.1}, {"referral", 20, 8, 0.4}, {"partner", 10, 0, 0}, {"cold", 0, 1, 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("from metrics %+v, want %+v", got, want)
	}
	got = fiveprocess.ConversionFromLeads(leads)
	want = []fiveprocess.Conversion{{"referral", 3, 2, 2.0 / 3}, {"web", 2, 1, 0.5}, {"event", 1, 0, 0}, {fiveprocess.UnknownSource, 1, 1, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("from leads %+v, want %+v", got, want)
	}
}

var leads = []fiveprocess.Lead{
	{"web", "new"}, {"web", "converted"}, {"referral", "converted"}, {"referral", "converted"},
	{"referral", "qualified"}, {"", "converted"}, {"event", "new"},
}

// TestInformation:
//
//	    email               phone               has email/phone/org  orders
//	K1  Ann.Lee+crm@X.com   +1 (415) 555-0100   1 1 1                0
//	K2  ann.lee@x.com       –                   1 0 0                2
//	K3  bob@y.com           415.555.0100        1 1 0                –
//	K4  –                   12345 (too short)   0 1 1                0
//	K5  cy@z.com            020 7946 0958       1 1 –                –
//	K6  dee@z.com           0044 20 7946 0958   1 1 0                0
//
// Shared after normalising: the email ann.lee@x.com (K1, K2), the phone
// 4155550100 (K1, K3), the phone 2079460958 (K5, K6): three shared
// values, five contacts of six (83.3 %). Email 5, phone 5, organization 2
// of 6: completeness 12 / 18 = 0.6667. Single view: K1 and K4 (an
// organization), K2 (orders): 3 of 6.
func TestInformation(t *testing.T) {
	in := fiveprocess.InformationOf([]fiveprocess.Contact{
		{Email: "Ann.Lee+crm@X.com", Phone: "+1 (415) 555-0100", HasEmail: 1, HasPhone: 1, HasOrganization: 1, Orders: 0},
		{Email: "ann.lee@x.com", HasEmail: 1, HasPhone: 0, HasOrganization: 0, Orders: 2},
		{Email: "bob@y.com", Phone: "415.555.0100", HasEmail: 1, HasPhone: 1, HasOrganization: 0, Orders: nan},
		{Phone: "12345", HasEmail: 0, HasPhone: 1, HasOrganization: 1, Orders: 0},
		{Email: "cy@z.com", Phone: "020 7946 0958", HasEmail: 1, HasPhone: 1, HasOrganization: nan, Orders: nan},
		{Email: "dee@z.com", Phone: "0044 20 7946 0958", HasEmail: 1, HasPhone: 1, HasOrganization: 0, Orders: 0},
	})
	if in.Contacts != 6 || in.WithEmail != 5 || in.WithPhone != 5 || in.WithOrganization != 2 ||
		math.Abs(in.Completeness-12.0/18) > eps || in.Duplicates != 5 || in.DuplicateGroups != 3 ||
		math.Abs(in.DuplicateRate-5.0/6) > eps || in.SingleView != 3 || in.SingleViewCoverage != 0.5 {
		t.Errorf("%+v", in)
	}
	if z := fiveprocess.InformationOf(nil); z.Completeness != 0 || z.DuplicateRate != 0 || z.SingleViewCoverage != 0 {
		t.Errorf("no contacts: %+v", z)
	}
}

// TestScorecard: retention 0.9 ≥ 0.85 met; churn 0.15 > 0.05 not met
// (lower is better); win rate 0.2 < 0.25 not met; CLV:CAC 4 ≥ 3 met;
// reply rate unknown: no data; completeness 0.6667 < 0.9 not met.
func TestScorecard(t *testing.T) {
	k := func(v float64) fiveprocess.Figure { return fiveprocess.Figure{Value: v, Known: true} }
	e := fiveprocess.EconomicsOf(k(60), k(500), k(0.9), k(0.15), k(1200), k(2000))
	info := fiveprocess.Information{Contacts: 6, Completeness: 12.0 / 18}
	var got []string
	for _, c := range fiveprocess.Scorecard(e, k(0.2), fiveprocess.Figure{}, info, fiveprocess.DefaultConfig()) {
		got = append(got, c.Key+" "+c.Status())
	}
	want := []string{"retention_rate met", "churn_rate not met", "win_rate not met", "clv_to_cac met", "reply_rate no data", "data_completeness not met"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	// At the target exactly is met, either way.
	if !(fiveprocess.Check{Value: 0.05, Target: 0.05, LowerIsBetter: true, Known: true}).Met() || !(fiveprocess.Check{Value: 3, Target: 3, Known: true}).Met() {
		t.Error("a figure at its target is not met")
	}
}

type ctx struct{}

func (ctx) Config() []byte      { return nil }
func (ctx) Log(level, m string) {}

func numbers(name string, v ...float64) sdk.Column { return sdk.Column{Name: name, Numbers: v} }

func texts(name string, v ...string) sdk.Column {
	c := sdk.Column{Name: name}
	seen := map[string]uint32{}
	for _, s := range v {
		if s == "" {
			c.Codes = append(c.Codes, sdk.Missing)
			continue
		}
		code, ok := seen[s]
		if !ok {
			code = uint32(len(c.Dictionary))
			seen[s] = code
			c.Dictionary = append(c.Dictionary, s)
		}
		c.Codes = append(c.Codes, code)
	}
	return c
}

// customerColumns are the strategy columns of customers[from:to].
func customerColumns(from, to int) []sdk.Column {
	var seg []string
	cols := map[string][]float64{}
	names := []string{"order_count", "order_total", "order_margin", "days_since_last_order", "days_since_last_activity"}
	for _, c := range customers[from:to] {
		seg = append(seg, c.Segment)
		for i, v := range []float64{c.Orders, c.Revenue, c.Margin, c.DaysSinceLastOrder, c.DaysSinceLastActivity} {
			cols[names[i]] = append(cols[names[i]], v)
		}
	}
	out := []sdk.Column{texts("segment", seg...)}
	for _, n := range names {
		out = append(out, numbers(n, cols[n]...))
	}
	return out
}

// request holds the strategy fixture as an organization and a contact
// batch, the leads, and these metrics. The three contacts C1–C3:
//
//	    email     phone        has email/phone/org  orders
//	C1  a@x.com   –            1 0 1                0
//	C2  A@X.com   555 0100 99  1 1 0                1
//	C3  –         5550100 99   0 1 1                3
//
// C1 and C2 share an email, C2 and C3 a phone: 3 of 3 in 2 shared values;
// completeness 6 / 9; single view 3 of 3 (C1 and C3 an organization, C2
// orders).
func request() *sdk.ReportRequest {
	contacts := customerColumns(3, 6)
	contacts = append(contacts,
		texts("email", "a@x.com", "A@X.com", ""), texts("phone", "", "555 0100 99", "5550100 99"),
		numbers("has_email", 1, 1, 0), numbers("has_phone", 0, 1, 1), numbers("has_organization", 1, 0, 1))
	var src, status []string
	for _, l := range leads {
		src, status = append(src, l.Source), append(status, l.Status)
	}
	all := []string{"all"}
	periods := []string{"2026-01", "2026-02", "2026-03"}
	return &sdk.ReportRequest{
		Batches: []sdk.Batch{
			{SubjectType: "organization", Count: 3, IDs: []string{"O1", "O2", "O3"}, Columns: customerColumns(0, 3)},
			{SubjectType: "contact", Count: 3, Columns: contacts},
			{SubjectType: "lead", Count: len(leads), Columns: []sdk.Column{texts("source", src...), texts("status", status...)}},
		},
		Metrics: []sdk.Series{
			{Name: "new_customers", Labels: periods, Values: []float64{10, 20, 30}},
			{Name: "acquisition_cost", Labels: all, Values: []float64{500}},
			{Name: "retention_rate", Labels: periods[:2], Values: []float64{0.9, 0.9}},
			{Name: "churn_rate", Labels: periods, Values: []float64{0.1, 0.2, nan}},
			{Name: "clv_historical_average", Labels: all, Values: []float64{1200}},
			{Name: "clv_predictive", Labels: all, Values: []float64{2000}},
			{Name: "win_rate", Labels: periods[:2], Values: []float64{0.1, 0.3}},
			{Name: "activities_by_kind", Labels: []string{"note", "call", "email", "meeting", "task"}, Values: []float64{10, 30, 50, 10, nan}},
			{Name: "leads_by_source", Labels: []string{"web", "referral", "event", "partner"}, Values: []float64{50, 20, 20, 10}},
			{Name: "converted_leads_by_source", Labels: []string{"referral", "web", "event", "cold"}, Values: []float64{8, 5, 2, 1}},
		},
	}
}

type figures struct {
	kpi     map[string]sdk.KPI
	tables  map[string]sdk.Table
	summary map[string]string
}

func read(r *sdk.Report) figures {
	f := figures{kpi: map[string]sdk.KPI{}, tables: map[string]sdk.Table{}, summary: map[string]string{}}
	for _, s := range r.Sections {
		f.summary[s.Key] = s.Summary
		for _, k := range s.KPIs {
			f.kpi[s.Key+"."+k.Key] = k
		}
		for _, tb := range s.Tables {
			f.tables[s.Key+"."+tb.Key] = tb
		}
	}
	return f
}

// TestReport runs the whole report on request(). C1 and C3 belong to an
// organization, so they buy for it and are not customers themselves: the
// strategy and value sections see O1, O2, O3 and C2 — revenue 80,000,
// margin 20,000, a mean of 5,000 per customer:
//
//	enterprise   revenue share 0.75, margin per customer 9,000 / 5,000 =
//	             1.8, / 2 = 0.9, active 1/2: 100 × (0.3 + 0.36 + 0.1) = 76
//	smb (O3)     0.0625, 1,000 / 5,000 / 2 = 0.1, active 1/1:
//	             100 × (0.025 + 0.04 + 0.2) = 26.5
//	unsegmented  0.1875, 0.1, active 0: 100 × (0.075 + 0.04) = 11.5
//
// and enterprise holds 18,000 of the 20,000 margin (90 %). The contacts'
// figures (information) still count all three contacts.
func TestReport(t *testing.T) {
	r, err := fiveprocess.Report(ctx{}, request())
	if err != nil {
		t.Fatal(err)
	}
	if p := finite(r); p != "" {
		t.Fatalf("not well-formed: %s", p)
	}
	f := read(r)
	for key, want := range map[string]float64{
		"strategy.customers":          4,
		"strategy.segments":           3,
		"strategy.unsegmented_share":  25,
		"strategy.top_attractiveness": 76,
		"value.margin":                20000,
		"value.new_customers":         60,
		"value.acquisition_cost":      500,
		"value.acquisition_spend":     30000,
		"value.retention_rate":        90,
		"value.churn_rate":            100 * 0.15,
		"value.expected_lifetime":     1 / 0.15,
		"value.clv_historical":        1200,
		"value.clv_predictive":        2000,
		"value.clv_to_cac":            4,
		// 10 + 30 + 50 + 10 interactions over four channels; the metrics,
		// not the lead batch: 16 of 100 leads converted (see
		// TestConversion).
		"multichannel.interactions":        100,
		"multichannel.channels_used":       4,
		"multichannel.leads":               100,
		"multichannel.converted":           16,
		"multichannel.conversion_rate":     16,
		"information.contacts":             3,
		"information.completeness":         100 * 6.0 / 9,
		"information.duplicate_rate":       100,
		"information.duplicate_groups":     2,
		"information.single_view_coverage": 100,
		"performance.retention_rate":       90,
		"performance.win_rate":             20,
		"performance.clv_to_cac":           4,
		"performance.reply_rate":           0,
		"performance.targets_met":          2, // retention and CLV:CAC
	} {
		if math.Abs(f.kpi[key].Value-want) > eps {
			t.Errorf("%s = %v, want %v", key, f.kpi[key].Value, want)
		}
	}
	if tg := f.kpi["performance.churn_rate"].Target; tg == nil || *tg != 5 {
		t.Errorf("churn target %v, want 5 (%%)", tg)
	}
	seg := f.tables["strategy.segments"]
	if len(seg.Rows) != 3 || seg.Rows[0][0] != "enterprise" || seg.Rows[0][9] != "76.0" || seg.Rows[1][9] != "26.5" || seg.Rows[2][0] != fiveprocess.Unsegmented {
		t.Errorf("segments %v", seg.Rows)
	}
	// Margin 18,000 of 20,000 = 90 %, revenue per buyer 60,000 / 2.
	val := f.tables["value.segment_value"]
	if !reflect.DeepEqual(val.Rows[0], []string{"enterprise", "2", "2", "60000.00", "18000.00", "90.0%", "30000.00"}) {
		t.Errorf("value per segment %v", val.Rows[0])
	}
	sc := f.tables["performance.scorecard"]
	if !reflect.DeepEqual(sc.Rows[1], []string{"churn_rate", "15.0%", "5.0%", "at most", "not met"}) || sc.Rows[4][4] != "no data" {
		t.Errorf("scorecard %v", sc.Rows)
	}
	if !strings.Contains(f.summary["performance"], "Metrics not available: reply_rate.") || !strings.Contains(f.summary["multichannel"], "leads_by_source") {
		t.Errorf("summaries %v", f.summary)
	}
	// Without the lead metrics, conversion comes from the lead batch:
	// 4 of 7 converted.
	req := request()
	req.Metrics = req.Metrics[:8]
	r, err = fiveprocess.Report(ctx{}, req)
	if err != nil {
		t.Fatal(err)
	}
	f = read(r)
	if f.kpi["multichannel.leads"].Value != 7 || f.kpi["multichannel.converted"].Value != 4 || f.tables["multichannel.conversion"].Rows[0][0] != "referral" {
		t.Errorf("from the batch: %v %v", f.kpi["multichannel.leads"], f.tables["multichannel.conversion"].Rows)
	}
	// max_rows 1 caps every table.
	req.Config = []byte(`{"max_rows": 1}`)
	r, err = fiveprocess.Report(ctx{}, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sections {
		for _, tb := range s.Tables {
			if len(tb.Rows) > 1 {
				t.Errorf("%s.%s: %d rows with max_rows 1", s.Key, tb.Key, len(tb.Rows))
			}
		}
	}
}

// finite reports the first NaN or infinite figure of a report, or a
// ragged table or series, or "".
func finite(r *sdk.Report) string {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	for _, s := range r.Sections {
		for _, k := range s.KPIs {
			if bad(k.Value) || (k.Target != nil && bad(*k.Target)) {
				return s.Key + "." + k.Key
			}
		}
		for _, sr := range s.Series {
			if len(sr.Labels) != len(sr.Values) {
				return s.Key + "." + sr.Name + ": labels and values differ"
			}
			for _, v := range sr.Values {
				if bad(v) {
					return s.Key + "." + sr.Name
				}
			}
		}
		for _, tb := range s.Tables {
			for _, row := range tb.Rows {
				if len(row) != len(tb.Columns) {
					return s.Key + "." + tb.Key + ": ragged"
				}
				for _, c := range row {
					if strings.Contains(c, "NaN") || strings.Contains(c, "+Inf") || strings.Contains(c, "-Inf") {
						return s.Key + "." + tb.Key + ": " + c
					}
				}
			}
		}
	}
	return ""
}

// TestNothing: no metrics and no batches give five well-formed sections
// of zeros whose summaries say which metrics are missing.
func TestNothing(t *testing.T) {
	r, err := fiveprocess.Report(ctx{}, &sdk.ReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sections) != 5 {
		t.Fatalf("%d sections", len(r.Sections))
	}
	if p := finite(r); p != "" {
		t.Errorf("not finite or not well-formed: %s", p)
	}
	f := read(r)
	if f.kpi["performance.targets_met"].Value != 0 || f.kpi["value.clv_to_cac"].Value != 0 || f.kpi["strategy.segments"].Value != 0 {
		t.Errorf("kpis %+v", f.kpi)
	}
	for _, key := range []string{"value", "multichannel", "performance"} {
		if !strings.Contains(f.summary[key], "Metrics not available") {
			t.Errorf("%s summary: %s", key, f.summary[key])
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []string{`{"attractiveness_weights": {"size": -1}}`, `{"max_rows": -1}`, `{"active_days": -3}`, `{`} {
		if _, err := fiveprocess.Report(ctx{}, &sdk.ReportRequest{Config: []byte(c)}); err == nil {
			t.Errorf("config %s accepted", c)
		}
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
	var fromManifest fiveprocess.Config
	if err := json.Unmarshal(raw, &fromManifest); err != nil {
		t.Fatal(err)
	}
	if want := fiveprocess.DefaultConfig(); !reflect.DeepEqual(fromManifest, want) {
		t.Errorf("manifest defaults %+v\ncode defaults %+v", fromManifest, want)
	}
}

func TestConformance(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(loadManifest(t), fiveprocess.Plugin))
}
