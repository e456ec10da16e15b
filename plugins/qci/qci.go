// Package qci is the QCI customer management assessment as a Rapport
// plugin: eight areas of customer management, from analysis and planning
// to measuring the effect, each scored 0–100 from a questionnaire and,
// where the area can be measured, from the workspace's data; a weighted
// index over the areas; and the gaps to close, largest first. See
// README.md for the model, its question set and its configuration.
//
// It implements one extension point, report, which reads the answers
// recorded as "assessment" records, the organizations and contacts (for
// penetration, data completeness and enquiries answered) and the host's
// metrics.
package qci

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
)

// Plugin is what this package serves.
var Plugin = sdk.Plugin{Report: Report}

// AssessmentRecords is the record type of the answers: one record per
// recorded answer, with question (text: a key of Questions) and answer
// (a number 0–MaxAnswer).
const AssessmentRecords = "assessment"

// The columns of the declared inputs plugin.json names for organizations
// and contacts: days_since_last(activities where direction = inbound) and
// the same for outbound.
const (
	LastInboundColumn  = "last_inbound"
	LastOutboundColumn = "last_outbound"
)

// The host metrics the report reads.
const (
	NewCustomersMetric     = "new_customers"
	RetentionRateMetric    = "retention_rate"
	MedianReplyHoursMetric = "median_reply_hours"
)

// parseConfig reads a binding's configuration over the defaults.
func parseConfig(raw []byte) (Config, error) {
	cfg := DefaultConfig()
	if len(raw) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if !(cfg.KPIWeight >= 0 && cfg.KPIWeight <= 1) {
		return cfg, fmt.Errorf("config: kpi_weight must be between 0 and 1")
	}
	if !(cfg.EnquiryDays > 0) {
		return cfg, fmt.Errorf("config: enquiry_days must be positive")
	}
	if cfg.MaxRows < 0 || cfg.WeakestQuestions < 0 {
		return cfg, fmt.Errorf("config: max_rows and weakest_questions must not be negative")
	}
	for k, w := range cfg.AreaWeights {
		if !knownArea(k) {
			return cfg, fmt.Errorf("config: area_weights: unknown area %q", k)
		}
		if !(w >= 0) {
			return cfg, fmt.Errorf("config: area_weights.%s must not be negative", k)
		}
	}
	return cfg, nil
}

func knownArea(k string) bool {
	for _, a := range Areas {
		if a.Key == k {
			return true
		}
	}
	return false
}

// values returns the named metric's values, or nil when it is absent.
func values(req *sdk.ReportRequest, name string) []float64 {
	if m := req.Metric(name); m != nil {
		if m.Values == nil {
			return []float64{}
		}
		return m.Values
	}
	return nil
}

// Read gathers the answers and the data of the measured KPIs from a
// report request.
func Read(req *sdk.ReportRequest) ([]Answer, Data) {
	var answers []Answer
	d := Data{
		NewCustomers:     values(req, NewCustomersMetric),
		RetentionRate:    values(req, RetentionRateMetric),
		MedianReplyHours: values(req, MedianReplyHoursMetric),
	}
	for i := range req.Batches {
		b := &req.Batches[i]
		switch b.SubjectType {
		case AssessmentRecords:
			q, v := b.Texts("question"), b.Numbers("answer")
			for j := 0; j < b.Count; j++ {
				answers = append(answers, Answer{Question: q[j], Value: v[j]})
			}
		case "organization", "contact":
			orders, ofOrg := b.Numbers("order_count"), b.Numbers("has_organization")
			inbound, outbound := b.Numbers(LastInboundColumn), b.Numbers(LastOutboundColumn)
			for j, n := range orders {
				if b.SubjectType == "contact" && ofOrg[j] >= 0.5 {
					continue // a contact of an organization buys for it: the organization is the customer
				}
				d.Customers++
				if n >= 1 {
					d.Buyers++
				}
				if !math.IsNaN(inbound[j]) {
					d.Enquiries = append(d.Enquiries, Enquiry{InboundDays: inbound[j], OutboundDays: outbound[j]})
				}
			}
			if b.SubjectType != "contact" {
				continue
			}
			d.Contacts += b.Count
			d.WithEmail += flags(b.Numbers("has_email"))
			d.WithPhone += flags(b.Numbers("has_phone"))
			d.WithOrganization += flags(b.Numbers("has_organization"))
		}
	}
	return answers, d
}

