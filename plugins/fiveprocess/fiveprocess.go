// Package fiveprocess is Payne and Frow's strategic framework for customer
// relationship management as a Rapport plugin: its five cross-functional
// processes — strategy development, value creation, multichannel
// integration, information management and performance assessment —
// each measured from a workspace's data. See README.md for the model, its
// outputs and its configuration.
//
// It implements one extension point, report, with a section per process:
// segment attractiveness (Segments), value per segment and the economics
// of acquisition and retention (EconomicsOf), volume per channel and lead
// conversion per source (Channels, ConversionFromMetrics,
// ConversionFromLeads), the quality of contact information
// (InformationOf), and a scorecard against targets (Scorecard).
package fiveprocess

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
)

// Plugin is what this package serves.
var Plugin = sdk.Plugin{Report: Report}

// The host metrics the report reads.
const (
	NewCustomersMetric    = "new_customers"
	AcquisitionCostMetric = "acquisition_cost"
	RetentionRateMetric   = "retention_rate"
	ChurnRateMetric       = "churn_rate"
	CLVHistoricalMetric   = "clv_historical_average"
	CLVPredictiveMetric   = "clv_predictive"
	WinRateMetric         = "win_rate"
	ReplyRateMetric       = "reply_rate"
	ActivitiesMetric      = "activities_by_kind"
	LeadsMetric           = "leads_by_source"
	ConvertedLeadsMetric  = "converted_leads_by_source"
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
	w := cfg.Weights
	if w.Size < 0 || w.Margin < 0 || w.Activity < 0 {
		return cfg, fmt.Errorf("config: attractiveness_weights must not be negative")
	}
	if cfg.MaxRows < 0 || cfg.ActiveDays < 0 {
		return cfg, fmt.Errorf("config: max_rows and active_days must not be negative")
	}
	return cfg, nil
}

// Input is what the report reads from a request.
type Input struct {
	Customers []Customer
	Contacts  []Contact
	Leads     []Lead
}

// Read gathers the customers (organizations and contacts), the contacts
// and the leads of a report request's batches.
func Read(req *sdk.ReportRequest) Input {
	var in Input
	for i := range req.Batches {
		b := &req.Batches[i]
		switch b.SubjectType {
		case "organization", "contact":
			seg := b.Texts("segment")
			orders, revenue, margin := b.Numbers("order_count"), b.Numbers("order_total"), b.Numbers("order_margin")
			lastOrder, lastActivity := b.Numbers("days_since_last_order"), b.Numbers("days_since_last_activity")
			ofOrg := b.Numbers("has_organization")
			for j := 0; j < b.Count; j++ {
				if b.SubjectType == "contact" && ofOrg[j] >= 0.5 {
					continue // a contact of an organization buys for it: the organization is the customer
				}
				in.Customers = append(in.Customers, Customer{Segment: seg[j], Orders: orders[j], Revenue: revenue[j], Margin: margin[j], DaysSinceLastOrder: lastOrder[j], DaysSinceLastActivity: lastActivity[j]})
			}
			if b.SubjectType != "contact" {
				continue
			}
			email, phone := b.Texts("email"), b.Texts("phone")
			he, hp, ho := b.Numbers("has_email"), b.Numbers("has_phone"), b.Numbers("has_organization")
			for j := 0; j < b.Count; j++ {
				in.Contacts = append(in.Contacts, Contact{Email: email[j], Phone: phone[j], HasEmail: he[j], HasPhone: hp[j], HasOrganization: ho[j], Orders: orders[j]})
			}
		case "lead":
			src, status := b.Texts("source"), b.Texts("status")
			for j := 0; j < b.Count; j++ {
				in.Leads = append(in.Leads, Lead{Source: src[j], Status: status[j]})
			}
		}
	}
	return in
}

// finite reports whether x is a number other than NaN or ±Inf.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// metricSum is the sum of a metric's finite values, known when it has one.
func metricSum(req *sdk.ReportRequest, name string) Figure {
	var f Figure
	if m := req.Metric(name); m != nil {
		for _, v := range m.Values {
			if finite(v) {
				f.Value += v
				f.Known = true
			}
		}
	}
	return f
}

