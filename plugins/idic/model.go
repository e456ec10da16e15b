package idic

import (
	"math"
	"sort"
)

// Config is the plugin's configuration; its JSON names are those of
// plugin.json's config_schema, where each is documented.
type Config struct {
	// Differentiate.
	ValuePerEmployee float64 `json:"value_per_employee"`
	MostValuable     float64 `json:"most_valuable_actual"`
	MostGrowable     float64 `json:"most_growable_potential"`
	// Identify.
	EmailConfidence float64 `json:"email_confidence"`
	PhoneConfidence float64 `json:"phone_confidence"`
	NameConfidence  float64 `json:"name_confidence"`
	MinConfidence   float64 `json:"min_confidence"`
	MaxGroup        int     `json:"max_group"`
	// Interact.
	Channels   []string `json:"channels"`
	DefaultGap float64  `json:"default_gap_days"`
	// Customize.
	Recommendations int `json:"recommendations"`
	MaxRows         int `json:"max_rows"`
}

// DefaultConfig is the configuration when a binding gives none; it must
// agree with plugin.json's defaults (a test checks).
func DefaultConfig() Config {
	return Config{
		ValuePerEmployee: 50, MostValuable: 50_000, MostGrowable: 100_000,
		EmailConfidence: 0.95, PhoneConfidence: 0.8, NameConfidence: 0.7, MinConfidence: 0.5, MaxGroup: 20,
		Channels: []string{"call", "email", "meeting"}, DefaultGap: 30,
		Recommendations: 3, MaxRows: 500,
	}
}

// Customer is what differentiation reads of an organization or contact.
// NaN marks a missing number.
type Customer struct {
	ID string
	// Margin is the margin of the last 365 days, Σ (amount − cost) of
	// the orders placed then: what the customer brings now, which an
	// all-time sum would inflate with business long gone.
	Margin float64
	// OpenPipeline is the amount of its open deals; Probability their
	// mean probability of closing, 0–1 (NaN when unknown).
	OpenPipeline float64
	Probability  float64
	// Employees is the organization's size (NaN for contacts).
	Employees float64
}

// Value is a customer's actual and potential value (Peppers & Rogers).
type Value struct {
	// Actual is the margin of the last 365 days (0 when missing).
	Actual float64
	// Pipeline is the open pipeline weighted by its probability (the mean
	// probability of the open deals; 0.5 when unknown).
	Pipeline float64
	// Size is employees × ValuePerEmployee: what an organization of that
	// size could buy.
	Size float64
}

// Potential is the value the customer could still bring.
func (v Value) Potential() float64 { return v.Pipeline + v.Size }

// Total is actual plus potential value: the score.
func (v Value) Total() float64 { return v.Actual + v.Potential() }

// ValueOf computes a customer's value.
func ValueOf(c Customer, cfg Config) Value {
	var v Value
	if !math.IsNaN(c.Margin) {
		v.Actual = c.Margin
	}
	if c.OpenPipeline > 0 {
		p := c.Probability
		if math.IsNaN(p) || p < 0 || p > 1 {
			p = 0.5
		}
		v.Pipeline = c.OpenPipeline * p
	}
	if c.Employees > 0 {
		v.Size = c.Employees * cfg.ValuePerEmployee
	}
	return v
}

// Tier is a value tier.
type Tier string

// The tiers, after Peppers & Rogers' MVCs, MGCs and below-zeros.
const (
	MostValuable Tier = "most_valuable"
	MostGrowable Tier = "most_growable"
	Maintain     Tier = "maintain"
	BelowZero    Tier = "below_zero"
)

// Tiers lists the tiers in report order.
var Tiers = []Tier{MostValuable, MostGrowable, Maintain, BelowZero}

// TierOf places a value: below zero when the actual value is negative
// (the customer has cost more than it brought); most valuable when it is
// at least MostValuable; most growable when the potential is at least
// MostGrowable; maintain otherwise.
func TierOf(v Value, cfg Config) Tier {
	switch {
	case v.Actual < 0:
		return BelowZero
	case v.Actual >= cfg.MostValuable:
		return MostValuable
	case v.Potential() >= cfg.MostGrowable:
		return MostGrowable
	}
	return Maintain
}

// History is what interaction planning reads of a contact's activities.
type History struct {
	ID string
	// Count and Inbound are the activities of each channel in the last
	// 365 days, and how many of them came from the contact (inbound), in
	// Config.Channels order.
	Count, Inbound []float64
	// DaysSinceLast is the days since the latest call, email or meeting
	// (NaN when none); SpanDays the days from the first of them in the
	// last 365 days to the latest (NaN when none in that year). Notes and
	// tasks are not interactions with the contact and count for neither.
	DaysSinceLast, SpanDays float64
}

