// Package valuechain is the CRM value chain model as a Rapport plugin:
// customer portfolio analysis, the customer lifecycle and where customer
// work goes, after Buttle's CRM value chain, which adapts Porter's value
// chain (primary and support activities) to customer management. See
// README.md for the model, its outputs and its configuration.
//
// It implements two extension points:
//
//   - segment: each organization or contact gets one lifecycle stage
//     (StageOf): prospect, first_time, repeat, loyal or lapsed;
//   - report: the customer portfolio matrix (Portfolio), the lifecycle
//     distribution, and primary versus support activity (Activities).
package valuechain

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/rapportcrm/rapport/sdk"
)

// Plugin is what this package serves.
var Plugin = sdk.Plugin{Segment: Segment, Report: Report}

// ActivitiesMetric is the host metric the activity section reads: labels
// are activity kinds, values the activities of each kind in the range.
const ActivitiesMetric = "activities_by_kind"

// parseConfig reads a binding's configuration over the defaults.
func parseConfig(raw []byte) (Config, error) {
	cfg := DefaultConfig()
	if len(raw) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if cfg.MaxRows < 0 {
		return cfg, fmt.Errorf("config: max_rows must not be negative")
	}
	return cfg, nil
}

// customers reads a batch of organizations or contacts.
func customers(b *sdk.Batch) []Customer {
	orders, margin := b.Numbers("order_count"), b.Numbers("order_margin")
	first, last := b.Numbers("days_since_first_order"), b.Numbers("days_since_last_order")
	pipe, emp := b.Numbers("open_pipeline"), b.Numbers("employees")
	out := make([]Customer, b.Count)
	for i := range out {
		out[i] = Customer{Orders: orders[i], Margin: margin[i], DaysSinceFirst: first[i], DaysSinceLast: last[i], OpenPipeline: pipe[i], Employees: emp[i]}
		if i < len(b.IDs) {
			out[i].ID = b.IDs[i]
		} else if c := b.Column("id"); c != nil {
			out[i].ID, _ = c.Text(i)
		}
	}
	return out
}

// Segment puts each customer in its lifecycle stage.
func Segment(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	s := sdk.NewSegments(req.Batch.Count)
	for i, c := range customers(&req.Batch) {
		s.Assign(i, string(StageOf(c, cfg)), 1)
	}
	return s.Response(), nil
}

// Report builds the value chain report from the batches of organizations
// and contacts and the activities metric.
func Report(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	var all []Customer
	for i := range req.Batches {
		b := &req.Batches[i]
		if b.SubjectType != "organization" && b.SubjectType != "contact" {
			continue
		}
		ofOrg := b.Numbers("has_organization")
		for j, c := range customers(b) {
			// A contact of an organization buys for it: the organization
			// is the customer.
			if b.SubjectType == "contact" && ofOrg[j] >= 0.5 {
				continue
			}
			all = append(all, c)
		}
	}
	r := &sdk.Report{Title: "CRM value chain"}
	r.Sections = append(r.Sections, portfolioSection(all, cfg), lifecycleSection(all, cfg), activitySection(req.Metric(ActivitiesMetric), cfg))
	return r, nil
}

func portfolioSection(all []Customer, cfg Config) sdk.Section {
	placed, threshold := Portfolio(all, cfg)
	type cell struct {
		n            int
		margin, sigs float64
	}
	cells := map[Quadrant]*cell{}
	for _, q := range Quadrants {
		cells[q] = &cell{}
	}
	total := 0.0
	for _, p := range placed {
		c := cells[p.Quadrant]
		c.n++
		c.margin += p.Margin
		c.sigs += p.Significance
		total += p.Margin
	}
	quadrants := sdk.Table{Key: "quadrants", Title: "Customer portfolio matrix", Columns: []string{"quadrant", "customers", "margin", "margin_share", "mean_significance", "action"}}
	series := sdk.Series{Name: "customers_by_quadrant", Chart: "bar"}
	for _, q := range Quadrants {
		c := cells[q]
		quadrants.Rows = append(quadrants.Rows, []string{string(q), itoa(c.n), money(c.margin), pct(share(c.margin, total)), fixed(mean(c.sigs, c.n), 3), Actions[q]})
		series.Labels = append(series.Labels, string(q))
		series.Values = append(series.Values, float64(c.n))
	}
	customers := sdk.Table{Key: "customers", Title: "Customers placed, by margin", Columns: []string{"id", "quadrant", "margin", "significance"}}
	for i, p := range placed {
		if i >= cfg.MaxRows {
			break
		}
		customers.Rows = append(customers.Rows, []string{p.ID, string(p.Quadrant), money(p.Margin), fixed(p.Significance, 3)})
	}
	strategic := float64(cells[Strategic].n)
	return sdk.Section{
		Key: "portfolio", Title: "Customer portfolio analysis",
		Summary: fmt.Sprintf("%d customers with orders placed by margin (high at or above %s) and strategic significance (high at or above %s).", len(placed), money(threshold), fixed(cfg.SignificanceThreshold, 2)),
		KPIs: []sdk.KPI{
			{Key: "customers_placed", Label: "Customers placed", Value: float64(len(placed)), Unit: "count"},
			{Key: "profit_threshold", Label: "Profitability threshold (margin)", Value: threshold, Unit: "money"},
			{Key: "strategic_share", Label: "Strategic customers", Value: 100 * share(strategic, float64(len(placed))), Unit: "percent"},
			{Key: "strategic_margin_share", Label: "Margin from strategic customers", Value: 100 * share(cells[Strategic].margin, total), Unit: "percent"},
		},
		Tables: []sdk.Table{quadrants, customers},
		Series: []sdk.Series{series},
	}
}