// metricMean is the mean of a metric's finite values over its periods.
func metricMean(req *sdk.ReportRequest, name string) Figure {
	var f Figure
	if m := req.Metric(name); m != nil {
		n := 0
		for _, v := range m.Values {
			if finite(v) {
				f.Value += v
				n++
			}
		}
		if n > 0 {
			f = Figure{f.Value / float64(n), true}
		}
	}
	return f
}

// metricValue is a single-value metric's value (its first finite one).
func metricValue(req *sdk.ReportRequest, name string) Figure {
	if m := req.Metric(name); m != nil {
		for _, v := range m.Values {
			if finite(v) {
				return Figure{v, true}
			}
		}
	}
	return Figure{}
}

// missingMetrics lists the named metrics the request lacks.
func missingMetrics(req *sdk.ReportRequest, names ...string) []string {
	var out []string
	for _, n := range names {
		if req.Metric(n) == nil {
			out = append(out, n)
		}
	}
	return out
}

// notAvailable is a summary's sentence on missing metrics, or "".
func notAvailable(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return " Metrics not available: " + strings.Join(missing, ", ") + "."
}

// Report builds one section per process.
func Report(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	in := Read(req)
	segments := Segments(in.Customers, cfg)
	econ := EconomicsOf(metricSum(req, NewCustomersMetric), metricValue(req, AcquisitionCostMetric),
		metricMean(req, RetentionRateMetric), metricMean(req, ChurnRateMetric),
		metricValue(req, CLVHistoricalMetric), metricValue(req, CLVPredictiveMetric))
	info := InformationOf(in.Contacts)
	checks := Scorecard(econ, metricMean(req, WinRateMetric), metricMean(req, ReplyRateMetric), info, cfg)
	return &sdk.Report{Title: "CRM strategic framework: the five cross-functional processes", Sections: []sdk.Section{
		strategySection(segments, len(in.Customers), cfg),
		valueSection(segments, econ, req, cfg),
		multichannelSection(in.Leads, req, cfg),
		informationSection(info, cfg),
		performanceSection(checks, req, cfg),
	}}, nil
}

func strategySection(segs []SegmentValue, customers int, cfg Config) sdk.Section {
	t := sdk.Table{Key: "segments", Title: "Segment attractiveness, most attractive first", Columns: []string{"segment", "customers", "customer_share", "buyers", "revenue", "revenue_share", "margin", "margin_per_customer", "active_share", "attractiveness"}}
	s := sdk.Series{Name: "attractiveness_by_segment", Chart: "bar"}
	unsegmented := 0
	for i, sg := range segs {
		if sg.Key == Unsegmented {
			unsegmented = sg.Customers
		}
		if i >= cfg.MaxRows {
			continue
		}
		t.Rows = append(t.Rows, []string{sg.Key, fmt.Sprint(sg.Customers), pct(sg.CustomerShare), fmt.Sprint(sg.Buyers), money(sg.Revenue), pct(sg.RevenueShare), money(sg.Margin), money(sg.MarginPerCustomer), pct(sg.ActiveShare), fixed(sg.Attractiveness, 1)})
		s.Labels = append(s.Labels, sg.Key)
		s.Values = append(s.Values, sg.Attractiveness)
	}
	summary := "No organizations or contacts."
	top := 0.0
	if len(segs) > 0 {
		top = segs[0].Attractiveness
		summary = fmt.Sprintf("%d customers in %d segments; the most attractive is %s (%.1f of 100).", customers, len(segs), segs[0].Key, top)
	}
	return sdk.Section{
		Key: "strategy", Title: "Strategy development",
		Summary: summary,
		KPIs: []sdk.KPI{
			{Key: "customers", Label: "Organizations and contacts", Value: float64(customers), Unit: "count"},
			{Key: "segments", Label: "Segments", Value: float64(len(segs)), Unit: "count"},
			{Key: "unsegmented_share", Label: "Customers without a segment", Value: 100 * share(float64(unsegmented), float64(customers)), Unit: "percent"},
			{Key: "top_attractiveness", Label: "Attractiveness of the most attractive segment (0–100)", Value: top},
		},
		Tables: []sdk.Table{t},
		Series: []sdk.Series{s},
	}
}

