package idic_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/rapportcrm/rapport/plugins/idic"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

var nan = math.NaN()

func TestNormalise(t *testing.T) {
	for _, c := range []struct {
		f        func(string) string
		in, want string
	}{
		{idic.NormalEmail, " Ann.Lee+crm@X.com ", "ann.lee@x.com"},
		{idic.NormalEmail, "not an address", ""},
		{idic.NormalEmail, "@x.com", ""},
		{idic.NormalPhone, "+1 (415) 555-0100", "4155550100"},
		{idic.NormalPhone, "0044 20 7946 0958", "2079460958"},
		{idic.NormalPhone, "415.555.0100", "4155550100"},
		{idic.NormalPhone, "12345", ""},
		{idic.NormalName, "  José  Núñez-Díaz ", "jose nunez diaz"},
		{idic.NormalName, "ANN   LEE", "ann lee"},
	} {
		if got := c.f(c.in); got != c.want {
			t.Errorf("%q → %q, want %q", c.in, got, c.want)
		}
	}
}

// identifyFixture: c1 and c2 share email (after case and +tag), phone
// (after punctuation) and name within O1; c3 shares only the phone; c4 and
// c5 share the name within O3 once accents are folded; c6 and c7 share an
// email; c8 and c9 share a phone too short to count; c10 has the same name
// as c1 but another organization (no reason).
var identifyFixture = []idic.Contact{
	{ID: "c1", FirstName: "Ann", LastName: "Lee", Email: "ann.lee@x.com", Phone: "+1 (415) 555-0100", OrganizationID: "O1"},
	{ID: "c2", FirstName: "ANN", LastName: "LEE", Email: "Ann.Lee+crm@X.com", Phone: "415.555.0100", OrganizationID: "O1"},
	{ID: "c3", FirstName: "Anne", LastName: "Lee", Email: "other@y.com", Phone: "4155550100", OrganizationID: "O2"},
	{ID: "c4", FirstName: "José", LastName: "Núñez", Email: "jn@z.com", OrganizationID: "O3"},
	{ID: "c5", FirstName: "Jose", LastName: "Nunez", Email: "jose@z.com", OrganizationID: "O3"},
	{ID: "c6", FirstName: "Bob", LastName: "Bell", Email: "info@shared.com"},
	{ID: "c7", FirstName: "Carl", LastName: "Cole", Email: "INFO@shared.com"},
	{ID: "c8", FirstName: "Dan", LastName: "Dee", Phone: "12345"},
	{ID: "c9", FirstName: "Eve", LastName: "Eng", Phone: "12345"},
	{ID: "c10", FirstName: "Ann", LastName: "Lee", OrganizationID: "O9"},
}

