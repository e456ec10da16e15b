package qci_test

import (
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/plugins/qci"
	"github.com/rapportcrm/rapport/sdk"
	"github.com/rapportcrm/rapport/sdk/inputs"
	"github.com/rapportcrm/rapport/sdk/manifest"
	"github.com/rapportcrm/rapport/sdk/pluginkit"
)

var nan = math.NaN()

// TestQuestionSet: questions.json is the Go question set; every key is
// unique and starts with its area; each area has 3 or 4 questions.
func TestQuestionSet(t *testing.T) {
	raw, err := os.ReadFile("questions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fromFile qci.QuestionSet
	if err := json.Unmarshal(raw, &fromFile); err != nil {
		t.Fatal(err)
	}
	if want := (qci.QuestionSet{Areas: qci.Areas, Scale: qci.Scale, Questions: qci.Questions}); !reflect.DeepEqual(fromFile, want) {
		t.Errorf("questions.json differs from the Go question set:\n%+v\nwant\n%+v", fromFile, want)
	}
	if len(qci.Scale) != qci.MaxAnswer+1 {
		t.Errorf("%d scale points for answers 0–%d", len(qci.Scale), qci.MaxAnswer)
	}
	seen := map[string]bool{}
	perArea := map[string]int{}
	for _, q := range qci.Questions {
		if seen[q.Key] {
			t.Errorf("%s appears twice", q.Key)
		}
		seen[q.Key] = true
		if !strings.HasPrefix(q.Key, q.Area+".") {
			t.Errorf("%s: key does not start with its area %s", q.Key, q.Area)
		}
		perArea[q.Area]++
		if got, ok := qci.QuestionByKey(q.Key); !ok || got != q {
			t.Errorf("QuestionByKey(%s) = %+v, %v", q.Key, got, ok)
		}
	}
	for _, a := range qci.Areas {
		if n := perArea[a.Key]; n < 3 || n > 4 {
			t.Errorf("area %s has %d questions, want 3 or 4", a.Key, n)
		}
	}
	if _, ok := qci.QuestionByKey("analysis_planning.nothing"); ok {
		t.Error("an unknown key was found")
	}
	for v, want := range map[float64]bool{0: true, 4: true, 2: true, 2.5: false, -1: false, 5: false, nan: false} {
		if qci.ValidAnswer(v) != want {
			t.Errorf("ValidAnswer(%v) = %v", v, !want)
		}
	}
}

// TestEnquiryState: with enquiry_days 90 and reply_hours 24, an inbound
// activity is an enquiry from 0 to 90 days old (both included); it is
// answered by an outbound one at the same time or later (fewer days
// ago), waiting under 24 hours (1 day), overdue from then on.
func TestEnquiryState(t *testing.T) {
	cfg := qci.DefaultConfig()
	for _, c := range []struct {
		in, out float64
		want    qci.EnquiryState
	}{
		{nan, nan, qci.NoEnquiry}, {nan, 3, qci.NoEnquiry}, {90.5, 1, qci.NoEnquiry}, {-1, nan, qci.NoEnquiry},
		{90, 90, qci.Answered}, {5, 4.99, qci.Answered}, {0, 0, qci.Answered},
		{0.99, nan, qci.Waiting}, {0.5, 3, qci.Waiting},
		{1, nan, qci.Overdue}, {5, 5.01, qci.Overdue}, {90, nan, qci.Overdue},
	} {
		if got := (qci.Enquiry{InboundDays: c.in, OutboundDays: c.out}).State(cfg); got != c.want {
			t.Errorf("inbound %v, outbound %v: %v, want %v", c.in, c.out, got, c.want)
		}
	}
}

// TestMeasureScore: min(1, value / target) × 100, or target / value when
// lower is better.
func TestMeasureScore(t *testing.T) {
	for _, c := range []struct {
		m    qci.Measure
		want float64
	}{
		{qci.Measure{Value: 7.5, Target: 10, Known: true}, 75},
		{qci.Measure{Value: 20, Target: 10, Known: true}, 100},
		{qci.Measure{Value: -3, Target: 10, Known: true}, 0},
		{qci.Measure{Value: 5, Target: 0, Known: true}, 100},
		{qci.Measure{Value: 36, Target: 24, LowerIsBetter: true, Known: true}, 100 * 24.0 / 36}, // 66.67
		{qci.Measure{Value: 12, Target: 24, LowerIsBetter: true, Known: true}, 100},
		{qci.Measure{Value: 0, Target: 24, LowerIsBetter: true, Known: true}, 100},
		{qci.Measure{Value: 3, Target: 0, LowerIsBetter: true, Known: true}, 0},
		{qci.Measure{Value: 50, Target: 10, Known: false}, 0},
	} {
		if got := c.m.Score(); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%+v: %v, want %v", c.m, got, c.want)
		}
	}
}

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