func valueSection(segs []SegmentValue, e Economics, req *sdk.ReportRequest, cfg Config) sdk.Section {
	byMargin := make([]SegmentValue, len(segs))
	copy(byMargin, segs)
	sort.Slice(byMargin, func(i, j int) bool {
		if byMargin[i].Margin != byMargin[j].Margin {
			return byMargin[i].Margin > byMargin[j].Margin
		}
		return byMargin[i].Key < byMargin[j].Key
	})
	total := 0.0
	for _, sg := range segs {
		total += sg.Margin
	}
	seg := sdk.Table{Key: "segment_value", Title: "Value per segment, by margin", Columns: []string{"segment", "customers", "buyers", "revenue", "margin", "margin_share", "revenue_per_buyer"}}
	for i, sg := range byMargin {
		if i >= cfg.MaxRows {
			break
		}
		seg.Rows = append(seg.Rows, []string{sg.Key, fmt.Sprint(sg.Customers), fmt.Sprint(sg.Buyers), money(sg.Revenue), money(sg.Margin), pct(share(sg.Margin, total)), money(share(sg.Revenue, float64(sg.Buyers)))})
	}
	econ := sdk.Table{Key: "economics", Title: "Acquisition and retention economics", Columns: []string{"figure", "value", "data"}}
	for _, row := range []struct {
		name string
		f    Figure
		show func(float64) string
	}{
		{"new_customers", e.NewCustomers, func(v float64) string { return fixed(v, 0) }},
		{"acquisition_cost", e.AcquisitionCost, money},
		{"acquisition_spend", e.AcquisitionSpend, money},
		{"retention_rate", e.RetentionRate, pct},
		{"churn_rate", e.ChurnRate, pct},
		{"expected_lifetime_periods", e.ExpectedLifetime, func(v float64) string { return fixed(v, 1) }},
		{"clv_historical", e.CLVHistorical, money},
		{"clv_predictive", e.CLVPredictive, money},
		{"clv_to_cac", e.CLVToCAC, func(v float64) string { return fixed(v, 2) }},
	} {
		if len(econ.Rows) >= cfg.MaxRows {
			break
		}
		value, data := "–", "no data"
		if row.f.Known {
			value, data = row.show(row.f.Value), "measured"
		}
		econ.Rows = append(econ.Rows, []string{row.name, value, data})
	}
	summary := fmt.Sprintf("Margin %s over %d segments.", money(total), len(segs))
	if e.CLVToCAC.Known {
		summary += fmt.Sprintf(" A customer's lifetime value is %.2f times its acquisition cost.", e.CLVToCAC.Value)
	}
	summary += notAvailable(missingMetrics(req, NewCustomersMetric, AcquisitionCostMetric, RetentionRateMetric, ChurnRateMetric, CLVHistoricalMetric, CLVPredictiveMetric))
	return sdk.Section{
		Key: "value", Title: "Value creation",
		Summary: summary,
		KPIs: []sdk.KPI{
			{Key: "margin", Label: "Margin of all customers", Value: total, Unit: "money"},
			{Key: "new_customers", Label: "New customers", Value: e.NewCustomers.Value, Unit: "count"},
			{Key: "acquisition_cost", Label: "Acquisition cost per customer", Value: e.AcquisitionCost.Value, Unit: "money"},
			{Key: "acquisition_spend", Label: "Acquisition spend", Value: e.AcquisitionSpend.Value, Unit: "money"},
			{Key: "retention_rate", Label: "Retention rate, mean per period", Value: 100 * e.RetentionRate.Value, Unit: "percent"},
			{Key: "churn_rate", Label: "Churn rate, mean per period", Value: 100 * e.ChurnRate.Value, Unit: "percent"},
			{Key: "expected_lifetime", Label: "Expected customer lifetime (periods)", Value: e.ExpectedLifetime.Value},
			{Key: "clv_historical", Label: "Historical customer lifetime value", Value: e.CLVHistorical.Value, Unit: "money"},
			{Key: "clv_predictive", Label: "Predictive customer lifetime value", Value: e.CLVPredictive.Value, Unit: "money"},
			{Key: "clv_to_cac", Label: "CLV to acquisition cost", Value: e.CLVToCAC.Value},
		},
		Tables: []sdk.Table{seg, econ},
	}
}