// TestIdentify: confidences combine as 1 − Π(1 − c) with c = 0.95
// (email), 0.8 (phone), 0.7 (name and organization): c1–c2 has all three,
// 1 − 0.05 · 0.2 · 0.3 = 0.997; c6–c7 email alone 0.95; c1–c3 and c2–c3
// phone alone 0.8; c4–c5 name alone 0.7.
func TestIdentify(t *testing.T) {
	got := idic.Identify(identifyFixture, idic.DefaultConfig())
	want := []idic.Duplicate{
		{A: "c1", B: "c2", Confidence: 0.997, Reasons: []idic.Reason{idic.SameEmail, idic.SamePhone, idic.SameNameOrganization}},
		{A: "c6", B: "c7", Confidence: 0.95, Reasons: []idic.Reason{idic.SameEmail}},
		{A: "c1", B: "c3", Confidence: 0.8, Reasons: []idic.Reason{idic.SamePhone}},
		{A: "c2", B: "c3", Confidence: 0.8, Reasons: []idic.Reason{idic.SamePhone}},
		{A: "c4", B: "c5", Confidence: 0.7, Reasons: []idic.Reason{idic.SameNameOrganization}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d pairs %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].A != want[i].A || got[i].B != want[i].B || math.Abs(got[i].Confidence-want[i].Confidence) > 1e-12 || !reflect.DeepEqual(got[i].Reasons, want[i].Reasons) {
			t.Errorf("pair %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// A key shared by more contacts than max_group is ignored: c1, c2, c3 share a phone, so with max_group 2 only c1–c2's
	// email and name remain (1 − 0.05 · 0.3 = 0.985) and c3 pairs with no
	// one.
	cfg := idic.DefaultConfig()
	cfg.MaxGroup = 2
	got = idic.Identify(identifyFixture, cfg)
	if len(got) != 3 || got[0].A != "c1" || got[0].B != "c2" || math.Abs(got[0].Confidence-0.985) > 1e-12 {
		t.Errorf("max_group 2: %+v", got)
	}
}

// valueFixture, worked with value_per_employee 50, most_valuable_actual
// 50,000 and most_growable_potential 100,000:
//
//	     margin   pipeline × p       employees  actual   potential           total    tier
//	O1   80,000   20,000 × 0.5       100        80,000   10,000 + 5,000      95,000   most_valuable
//	O2   10,000   300,000 × 0.4      10         10,000   120,000 + 500       130,500  most_growable
//	O3   −2,000   500,000 × (0.5)    –          −2,000   250,000             248,000  below_zero (negative actual first)
//	C1   5,000    0                  –          5,000    0                   5,000    maintain
//	C2   –        50,000 × (0.5)     –          0        25,000              25,000   maintain
//
// (p in parentheses: unknown or invalid, taken as 0.5.)
var valueFixture = []idic.Customer{
	{ID: "O1", Margin: 80000, OpenPipeline: 20000, Probability: 0.5, Employees: 100},
	{ID: "O2", Margin: 10000, OpenPipeline: 300000, Probability: 0.4, Employees: 10},
	{ID: "O3", Margin: -2000, OpenPipeline: 500000, Probability: nan, Employees: nan},
	{ID: "C1", Margin: 5000, OpenPipeline: 0, Probability: nan, Employees: nan},
	{ID: "C2", Margin: nan, OpenPipeline: 50000, Probability: 2, Employees: nan},
}

var wantValue = map[string]struct {
	actual, potential, total float64
	tier                     idic.Tier
}{
	"O1": {80000, 15000, 95000, idic.MostValuable},
	"O2": {10000, 120500, 130500, idic.MostGrowable},
	"O3": {-2000, 250000, 248000, idic.BelowZero},
	"C1": {5000, 0, 5000, idic.Maintain},
	"C2": {0, 25000, 25000, idic.Maintain},
}

func TestValueAndTier(t *testing.T) {
	cfg := idic.DefaultConfig()
	for _, c := range valueFixture {
		v := idic.ValueOf(c, cfg)
		w := wantValue[c.ID]
		if v.Actual != w.actual || v.Potential() != w.potential || v.Total() != w.total || idic.TierOf(v, cfg) != w.tier {
			t.Errorf("%s: %+v (potential %v, tier %s), want %+v", c.ID, v, v.Potential(), idic.TierOf(v, cfg), w)
		}
	}
}

// TestNextInteraction, channels call, email, meeting and a default gap of
// 30 days:
//
//	h1: counts 4/10/1, inbound 1/5/0: email answers best (5/10 > 1/4);
//	    gap 140 days / (15 − 1) = 10, last 3 days ago: in 7 days.
//	h2: counts 2/0/0, no inbound: call, used most; gap 20 / 1 = 20, last
//	    50 days ago: now (0).
//	h3: no history: call, the first channel; default gap 30: in 30.
//	h4: one inbound email: email; fewer than two activities, default gap
//	    30, last 10 days ago: in 20.
//	h5: nothing in the last 365 days, last reached 400 days ago: call,
//	    the first channel; default gap 30 − 400 < 0: now.
func TestNextInteraction(t *testing.T) {
	cfg := idic.DefaultConfig()
	for _, c := range []struct {
		h       idic.History
		channel string
		in      float64
	}{
		{idic.History{ID: "h1", Count: []float64{4, 10, 1}, Inbound: []float64{1, 5, 0}, DaysSinceLast: 3, SpanDays: 140}, "email", 7},
		{idic.History{ID: "h2", Count: []float64{2, 0, 0}, Inbound: []float64{0, 0, 0}, DaysSinceLast: 50, SpanDays: 20}, "call", 0},
		{idic.History{ID: "h3", Count: []float64{0, 0, 0}, Inbound: []float64{0, 0, 0}, DaysSinceLast: nan, SpanDays: nan}, "call", 30},
		{idic.History{ID: "h4", Count: []float64{0, 1, 0}, Inbound: []float64{0, 1, 0}, DaysSinceLast: 10, SpanDays: 0}, "email", 20},
		{idic.History{ID: "h5", Count: []float64{0, 0, 0}, Inbound: []float64{0, 0, 0}, DaysSinceLast: 400, SpanDays: nan}, "call", 0},
	} {
		got := idic.NextInteraction(c.h, cfg)
		if got.Channel != c.channel || got.InDays != c.in {
			t.Errorf("%s: %s in %v, want %s in %v", c.h.ID, got.Channel, got.InDays, c.channel, c.in)
		}
	}
}

// TestRecommend: X bought a, b; Y a, b, c; Z a, c; W d; V e (quantity 0,
// ignored). Buyers: a 3, b 2, c 2, d 1. Bought together: a–b by X and Y
// (2), a–c by Y and Z (2), b–c by Y (1). cos(a,b) = cos(a,c) = 2/√6 =
// 0.816497, cos(b,c) = 1/√4 = 0.5. X is offered c: cos(a,c) + cos(b,c) =
// 1.316497; Z is offered b: cos(a,b) + cos(c,b) = 1.316497; Y has bought
// everything related; W's d was bought with nothing.
func TestRecommend(t *testing.T) {
	ps := []idic.Purchase{
		{"X", "a", 1}, {"X", "b", 2}, {"Y", "a", 1}, {"Y", "b", 1}, {"Y", "c", 1},
		{"Z", "a", 1}, {"Z", "c", 3}, {"W", "d", 1}, {"V", "e", 0},
	}
	got := idic.Recommend(ps, 3)
	want := 2/math.Sqrt(6) + 0.5
	if len(got) != 2 || got[0].Customer != "X" || got[0].Product != "c" || got[1].Customer != "Z" || got[1].Product != "b" {
		t.Fatalf("got %+v", got)
	}
	for _, r := range got {
		if math.Abs(r.Score-want) > 1e-12 {
			t.Errorf("%+v: score want %v", r, want)
		}
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

func TestScore(t *testing.T) {
	b := sdk.Batch{SubjectType: "organization", Count: 3, IDs: []string{"O1", "O2", "O3"}, Columns: []sdk.Column{
		numbers("margin", 80000, 10000, -2000),
		numbers("open_pipeline", 20000, 300000, 500000),
		numbers("open_probability", 0.5, 0.4, nan),
		numbers("employees", 100, 10, nan),
	}}
	r, err := idic.Score(ctx{}, &sdk.ScoreRequest{Batch: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(3); err != nil {
		t.Fatal(err)
	}
	for i, id := range b.IDs {
		w := wantValue[id]
		if r.Values[i] != w.total || r.Label(i) != string(w.tier) || r.Contribution(i, 0) != w.actual {
			t.Errorf("%s: %v %s, want %+v", id, r.Values[i], r.Label(i), w)
		}
	}
}

// TestReport runs the report on contacts c1–c3 (c1–c2 0.997, c1–c3 and
// c2–c3 0.8: three pairs over three contacts) and the purchases above.
// Interactions: c1 as h1 of TestNextInteraction (first touch 143 days
// ago, last 3: span 140, in 7 days); c2 as h2 (first 70, last 50: span
// 20, due now); c3 was last reached 400 days ago, nothing in the year
// (first_touch missing): default gap 30 less 400, due now. Two due now.
func TestReport(t *testing.T) {
	contacts := sdk.Batch{SubjectType: "contact", Count: 3, IDs: []string{"c1", "c2", "c3"}, Columns: []sdk.Column{
		texts("first_name", "Ann", "ANN", "Anne"), texts("last_name", "Lee", "LEE", "Lee"),
		texts("email", "ann.lee@x.com", "Ann.Lee+crm@X.com", "other@y.com"),
		texts("phone", "+1 (415) 555-0100", "415.555.0100", "4155550100"),
		texts("organization_id", "O1", "O1", "O2"),
		numbers("margin", 60000, nan, -10),
		numbers("calls", 4, 2, 0), numbers("emails", 10, 0, 0), numbers("meetings", 1, 0, 0),
		numbers("inbound_calls", 1, 0, 0), numbers("inbound_emails", 5, 0, 0), numbers("inbound_meetings", 0, 0, 0),
		numbers("first_touch", 143, 70, nan), numbers("last_touch", 3, 50, 400),
	}}
	purchases := sdk.Batch{SubjectType: idic.PurchaseRecords, Count: 3, Columns: []sdk.Column{
		texts("customer_id", "c1", "c1", "c2"), texts("product", "a", "b", "a"), numbers("quantity", 1, 1, 1),
	}}
	r, err := idic.Report(ctx{}, &sdk.ReportRequest{Batches: []sdk.Batch{contacts, purchases}})
	if err != nil {
		t.Fatal(err)
	}
	kpi := map[string]float64{}
	for _, s := range r.Sections {
		for _, k := range s.KPIs {
			kpi[s.Key+"."+k.Key] = k.Value
		}
	}
	for k, want := range map[string]float64{
		"identify.contacts": 3, "identify.pairs": 3, "identify.duplicate_rate": 100,
		"differentiate.customers": 3, "differentiate.most_valuable": 1, "differentiate.below_zero": 1,
		"interact.contacts": 3, "interact.due_now": 2,
		// c2 bought a; c1 bought a and b: c2 is offered b.
		"customize.recommendations": 1, "customize.coverage": 50,
	} {
		if kpi[k] != want {
			t.Errorf("%s = %v, want %v", k, kpi[k], want)
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

func TestManifestDefaultsAreTheCodes(t *testing.T) {
	raw, err := pluginkit.DefaultConfig(loadManifest(t))
	if err != nil {
		t.Fatal(err)
	}
	var fromManifest idic.Config
	if err := json.Unmarshal(raw, &fromManifest); err != nil {
		t.Fatal(err)
	}
	if want := idic.DefaultConfig(); !reflect.DeepEqual(fromManifest, want) {
		t.Errorf("manifest defaults %+v\ncode defaults %+v", fromManifest, want)
	}
}

// TestManifestDeclaresTheColumns: every column the code reads is an input
// plugin.json declares for that subject type (a column it does not declare
// would arrive as missing, silently), with the window the docs give.
func TestManifestDeclaresTheColumns(t *testing.T) {
	m := loadManifest(t)
	declared := func(subject string) map[string]string {
		ins, err := inputs.ParseAll(nil, subject, m.Inputs[subject])
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, in := range ins {
			out[in.Name] = in.Canonical()
		}
		return out
	}
	org, contact := declared("organization"), declared("contact")
	want := map[string]string{idic.MarginColumn: "sum(orders.margin within 365d)"}
	for _, name := range []string{"open_pipeline", "open_probability", "employees"} {
		want[name] = name
	}
	for name, canonical := range want {
		if org[name] != canonical {
			t.Errorf("organization %s: declared %q, want %q", name, org[name], canonical)
		}
	}
	delete(want, "employees")
	want[idic.FirstTouchColumn] = "days_since_first(activities where kind in (call, email, meeting) within 365d)"
	want[idic.LastTouchColumn] = "days_since_last(activities where kind in (call, email, meeting))"
	for _, ch := range idic.DefaultConfig().Channels {
		want[idic.ChannelColumn(ch)] = "count(activities where kind = " + ch + " within 365d)"
		want[idic.InboundColumn(ch)] = "count(activities where kind = " + ch + " and direction = inbound within 365d)"
	}
	for _, name := range []string{"has_organization", "first_name", "last_name", "email", "phone", "organization_id"} {
		want[name] = name
	}
	for name, canonical := range want {
		if contact[name] != canonical {
			t.Errorf("contact %s: declared %q, want %q", name, contact[name], canonical)
		}
	}
}

func TestConformance(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(loadManifest(t), idic.Plugin))
}