// answers is the fixture's questionnaire, 26 records:
//
//	analysis_planning           segments_defined 3, customer_value_measured 2,
//	                            plans_by_segment 2 and 4 (mean 3), competitors_analysed –
//	                            mean (3 + 2 + 3) / 3 = 8/3; Q = 8/3 / 4 × 100 = 66.667
//	proposition                 4, 4, 4 (and one missing answer, ignored): Q = 100
//	people_organisation         2, 2, 2, 2: Q = 50
//	information_technology      single_customer_view 1, data_quality_managed 3, two –: Q = 2/4 × 100 = 50
//	process_management          nothing answered: Q = 0
//	customer_management_activity 3, 3, 1, 1: Q = 50
//	customer_experience         feedback_collected 4, promise_delivered 2, two –: Q = 75
//	measurement                 3, 3, 3 (and a 5 for kpis_defined, ignored): Q = 75
//
// plus two answers to an unknown key: 4 answers ignored, 21 of 30
// questions answered.
var answers = []struct {
	q string
	v float64
}{
	{"analysis_planning.segments_defined", 3}, {"analysis_planning.customer_value_measured", 2},
	{"analysis_planning.plans_by_segment", 2}, {"analysis_planning.plans_by_segment", 4},
	{"proposition.defined_per_segment", 4}, {"proposition.communicated", 4}, {"proposition.tested_with_customers", 4},
	{"proposition.communicated", nan},
	{"people_organisation.roles_defined", 2}, {"people_organisation.skills_trained", 2},
	{"people_organisation.objectives_aligned", 2}, {"people_organisation.leadership_committed", 2},
	{"information_technology.single_customer_view", 1}, {"information_technology.data_quality_managed", 3},
	{"customer_management_activity.acquisition_targeted", 3}, {"customer_management_activity.retention_managed", 3},
	{"customer_management_activity.penetration_planned", 1}, {"customer_management_activity.win_back", 1},
	{"customer_experience.feedback_collected", 4}, {"customer_experience.promise_delivered", 2},
	{"measurement.kpis_defined", 3}, {"measurement.reported_regularly", 3}, {"measurement.results_acted_on", 3},
	{"measurement.kpis_defined", 5},
	{"unknown.key", 2}, {"unknown.key", 3},
}

// request is the fixture's report request. Measured KPIs (default
// targets):
//
//	acquisition   new_customers 6, 9, missing: mean 7.5 per period; 7.5 / 10 → 75
//	retention     retention_rate 0.68, 0.68: 0.68 / 0.85 = 0.8 → 80
//	penetration   organizations order_count 3, 0; contacts 1, –, 0, 2:
//	              3 buyers of 6 = 0.5; 0.5 / 0.5 → 100
//	completeness  4 contacts: email 1,1,1,0 (3), phone 1,0,1,0 (2),
//	              organization 1,1,0,– (2): 7 / 12 = 0.583333; / 0.9 → 64.8148
//	response      median_reply_hours 36: 24 / 36 → 66.6667 (lower is better)
//	enquiries     customers (days since the latest inbound / outbound):
//	              O1 2 / 1: answered; O2 10 / 30: overdue (no answer since,
//	              older than 24 hours); contact 3 0.5 / –: waiting (12
//	              hours, under the 24-hour target), left out; contact 4
//	              200 / –: older than enquiry_days 90, no enquiry; contact 1
//	              (1 / –) belongs to an organization, not a customer.
//	              1 answered of 2: 0.5; 0.5 / 0.9 → 55.5556
func request() *sdk.ReportRequest {
	rec := sdk.Batch{SubjectType: qci.AssessmentRecords, Count: len(answers)}
	var keys []string
	var vals []float64
	for _, a := range answers {
		keys = append(keys, a.q)
		vals = append(vals, a.v)
	}
	rec.Columns = []sdk.Column{texts("question", keys...), numbers("answer", vals...)}
	return &sdk.ReportRequest{
		Batches: []sdk.Batch{
			rec,
			{SubjectType: "organization", Count: 2, Columns: []sdk.Column{
				numbers("order_count", 3, 0),
				numbers("last_inbound", 2, 10),
				numbers("last_outbound", 1, 30),
			}},
			{SubjectType: "contact", Count: 4, Columns: []sdk.Column{
				numbers("order_count", 1, nan, 0, 2),
				numbers("has_email", 1, 1, 1, 0),
				numbers("has_phone", 1, 0, 1, 0),
				numbers("has_organization", 1, 1, 0, nan),
				numbers("last_inbound", 1, nan, 0.5, 200),
				numbers("last_outbound", nan, nan, nan, nan),
			}},
		},
		Metrics: []sdk.Series{
			{Name: "new_customers", Labels: []string{"2026-01", "2026-02", "2026-03"}, Values: []float64{6, 9, nan}},
			{Name: "retention_rate", Labels: []string{"2026-01", "2026-02"}, Values: []float64{0.68, 0.68}},
			{Name: "median_reply_hours", Labels: []string{"all"}, Values: []float64{36}},
		},
	}
}