func lifecycleSection(all []Customer, cfg Config) sdk.Section {
	counts := map[Stage]int{}
	for _, c := range all {
		counts[StageOf(c, cfg)]++
	}
	t := sdk.Table{Key: "stages", Title: "Customers by lifecycle stage", Columns: []string{"stage", "customers", "share"}}
	s := sdk.Series{Name: "customers_by_stage", Chart: "bar"}
	for _, st := range Stages {
		t.Rows = append(t.Rows, []string{string(st), itoa(counts[st]), pct(share(float64(counts[st]), float64(len(all))))})
		s.Labels = append(s.Labels, string(st))
		s.Values = append(s.Values, float64(counts[st]))
	}
	buyers := len(all) - counts[Prospect]
	returning := counts[Repeat] + counts[Loyal]
	return sdk.Section{
		Key: "lifecycle", Title: "Managing the customer lifecycle",
		Summary: fmt.Sprintf("%d organizations and contacts: %d have ordered, %d of them more than once and still active.", len(all), buyers, returning),
		KPIs: []sdk.KPI{
			{Key: "customers", Label: "Customers with orders", Value: float64(buyers), Unit: "count"},
			{Key: "returning_share", Label: "Repeat or loyal, of customers with orders", Value: 100 * share(float64(returning), float64(buyers)), Unit: "percent"},
			{Key: "lapsed_share", Label: "Lapsed, of customers with orders", Value: 100 * share(float64(counts[Lapsed]), float64(buyers)), Unit: "percent"},
		},
		Tables: []sdk.Table{t},
		Series: []sdk.Series{s},
	}
}

func activitySection(m *sdk.Series, cfg Config) sdk.Section {
	var kinds []string
	var counts []float64
	if m != nil {
		kinds, counts = m.Labels, m.Values
	}
	costs := Activities(kinds, counts, cfg)
	sort.SliceStable(costs, func(i, j int) bool { return costs[i].Primary && !costs[j].Primary })
	var total, primary, hours float64
	for _, c := range costs {
		total += c.Cost
		hours += c.Hours
		if c.Primary {
			primary += c.Cost
		}
	}
	t := sdk.Table{Key: "activities", Title: "Where customer work goes", Columns: []string{"kind", "class", "activities", "hours", "cost", "cost_share"}}
	for _, c := range costs {
		class := "support"
		if c.Primary {
			class = "primary"
		}
		t.Rows = append(t.Rows, []string{c.Kind, class, fixed(c.Activities, 0), fixed(c.Hours, 1), money(c.Cost), pct(share(c.Cost, total))})
	}
	return sdk.Section{
		Key: "activities", Title: "Primary and support activities",
		Summary: fmt.Sprintf("%.0f hours of recorded customer work; primary (customer-facing) activities are %s of its cost.", hours, pct(share(primary, total))),
		KPIs: []sdk.KPI{
			{Key: "hours", Label: "Hours of customer work", Value: hours, Unit: "count"},
			{Key: "cost", Label: "Cost of customer work", Value: total, Unit: "money"},
			{Key: "primary_share", Label: "Primary activities, share of cost", Value: 100 * share(primary, total), Unit: "percent"},
		},
		Tables: []sdk.Table{t},
	}
}

// share is a/b, 0 when b is not positive (never NaN).
func share(a, b float64) float64 {
	if !(b > 0) || math.IsNaN(a) {
		return 0
	}
	return a / b
}

func mean(sum float64, n int) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func itoa(n int) string             { return fmt.Sprint(n) }
func money(v float64) string        { return fmt.Sprintf("%.2f", v) }
func pct(f float64) string          { return fmt.Sprintf("%.1f%%", 100*f) }
func fixed(v float64, d int) string { return fmt.Sprintf("%.*f", d, v) }