// flags counts the set flags (values above 0) of a 0/1 column.
func flags(v []float64) int {
	n := 0
	for _, x := range v {
		if x > 0 {
			n++
		}
	}
	return n
}

// Report builds the assessment: overview, gaps, questionnaire coverage
// and the measured KPIs.
func Report(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	answers, d := Read(req)
	measures := Measures(d, cfg)
	a := Assess(answers, measures, cfg)
	gaps := Gaps(a, cfg)
	return &sdk.Report{Title: "QCI customer management assessment", Sections: []sdk.Section{
		overviewSection(a, gaps, cfg),
		gapsSection(gaps, cfg),
		coverageSection(a, cfg),
		kpiSection(measures, req, cfg),
	}}, nil
}

// coverage counts the answered questions of the whole set.
func coverage(a Assessment) (answered, total int) {
	for _, s := range a.Areas {
		answered += s.Answered
		total += s.Total
	}
	return answered, total
}

func overviewSection(a Assessment, gaps []Gap, cfg Config) sdk.Section {
	t := sdk.Table{Key: "areas", Title: "Score per area", Columns: []string{"area", "title", "weight", "questionnaire", "answered", "kpi", "score"}}
	s := sdk.Series{Name: "area_scores", Chart: "bar"}
	for i, ar := range a.Areas {
		kpi := "–"
		if ar.HasKPI {
			kpi = fixed(ar.KPI, 1)
		}
		if i < cfg.MaxRows {
			t.Rows = append(t.Rows, []string{ar.Key, ar.Title, fixed(ar.Weight, 2), fixed(ar.Questionnaire, 1), fmt.Sprintf("%d/%d", ar.Answered, ar.Total), kpi, fixed(ar.Score, 1)})
		}
		s.Labels = append(s.Labels, ar.Key)
		s.Values = append(s.Values, ar.Score)
	}
	answered, total := coverage(a)
	target := cfg.TargetScore
	return sdk.Section{
		Key: "overview", Title: "Customer management index",
		Summary: fmt.Sprintf("Index %.1f of 100 over %d areas (target %.0f); %d of %d questions answered; %d areas below target.", a.Index, len(a.Areas), target, answered, total, len(gaps)),
		KPIs: []sdk.KPI{
			{Key: "index", Label: "Customer management index (0–100)", Value: a.Index, Target: &target},
			{Key: "areas_below_target", Label: "Areas below target", Value: float64(len(gaps)), Unit: "count"},
			{Key: "coverage", Label: "Questions answered", Value: 100 * share(float64(answered), float64(total)), Unit: "percent"},
		},
		Tables: []sdk.Table{t},
		Series: []sdk.Series{s},
	}
}

func gapsSection(gaps []Gap, cfg Config) sdk.Section {
	t := sdk.Table{Key: "gaps", Title: "Gaps to the target, largest first", Columns: []string{"rank", "area", "score", "target", "gap", "weakest_questions", "unanswered"}}
	total := 0.0
	for i, g := range gaps {
		total += g.Gap
		if i >= cfg.MaxRows {
			continue
		}
		var weak []string
		for _, q := range g.Weakest {
			weak = append(weak, fmt.Sprintf("%s (%.2f)", q.Key, q.Mean))
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(i + 1), g.Area, fixed(g.Score, 1), fixed(cfg.TargetScore, 1), fixed(g.Gap, 1), strings.Join(weak, ", "), strings.Join(g.Unanswered, ", ")})
	}
	summary := fmt.Sprintf("Every area scores at least the target %.0f.", cfg.TargetScore)
	largest := 0.0
	if len(gaps) > 0 {
		largest = gaps[0].Gap
		summary = fmt.Sprintf("%d areas below the target %.0f; the largest weighted gap is %s (%.1f).", len(gaps), cfg.TargetScore, gaps[0].Area, gaps[0].Gap)
	}
	return sdk.Section{
		Key: "gaps", Title: "Gaps",
		Summary: summary,
		KPIs: []sdk.KPI{
			{Key: "areas_below_target", Label: "Areas below target", Value: float64(len(gaps)), Unit: "count"},
			{Key: "largest_gap", Label: "Largest weighted gap", Value: largest},
			{Key: "total_gap", Label: "Sum of weighted gaps", Value: total},
		},
		Tables: []sdk.Table{t},
	}
}

