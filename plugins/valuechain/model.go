package valuechain

import (
	"math"
	"sort"
)

// Stage is a customer's lifecycle stage.
type Stage string

// The lifecycle stages, in the order they are tested (see StageOf).
const (
	Prospect  Stage = "prospect"
	Lapsed    Stage = "lapsed"
	FirstTime Stage = "first_time"
	Loyal     Stage = "loyal"
	Repeat    Stage = "repeat"
)

// Stages lists the stages in lifecycle order, for reports.
var Stages = []Stage{Prospect, FirstTime, Repeat, Loyal, Lapsed}

// Quadrant is a cell of the customer portfolio matrix.
type Quadrant string

// The portfolio quadrants: profitability (high when the customer's margin
// is at or above the profitability threshold) × strategic significance
// (high at or above the significance threshold).
const (
	Strategic   Quadrant = "strategic"   // high profitability, high significance
	Profitable  Quadrant = "profitable"  // high profitability, low significance
	Develop     Quadrant = "develop"     // low profitability, high significance
	Rationalise Quadrant = "rationalise" // low profitability, low significance
)

// Quadrants lists the quadrants in report order.
var Quadrants = []Quadrant{Strategic, Profitable, Develop, Rationalise}

// Actions are the portfolio's recommended treatment per quadrant.
var Actions = map[Quadrant]string{
	Strategic:   "invest: protect and deepen the relationship",
	Profitable:  "maintain: serve efficiently, keep the margin",
	Develop:     "develop: grow share of wallet to make the potential pay",
	Rationalise: "rationalise: lower the cost to serve or re-price",
}

// Customer is one customer's figures, as the host computes them: an
// organization or a contact. NaN marks a missing number.
type Customer struct {
	ID string
	// Orders is the number of orders, refunds included.
	Orders float64
	// Margin is Σ (amount − cost) over the customer's orders, in currency
	// units: the historical profitability.
	Margin float64
	// DaysSinceFirst and DaysSinceLast are the days since the first and
	// the latest order.
	DaysSinceFirst, DaysSinceLast float64
	// OpenPipeline is the amount of the customer's open deals.
	OpenPipeline float64
	// Employees is the organization's size (NaN for contacts).
	Employees float64
}

// Config is the plugin's configuration; its JSON names are those of
// plugin.json's config_schema, where the defaults are documented.
type Config struct {
	LapsedDays      float64 `json:"lapsed_days"`
	LoyalOrders     float64 `json:"loyal_orders"`
	LoyalTenureDays float64 `json:"loyal_tenure_days"`
	// ProfitThreshold is the margin at or above which a customer is of
	// high profitability; nil means the median margin of the customers
	// placed.
	ProfitThreshold       *float64           `json:"profit_threshold"`
	SignificanceThreshold float64            `json:"significance_threshold"`
	Weights               Weights            `json:"significance_weights"`
	PipelineCap           float64            `json:"pipeline_cap"`
	EmployeesCap          float64            `json:"employees_cap"`
	RecencyDays           float64            `json:"recency_days"`
	MaxRows               int                `json:"max_rows"`
	Primary               []string           `json:"primary_kinds"`
	Minutes               map[string]float64 `json:"minutes_per_activity"`
	CostPerHour           float64            `json:"cost_per_hour"`
}

// Weights weigh the parts of strategic significance.
type Weights struct {
	Pipeline float64 `json:"pipeline"`
	Size     float64 `json:"size"`
	Recency  float64 `json:"recency"`
}

// DefaultConfig is the configuration when a binding gives none; it must
// agree with plugin.json's defaults (a test checks).
func DefaultConfig() Config {
	return Config{
		LapsedDays: 365, LoyalOrders: 5, LoyalTenureDays: 365,
		SignificanceThreshold: 0.5,
		Weights:               Weights{Pipeline: 0.5, Size: 0.3, Recency: 0.2},
		PipelineCap:           1_000_000, EmployeesCap: 10_000, RecencyDays: 180,
		MaxRows:     500,
		Primary:     []string{"call", "email", "meeting"},
		Minutes:     map[string]float64{"call": 15, "email": 5, "meeting": 60, "note": 3, "task": 10},
		CostPerHour: 60,
	}
}