// Interaction is the next best interaction with a contact.
type Interaction struct {
	ID      string
	Channel string
	// InDays is when: 0 means now (the usual gap has passed).
	InDays float64
	Reason string
}

// NextInteraction plans the next interaction with a contact from the last
// 365 days of history. Channel: the one the contact answers most, by
// inbound share (inbound / count, at least one inbound); else the one used
// most; else the first configured. Timing: the contact's usual gap,
// SpanDays / (activities − 1) (the default gap with fewer than two), less
// the days since the last; never negative. A contact with no interaction
// in the year is due as soon as the default gap has passed since the last.
func NextInteraction(h History, cfg Config) Interaction {
	it := Interaction{ID: h.ID}
	best, bestShare, mostUsed, most := -1, 0.0, -1, 0.0
	total := 0.0
	for i := range cfg.Channels {
		n, in := at(h.Count, i), at(h.Inbound, i)
		total += n
		if in >= 1 && n > 0 && in/n > bestShare {
			best, bestShare = i, in/n
		}
		if n > most {
			mostUsed, most = i, n
		}
	}
	switch {
	case best >= 0:
		it.Channel = cfg.Channels[best]
		it.Reason = "answers this channel most"
	case mostUsed >= 0:
		it.Channel = cfg.Channels[mostUsed]
		it.Reason = "channel used most"
	case len(cfg.Channels) > 0:
		it.Channel = cfg.Channels[0]
		it.Reason = "no history: first channel"
	}
	gap := cfg.DefaultGap
	if total >= 2 && h.SpanDays > 0 {
		gap = h.SpanDays / (total - 1)
	}
	since := h.DaysSinceLast
	if math.IsNaN(since) || since < 0 {
		since = 0
	}
	it.InDays = math.Max(0, gap-since)
	return it
}

func at(v []float64, i int) float64 {
	if i < len(v) && v[i] > 0 {
		return v[i]
	}
	return 0
}

// Purchase is one customer's purchases of one product.
type Purchase struct {
	Customer, Product string
	Quantity          float64
}

// Recommendation is a product suggested to a customer.
type Recommendation struct {
	Customer, Product string
	// Score is Σ over the customer's products q of cos(q, product).
	Score float64
}

// Recommend suggests to each customer up to n products it has not
// bought, from what similar customers bought: item-to-item collaborative
// filtering on bought-or-not, where cos(p, q) = |buyers of both| /
// √(|buyers of p| · |buyers of q|), and a product's score for a customer
// is the sum of its similarities with the customer's products. Ties go
// to the product name. Customers come out in ID order.
func Recommend(ps []Purchase, n int) []Recommendation {
	bought := map[string]map[string]bool{} // customer → products
	buyers := map[string]map[string]bool{} // product → customers
	for _, p := range ps {
		if p.Customer == "" || p.Product == "" || !(p.Quantity > 0) {
			continue
		}
		if bought[p.Customer] == nil {
			bought[p.Customer] = map[string]bool{}
		}
		bought[p.Customer][p.Product] = true
		if buyers[p.Product] == nil {
			buyers[p.Product] = map[string]bool{}
		}
		buyers[p.Product][p.Customer] = true
	}
	products := make([]string, 0, len(buyers))
	for p := range buyers {
		products = append(products, p)
	}
	sort.Strings(products)
	// co[p][q] = customers who bought both.
	co := map[string]map[string]float64{}
	for _, items := range bought {
		for p := range items {
			if co[p] == nil {
				co[p] = map[string]float64{}
			}
			for q := range items {
				if p != q {
					co[p][q]++
				}
			}
		}
	}
	customers := make([]string, 0, len(bought))
	for c := range bought {
		customers = append(customers, c)
	}
	sort.Strings(customers)
	var out []Recommendation
	for _, c := range customers {
		mine := make([]string, 0, len(bought[c]))
		for q := range bought[c] {
			mine = append(mine, q)
		}
		sort.Strings(mine) // a fixed order of addition: equal input, equal bits
		scores := map[string]float64{}
		for _, q := range mine {
			for p, both := range co[q] {
				if bought[c][p] {
					continue
				}
				scores[p] += both / math.Sqrt(float64(len(buyers[p])*len(buyers[q])))
			}
		}
		var recs []Recommendation
		for _, p := range products {
			if s, ok := scores[p]; ok {
				recs = append(recs, Recommendation{Customer: c, Product: p, Score: s})
			}
		}
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Score > recs[j].Score })
		if len(recs) > n {
			recs = recs[:n]
		}
		out = append(out, recs...)
	}
	return out
}