func multichannelSection(leads []Lead, req *sdk.ReportRequest, cfg Config) sdk.Section {
	var kinds []string
	var counts []float64
	if m := req.Metric(ActivitiesMetric); m != nil {
		kinds, counts = m.Labels, m.Values
	}
	channels := Channels(kinds, counts)
	ct := sdk.Table{Key: "channels", Title: "Interactions per channel", Columns: []string{"channel", "activities", "share"}}
	cs := sdk.Series{Name: "activities_by_channel", Chart: "bar"}
	var interactions float64
	used := 0
	for i, c := range channels {
		interactions += c.Activities
		if c.Activities > 0 {
			used++
		}
		if i < cfg.MaxRows {
			ct.Rows = append(ct.Rows, []string{c.Kind, fixed(c.Activities, 0), pct(c.Share)})
			cs.Labels = append(cs.Labels, c.Kind)
			cs.Values = append(cs.Values, c.Activities)
		}
	}
	var conv []Conversion
	basis := fmt.Sprintf("lead conversion from %d leads' statuses", len(leads))
	if m := req.Metric(LeadsMetric); m != nil {
		var cl []string
		var cv []float64
		if c := req.Metric(ConvertedLeadsMetric); c != nil {
			cl, cv = c.Labels, c.Values
		}
		conv = ConversionFromMetrics(m.Labels, m.Values, cl, cv)
		basis = "lead conversion from the leads_by_source and converted_leads_by_source metrics"
	} else {
		conv = ConversionFromLeads(leads)
	}
	lt := sdk.Table{Key: "conversion", Title: "Lead conversion per source, most leads first", Columns: []string{"source", "leads", "converted", "conversion_rate"}}
	ls := sdk.Series{Name: "conversion_by_source", Chart: "bar"}
	var total, converted float64
	for i, c := range conv {
		total += c.Leads
		converted += c.Converted
		if i < cfg.MaxRows {
			lt.Rows = append(lt.Rows, []string{c.Source, fixed(c.Leads, 0), fixed(c.Converted, 0), pct(c.Rate)})
			ls.Labels = append(ls.Labels, c.Source)
			ls.Values = append(ls.Values, 100*c.Rate)
		}
	}
	summary := fmt.Sprintf("%.0f interactions over %d channels; %s: %.0f of %.0f converted.", interactions, used, basis, converted, total)
	missing := missingMetrics(req, ActivitiesMetric)
	if req.Metric(LeadsMetric) != nil {
		missing = append(missing, missingMetrics(req, ConvertedLeadsMetric)...)
	}
	summary += notAvailable(missing)
	return sdk.Section{
		Key: "multichannel", Title: "Multichannel integration",
		Summary: summary,
		KPIs: []sdk.KPI{
			{Key: "interactions", Label: "Interactions", Value: interactions, Unit: "count"},
			{Key: "channels_used", Label: "Channels used", Value: float64(used), Unit: "count"},
			{Key: "leads", Label: "Leads", Value: total, Unit: "count"},
			{Key: "converted", Label: "Leads converted", Value: converted, Unit: "count"},
			{Key: "conversion_rate", Label: "Lead conversion rate", Value: 100 * share(converted, total), Unit: "percent"},
		},
		Tables: []sdk.Table{ct, lt},
		Series: []sdk.Series{cs, ls},
	}
}