// wantArea are the area scores (kpi_weight 0.4):
//
//	analysis_planning            no KPI: 66.667
//	proposition                  100
//	people_organisation          50
//	information_technology       0.6 × 50 + 0.4 × 64.8148 = 30 + 25.9259 = 55.9259
//	process_management           0
//	customer_management_activity KPI (75 + 80 + 100) / 3 = 85; 0.6 × 50 + 0.4 × 85 = 64
//	customer_experience          KPI (66.6667 + 55.5556) / 2 = 61.1111;
//	                             0.6 × 75 + 0.4 × 61.1111 = 45 + 24.4444 = 69.4444
//	measurement                  75
var wantArea = map[string]float64{
	qci.AnalysisPlanning:           200.0 / 3,
	qci.Proposition:                100,
	qci.PeopleOrganisation:         50,
	qci.InformationTechnology:      30 + 0.4*100*(7.0/12)/0.9,
	qci.ProcessManagement:          0,
	qci.CustomerManagementActivity: 64,
	qci.CustomerExperience:         45 + 0.4*(100*24.0/36+100*0.5/0.9)/2,
	qci.Measurement:                75,
}

// wantIndex is the mean of the eight (equal weights): (66.6667 + 100 + 50
// + 55.9259 + 0 + 64 + 69.4444 + 75) / 8 = 481.0370 / 8 = 60.1296.
const wantIndex = 60.1296

func assess(t *testing.T, cfg qci.Config) qci.Assessment {
	t.Helper()
	as, d := qci.Read(request())
	return qci.Assess(as, qci.Measures(d, cfg), cfg)
}

func TestAssess(t *testing.T) {
	a := assess(t, qci.DefaultConfig())
	if len(a.Areas) != len(qci.Areas) {
		t.Fatalf("%d areas", len(a.Areas))
	}
	for _, s := range a.Areas {
		if math.Abs(s.Score-wantArea[s.Key]) > 1e-9 {
			t.Errorf("%s: %.6f, want %.6f", s.Key, s.Score, wantArea[s.Key])
		}
	}
	cma := a.Areas[5]
	if cma.Key != qci.CustomerManagementActivity || !cma.HasKPI || math.Abs(cma.KPI-85) > 1e-9 || cma.Questionnaire != 50 {
		t.Errorf("customer management activity: %+v", cma)
	}
	if a.Areas[0].HasKPI || a.Areas[0].Answered != 3 || a.Areas[0].Total != 4 {
		t.Errorf("analysis and planning: %+v", a.Areas[0])
	}
	if math.Abs(a.Index-wantIndex) > 5e-5 {
		t.Errorf("index %.6f, want %.4f", a.Index, wantIndex)
	}
	if a.Recorded != 26 || a.Ignored != 4 {
		t.Errorf("recorded %d, ignored %d; want 26 and 4", a.Recorded, a.Ignored)
	}
	// Weights people_organisation 3 and process_management 0: the index is
	// (66.6667 + 100 + 3 × 50 + 55.9259 + 64 + 69.4444 + 75) / 9 =
	// 581.0370 / 9 = 64.5597.
	cfg := qci.DefaultConfig()
	cfg.AreaWeights[qci.PeopleOrganisation] = 3
	cfg.AreaWeights[qci.ProcessManagement] = 0
	if got := assess(t, cfg).Index; math.Abs(got-64.5597) > 5e-5 {
		t.Errorf("weighted index %.6f, want 64.5597", got)
	}
	ce := a.Areas[6]
	if ce.Key != qci.CustomerExperience || !ce.HasKPI || math.Abs(ce.KPI-(200.0/3+500.0/9)/2) > 1e-9 {
		t.Errorf("customer experience: %+v", ce)
	}
	// kpi_weight 0: scores are the questionnaire's alone.
	cfg = qci.DefaultConfig()
	cfg.KPIWeight = 0
	if got := assess(t, cfg).Areas[5].Score; got != 50 {
		t.Errorf("kpi_weight 0: customer management activity %v, want 50", got)
	}
}