func coverageSection(a Assessment, cfg Config) sdk.Section {
	byArea := sdk.Table{Key: "coverage_by_area", Title: "Questions answered per area", Columns: []string{"area", "answered", "questions", "coverage"}}
	qs := sdk.Table{Key: "questions", Title: "Questions", Columns: []string{"question", "area", "answers", "mean_answer", "status"}}
	for _, ar := range a.Areas {
		byArea.Rows = append(byArea.Rows, []string{ar.Key, fmt.Sprint(ar.Answered), fmt.Sprint(ar.Total), pct(share(float64(ar.Answered), float64(ar.Total)))})
		for _, q := range ar.Questions {
			if len(qs.Rows) >= cfg.MaxRows {
				break
			}
			status, mean := "unanswered", "–"
			if q.Answered() {
				status, mean = "answered", fixed(q.Mean, 2)
			}
			qs.Rows = append(qs.Rows, []string{q.Key, q.Area, fmt.Sprint(q.Answers), mean, status})
		}
	}
	if len(byArea.Rows) > cfg.MaxRows {
		byArea.Rows = byArea.Rows[:cfg.MaxRows]
	}
	answered, total := coverage(a)
	return sdk.Section{
		Key: "coverage", Title: "Questionnaire coverage",
		Summary: fmt.Sprintf("%d of %d questions answered, from %d recorded answers (%d ignored: unknown question or outside 0–%d).", answered, total, a.Recorded, a.Ignored, MaxAnswer),
		KPIs: []sdk.KPI{
			{Key: "answered", Label: "Questions answered", Value: float64(answered), Unit: "count"},
			{Key: "questions", Label: "Questions", Value: float64(total), Unit: "count"},
			{Key: "coverage", Label: "Questions answered", Value: 100 * share(float64(answered), float64(total)), Unit: "percent"},
			{Key: "answers", Label: "Answers recorded", Value: float64(a.Recorded), Unit: "count"},
			{Key: "ignored", Label: "Answers ignored", Value: float64(a.Ignored), Unit: "count"},
		},
		Tables: []sdk.Table{byArea, qs},
	}
}

// kpiUnit is how a measured KPI is shown: fractions as percentages.
func kpiUnit(key string) (scale float64, unit string) {
	switch key {
	case KPIRetention, KPIPenetration, KPICompleteness, KPIEnquiries:
		return 100, "percent"
	case KPIAcquisition:
		return 1, "count"
	}
	return 1, ""
}

func kpiSection(ms []Measure, req *sdk.ReportRequest, cfg Config) sdk.Section {
	t := sdk.Table{Key: "kpis", Title: "KPIs measured from data", Columns: []string{"kpi", "area", "value", "target", "score", "data"}}
	var kpis []sdk.KPI
	known := 0
	for _, m := range ms {
		scale, unit := kpiUnit(m.Key)
		target := scale * m.Target
		data, value := "no data", "–"
		if m.Known {
			known++
			data, value = "measured", fixed(scale*m.Value, 1)
		}
		if len(t.Rows) < cfg.MaxRows {
			t.Rows = append(t.Rows, []string{m.Key, m.Area, value, fixed(target, 1), fixed(m.Score(), 1), data})
		}
		kpis = append(kpis, sdk.KPI{Key: m.Key, Label: m.Label, Value: scale * m.Value, Unit: unit, Target: &target})
	}
	var missing []string
	for _, name := range []string{NewCustomersMetric, RetentionRateMetric, MedianReplyHoursMetric} {
		if req.Metric(name) == nil {
			missing = append(missing, name)
		}
	}
	summary := fmt.Sprintf("%d of %d KPIs measured; each scores min(1, value / target) × 100 (target / value for reply time).", known, len(ms))
	if len(missing) > 0 {
		summary += " Metrics not available: " + strings.Join(missing, ", ") + "."
	}
	return sdk.Section{Key: "kpis", Title: "Measured KPIs", Summary: summary, KPIs: kpis, Tables: []sdk.Table{t}}
}

func pct(f float64) string          { return fmt.Sprintf("%.1f%%", 100*f) }
func fixed(v float64, d int) string { return fmt.Sprintf("%.*f", d, v) }