// StageOf returns a customer's lifecycle stage: prospect with no order;
// lapsed when the latest order is more than LapsedDays old; first-time
// with one order; loyal with at least LoyalOrders orders over at least
// LoyalTenureDays since the first; repeat otherwise.
func StageOf(c Customer, cfg Config) Stage {
	switch {
	case !(c.Orders >= 1):
		return Prospect
	case c.DaysSinceLast > cfg.LapsedDays:
		return Lapsed
	case c.Orders < 2:
		return FirstTime
	case c.Orders >= cfg.LoyalOrders && c.DaysSinceFirst >= cfg.LoyalTenureDays:
		return Loyal
	}
	return Repeat
}

// Significance is a customer's strategic significance, 0–1: the weighted
// mean of three parts, each 0–1 —
//
//	pipeline = min(1, ln(1 + open pipeline) / ln(1 + PipelineCap))
//	size     = min(1, ln(1 + employees) / ln(1 + EmployeesCap))
//	recency  = e^(−days since last order / RecencyDays)
//
// — where a missing or negative figure counts 0. The weights are divided
// by their sum, so they need not add up to 1.
func Significance(c Customer, cfg Config) float64 {
	w := cfg.Weights
	sum := w.Pipeline + w.Size + w.Recency
	if !(sum > 0) {
		return 0
	}
	s := w.Pipeline*logShare(c.OpenPipeline, cfg.PipelineCap) + w.Size*logShare(c.Employees, cfg.EmployeesCap)
	if c.DaysSinceLast >= 0 && cfg.RecencyDays > 0 {
		s += w.Recency * math.Exp(-c.DaysSinceLast/cfg.RecencyDays)
	}
	return s / sum
}

// logShare is min(1, ln(1+v)/ln(1+max)), 0 for a missing or negative v.
func logShare(v, max float64) float64 {
	if !(v > 0) || !(max > 0) {
		return 0
	}
	return math.Min(1, math.Log1p(v)/math.Log1p(max))
}

// Placement is a customer placed in the portfolio matrix.
type Placement struct {
	ID           string
	Margin       float64
	Significance float64
	Quadrant     Quadrant
}

// Portfolio places every customer with at least one order: high
// profitability at or above the threshold (the configured one, else the
// median margin of those customers), high significance at or above
// SignificanceThreshold. It returns the placements, by margin from
// highest (ties by ID), and the profitability threshold used.
func Portfolio(customers []Customer, cfg Config) ([]Placement, float64) {
	var out []Placement
	for _, c := range customers {
		if !(c.Orders >= 1) {
			continue
		}
		m := c.Margin
		if math.IsNaN(m) {
			m = 0
		}
		out = append(out, Placement{ID: c.ID, Margin: m, Significance: Significance(c, cfg)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Margin != out[j].Margin {
			return out[i].Margin > out[j].Margin
		}
		return out[i].ID < out[j].ID
	})
	threshold := 0.0
	switch {
	case cfg.ProfitThreshold != nil:
		threshold = *cfg.ProfitThreshold
	case len(out) > 0:
		threshold = median(out)
	}
	for i := range out {
		hiP := out[i].Margin >= threshold
		hiS := out[i].Significance >= cfg.SignificanceThreshold
		switch {
		case hiP && hiS:
			out[i].Quadrant = Strategic
		case hiP:
			out[i].Quadrant = Profitable
		case hiS:
			out[i].Quadrant = Develop
		default:
			out[i].Quadrant = Rationalise
		}
	}
	return out, threshold
}

// median of the placements' margins, which are sorted from highest: the
// middle one, or the mean of the two middle ones.
func median(ps []Placement) float64 {
	n := len(ps)
	if n%2 == 1 {
		return ps[n/2].Margin
	}
	return (ps[n/2-1].Margin + ps[n/2].Margin) / 2
}

// ActivityCost is the work of one activity kind over the report's range.
type ActivityCost struct {
	Kind       string
	Primary    bool
	Activities float64
	Hours      float64
	Cost       float64
}

// Activities splits activity counts by kind into primary (customer-facing)
// and support work and costs them: hours = count × minutes per activity /
// 60, cost = hours × cost per hour. Kinds come out in the order given.
func Activities(kinds []string, counts []float64, cfg Config) []ActivityCost {
	primary := map[string]bool{}
	for _, k := range cfg.Primary {
		primary[k] = true
	}
	out := make([]ActivityCost, 0, len(kinds))
	for i, k := range kinds {
		n := 0.0
		if i < len(counts) && counts[i] > 0 {
			n = counts[i]
		}
		h := n * cfg.Minutes[k] / 60
		out = append(out, ActivityCost{Kind: k, Primary: primary[k], Activities: n, Hours: h, Cost: h * cfg.CostPerHour})
	}
	return out
}