func informationSection(in Information, cfg Config) sdk.Section {
	t := sdk.Table{Key: "completeness", Title: "Contact data completeness", Columns: []string{"field", "contacts", "share"}}
	for _, r := range []struct {
		field string
		n     int
		share float64
	}{
		{"email", in.WithEmail, in.EmailShare},
		{"phone", in.WithPhone, in.PhoneShare},
		{"organization", in.WithOrganization, in.OrganizationShare},
	} {
		if len(t.Rows) < cfg.MaxRows {
			t.Rows = append(t.Rows, []string{r.field, fmt.Sprint(r.n), pct(r.share)})
		}
	}
	return sdk.Section{
		Key: "information", Title: "Information management",
		Summary: fmt.Sprintf("%d contacts: %s complete; %d share an email or phone with another (%d shared values); %s are linked to an organization or have ordered.", in.Contacts, pct(in.Completeness), in.Duplicates, in.DuplicateGroups, pct(in.SingleViewCoverage)),
		KPIs: []sdk.KPI{
			{Key: "contacts", Label: "Contacts", Value: float64(in.Contacts), Unit: "count"},
			{Key: "email_share", Label: "Contacts with an email", Value: 100 * in.EmailShare, Unit: "percent"},
			{Key: "phone_share", Label: "Contacts with a phone", Value: 100 * in.PhoneShare, Unit: "percent"},
			{Key: "organization_share", Label: "Contacts with an organization", Value: 100 * in.OrganizationShare, Unit: "percent"},
			{Key: "completeness", Label: "Completeness (email, phone, organization)", Value: 100 * in.Completeness, Unit: "percent"},
			{Key: "duplicate_rate", Label: "Contacts sharing an email or phone", Value: 100 * in.DuplicateRate, Unit: "percent"},
			{Key: "duplicate_groups", Label: "Shared emails and phones", Value: float64(in.DuplicateGroups), Unit: "count"},
			{Key: "single_view_coverage", Label: "Single customer view coverage", Value: 100 * in.SingleViewCoverage, Unit: "percent"},
		},
		Tables: []sdk.Table{t},
	}
}

func performanceSection(checks []Check, req *sdk.ReportRequest, cfg Config) sdk.Section {
	t := sdk.Table{Key: "scorecard", Title: "Performance scorecard", Columns: []string{"kpi", "value", "target", "direction", "status"}}
	var kpis []sdk.KPI
	met, known := 0, 0
	for _, c := range checks {
		scale, unit, show := 100.0, "percent", pct
		if c.Ratio {
			scale, unit, show = 1, "", func(v float64) string { return fixed(v, 2) }
		}
		target := scale * c.Target
		kpis = append(kpis, sdk.KPI{Key: c.Key, Label: c.Label, Value: scale * c.Value, Unit: unit, Target: &target})
		if c.Known {
			known++
		}
		if c.Met() {
			met++
		}
		if len(t.Rows) >= cfg.MaxRows {
			continue
		}
		value, direction := "–", "at least"
		if c.Known {
			value = show(c.Value)
		}
		if c.LowerIsBetter {
			direction = "at most"
		}
		t.Rows = append(t.Rows, []string{c.Key, value, show(c.Target), direction, c.Status()})
	}
	kpis = append(kpis, sdk.KPI{Key: "targets_met", Label: "Targets met", Value: float64(met), Unit: "count"})
	summary := fmt.Sprintf("%d of %d KPIs measured; %d meet their target.", known, len(checks), met)
	summary += notAvailable(missingMetrics(req, RetentionRateMetric, ChurnRateMetric, WinRateMetric, CLVHistoricalMetric, CLVPredictiveMetric, AcquisitionCostMetric, ReplyRateMetric))
	return sdk.Section{Key: "performance", Title: "Performance assessment", Summary: summary, KPIs: kpis, Tables: []sdk.Table{t}}
}

func money(v float64) string        { return fmt.Sprintf("%.2f", v) }
func pct(f float64) string          { return fmt.Sprintf("%.1f%%", 100*f) }
func fixed(v float64, d int) string { return fmt.Sprintf("%.*f", d, v) }