// TestGaps: below the target 75 (weights 1), by 75 − score: process
// management 75, people and organisation 25, information and technology
// 19.0741, customer management activity 11, analysis and planning 8.3333,
// customer experience 5.5556. Measurement (exactly 75) and the
// proposition are not gaps.
func TestGaps(t *testing.T) {
	cfg := qci.DefaultConfig()
	gaps := qci.Gaps(assess(t, cfg), cfg)
	type row struct {
		area       string
		gap        float64
		weakest    []string
		unanswered []string
	}
	want := []row{
		{qci.ProcessManagement, 75, nil, []string{"process_management.processes_documented", "process_management.service_standards_set", "process_management.complaints_managed", "process_management.processes_improved"}},
		// All four at 2: the first two in question-set order.
		{qci.PeopleOrganisation, 25, []string{"people_organisation.roles_defined", "people_organisation.skills_trained"}, nil},
		{qci.InformationTechnology, 75 - wantArea[qci.InformationTechnology], []string{"information_technology.single_customer_view", "information_technology.data_quality_managed"}, []string{"information_technology.systems_integrated", "information_technology.privacy_managed"}},
		{qci.CustomerManagementActivity, 11, []string{"customer_management_activity.penetration_planned", "customer_management_activity.win_back"}, nil},
		// customer_value_measured 2, then segments_defined and
		// plans_by_segment tie at 3: segments_defined comes first.
		{qci.AnalysisPlanning, 75 - 200.0/3, []string{"analysis_planning.customer_value_measured", "analysis_planning.segments_defined"}, []string{"analysis_planning.competitors_analysed"}},
		// feedback_collected is at 4, the top: not weak.
		{qci.CustomerExperience, 75 - wantArea[qci.CustomerExperience], []string{"customer_experience.promise_delivered"}, []string{"customer_experience.response_times_kept", "customer_experience.benchmarked"}},
	}
	if len(gaps) != len(want) {
		t.Fatalf("%d gaps %+v, want %d", len(gaps), gaps, len(want))
	}
	for i, w := range want {
		g := gaps[i]
		var weak []string
		for _, q := range g.Weakest {
			weak = append(weak, q.Key)
		}
		if g.Area != w.area || math.Abs(g.Gap-w.gap) > 1e-9 || !reflect.DeepEqual(weak, w.weakest) || !reflect.DeepEqual(g.Unanswered, w.unanswered) {
			t.Errorf("gap %d: %s %.4f %v %v, want %+v", i, g.Area, g.Gap, weak, g.Unanswered, w)
		}
	}
	// With people_organisation weighted 3, its gap (75 − 50) × 3 = 75 ties
	// process management's 75 × 1, and the tie keeps area order: people
	// and organisation first. With process management weighted 0 it is not
	// a gap at all.
	cfg.AreaWeights[qci.PeopleOrganisation] = 3
	gaps = qci.Gaps(assess(t, cfg), cfg)
	if gaps[0].Area != qci.PeopleOrganisation || gaps[0].Gap != 75 || gaps[1].Area != qci.ProcessManagement {
		t.Errorf("weighted: %s %v, %s %v", gaps[0].Area, gaps[0].Gap, gaps[1].Area, gaps[1].Gap)
	}
	cfg.AreaWeights[qci.ProcessManagement] = 0
	if gaps = qci.Gaps(assess(t, cfg), cfg); gaps[0].Area != qci.PeopleOrganisation || len(gaps) != 5 {
		t.Errorf("process management weighted 0: %+v", gaps)
	}
}

type ctx struct{}

func (ctx) Config() []byte      { return nil }
func (ctx) Log(level, m string) {}

// kpis maps "section.kpi" to the KPI.
func kpis(r *sdk.Report) map[string]sdk.KPI {
	out := map[string]sdk.KPI{}
	for _, s := range r.Sections {
		for _, k := range s.KPIs {
			out[s.Key+"."+k.Key] = k
		}
	}
	return out
}

func TestReport(t *testing.T) {
	r, err := qci.Report(ctx{}, request())
	if err != nil {
		t.Fatal(err)
	}
	k := kpis(r)
	for key, want := range map[string]float64{
		"overview.areas_below_target": 6,
		"overview.coverage":           100 * 21.0 / 30,
		"gaps.largest_gap":            75,
		// 75 + 25 + 19.0741 + 11 + 8.3333 + 5.5556 = 143.9630
		"gaps.total_gap":          75 + 25 + (75 - wantArea[qci.InformationTechnology]) + 11 + (75 - 200.0/3) + (75 - wantArea[qci.CustomerExperience]),
		"coverage.answered":       21,
		"coverage.questions":      30,
		"coverage.answers":        26,
		"coverage.ignored":        4,
		"kpis.acquisition":        7.5,
		"kpis.retention":          68,
		"kpis.penetration":        50,
		"kpis.data_completeness":  100 * 7.0 / 12,
		"kpis.response_time":      36,
		"kpis.enquiries_answered": 50,
	} {
		if math.Abs(k[key].Value-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", key, k[key].Value, want)
		}
	}
	if got := k["overview.index"].Value; math.Abs(got-wantIndex) > 5e-5 {
		t.Errorf("index %v, want %v", got, wantIndex)
	}
	if tg := k["kpis.retention"].Target; tg == nil || *tg != 85 {
		t.Errorf("retention target %v, want 85", tg)
	}
	for _, s := range r.Sections {
		if s.Key == "overview" {
			if len(s.Series) != 1 || len(s.Series[0].Values) != 8 || s.Series[0].Values[1] != 100 {
				t.Errorf("area series %+v", s.Series)
			}
			if len(s.Tables[0].Rows) != 8 || s.Tables[0].Rows[5][4] != "4/4" || s.Tables[0].Rows[5][5] != "85.0" {
				t.Errorf("area table %v", s.Tables[0].Rows)
			}
		}
		if s.Key == "gaps" && s.Tables[0].Rows[0][1] != qci.ProcessManagement {
			t.Errorf("first gap row %v", s.Tables[0].Rows[0])
		}
		if s.Key == "kpis" && strings.Contains(s.Summary, "not available") {
			t.Errorf("every metric was sent, yet: %s", s.Summary)
		}
	}
	// max_rows 3 caps the tables.
	req := request()
	req.Config = []byte(`{"max_rows": 3}`)
	r, err = qci.Report(ctx{}, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Sections {
		for _, tb := range s.Tables {
			if len(tb.Rows) > 3 {
				t.Errorf("%s.%s: %d rows with max_rows 3", s.Key, tb.Key, len(tb.Rows))
			}
		}
	}
}

// finite reports the first NaN or infinite figure of a report, or "".
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

// TestNothing: no metrics and no batches give a well-formed report of
// zeros that says which metrics are missing and lists every question as
// a gap.
func TestNothing(t *testing.T) {
	r, err := qci.Report(ctx{}, &sdk.ReportRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if p := finite(r); p != "" {
		t.Errorf("not finite or not well-formed: %s", p)
	}
	k := kpis(r)
	if k["overview.index"].Value != 0 || k["overview.areas_below_target"].Value != 8 || k["coverage.answered"].Value != 0 {
		t.Errorf("kpis %+v", k)
	}
	for _, s := range r.Sections {
		if s.Key == "kpis" && !strings.Contains(s.Summary, "Metrics not available: new_customers, retention_rate, median_reply_hours") {
			t.Errorf("kpis summary: %s", s.Summary)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []string{`{"kpi_weight": 1.5}`, `{"area_weights": {"sales": 1}}`, `{"area_weights": {"measurement": -1}}`, `{"max_rows": -1}`, `{"enquiry_days": 0}`, `[`} {
		if _, err := qci.Report(ctx{}, &sdk.ReportRequest{Config: []byte(c)}); err == nil {
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
	var fromManifest qci.Config
	if err := json.Unmarshal(raw, &fromManifest); err != nil {
		t.Fatal(err)
	}
	if want := qci.DefaultConfig(); !reflect.DeepEqual(fromManifest, want) {
		t.Errorf("manifest defaults %+v\ncode defaults %+v", fromManifest, want)
	}
}

// TestManifestDeclaresTheColumns: the enquiry columns the report reads are
// declared, for organizations and contacts, as the aggregates the docs
// give (a column not declared would arrive as missing, silently).
func TestManifestDeclaresTheColumns(t *testing.T) {
	m := loadManifest(t)
	for _, subject := range []string{"organization", "contact"} {
		ins, err := inputs.ParseAll(nil, subject, m.Inputs[subject])
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, in := range ins {
			got[in.Name] = in.Canonical()
		}
		for name, want := range map[string]string{
			"order_count":          "order_count",
			qci.LastInboundColumn:  "days_since_last(activities where direction = inbound)",
			qci.LastOutboundColumn: "days_since_last(activities where direction = outbound)",
		} {
			if got[name] != want {
				t.Errorf("%s %s: declared %q, want %q", subject, name, got[name], want)
			}
		}
	}
}

func TestConformance(t *testing.T) {
	pluginkit.Run(t, pluginkit.Native(loadManifest(t), qci.Plugin))
}
