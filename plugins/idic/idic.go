// Package idic is Peppers & Rogers' IDIC model as a Rapport plugin:
// identify customers, differentiate them by value, interact with them, and
// customize what is offered. See README.md for the model, its outputs and
// its configuration.
//
// It implements three extension points:
//
//   - score: each organization or contact scores its actual value (the
//     margin of its orders of the last 365 days) plus its potential value
//     (ValueOf), explained by three factors and labelled with its tier;
//   - segment: the value tier (TierOf): most_valuable, most_growable,
//     maintain or below_zero;
//   - report: identify (Identify: duplicate candidates among contacts),
//     differentiate (the tiers), interact (NextInteraction per contact) and
//     customize (Recommend: products similar customers bought).
package idic

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rapportcrm/rapport/sdk"
)

// Plugin is what this package serves.
var Plugin = sdk.Plugin{Score: Score, Segment: Segment, Report: Report}

// Factors name the score's explanation.
var Factors = []string{"actual", "pipeline", "size"}

// PurchaseRecords is the record type of the report's purchase batch: one
// row per customer and product, with customer_id, product and quantity.
const PurchaseRecords = "purchase"

func parseConfig(raw []byte) (Config, error) {
	cfg := DefaultConfig()
	if len(raw) == 0 {
		return cfg, nil
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	if cfg.MaxGroup < 2 || cfg.Recommendations < 0 || cfg.MaxRows < 0 {
		return cfg, fmt.Errorf("config: max_group must be at least 2, recommendations and max_rows not negative")
	}
	return cfg, nil
}

// ids returns the batch's subject IDs, from IDs or an "id" column.
func ids(b *sdk.Batch) []string {
	if len(b.IDs) == b.Count {
		return b.IDs
	}
	return b.Texts("id")
}

// The columns of the declared inputs plugin.json names (its "name =" part):
// MarginColumn is sum(orders.margin within 365d); FirstTouchColumn and
// LastTouchColumn are days_since_first and days_since_last of the calls,
// emails and meetings (the first within 365 days); a channel's counts over
// the last 365 days are ChannelColumn (all) and InboundColumn (inbound).
const (
	MarginColumn     = "margin"
	FirstTouchColumn = "first_touch"
	LastTouchColumn  = "last_touch"
)

// ChannelColumn names the column counting a channel's activities of the
// last 365 days: "calls", "emails", "meetings".
func ChannelColumn(channel string) string { return channel + "s" }

// InboundColumn names the column counting a channel's inbound activities
// of the last 365 days: "inbound_calls", "inbound_emails",
// "inbound_meetings".
func InboundColumn(channel string) string { return "inbound_" + channel + "s" }

func customers(b *sdk.Batch) []Customer {
	id := ids(b)
	margin, pipe, prob, emp := b.Numbers(MarginColumn), b.Numbers("open_pipeline"), b.Numbers("open_probability"), b.Numbers("employees")
	out := make([]Customer, b.Count)
	for i := range out {
		out[i] = Customer{ID: id[i], Margin: margin[i], OpenPipeline: pipe[i], Probability: prob[i], Employees: emp[i]}
	}
	return out
}

// Score scores each customer's actual plus potential value.
func Score(ctx sdk.Context, req *sdk.ScoreRequest) (*sdk.ScoreResponse, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	cs := customers(&req.Batch)
	r := sdk.NewScoreResponse(len(cs), Factors...)
	for i, c := range cs {
		v := ValueOf(c, cfg)
		r.Values[i] = v.Total()
		r.SetContribution(i, 0, v.Actual)
		r.SetContribution(i, 1, v.Pipeline)
		r.SetContribution(i, 2, v.Size)
		r.SetLabel(i, string(TierOf(v, cfg)))
	}
	return r, nil
}

// Segment puts each customer in its value tier.
func Segment(ctx sdk.Context, req *sdk.SegmentRequest) (*sdk.SegmentResponse, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	s := sdk.NewSegments(req.Batch.Count)
	for i, c := range customers(&req.Batch) {
		s.Assign(i, string(TierOf(ValueOf(c, cfg), cfg)), 1)
	}
	return s.Response(), nil
}

// Report builds the four IDIC sections from the organization, contact and
// purchase batches.
func Report(ctx sdk.Context, req *sdk.ReportRequest) (*sdk.Report, error) {
	cfg, err := parseConfig(req.Config)
	if err != nil {
		return nil, err
	}
	var (
		all       []Customer
		contacts  []Contact
		histories []History
		purchases []Purchase
	)
	for i := range req.Batches {
		b := &req.Batches[i]
		switch b.SubjectType {
		case "organization":
			all = append(all, customers(b)...)
		case "contact":
			ofOrg := b.Numbers("has_organization")
			for j, c := range customers(b) {
				// A contact of an organization buys for it: the
				// organization is the customer.
				if ofOrg[j] < 0.5 || ofOrg[j] != ofOrg[j] {
					all = append(all, c)
				}
			}
			contacts = append(contacts, contactsOf(b)...)
			histories = append(histories, historiesOf(b, cfg)...)
		case PurchaseRecords:
			cust, prod, qty := b.Texts("customer_id"), b.Texts("product"), b.Numbers("quantity")
			for j := 0; j < b.Count; j++ {
				purchases = append(purchases, Purchase{Customer: cust[j], Product: prod[j], Quantity: qty[j]})
			}
		}
	}
	return &sdk.Report{Title: "IDIC: identify, differentiate, interact, customize", Sections: []sdk.Section{
		identifySection(contacts, cfg),
		differentiateSection(all, cfg),
		interactSection(histories, cfg),
		customizeSection(purchases, cfg),
	}}, nil
}

func contactsOf(b *sdk.Batch) []Contact {
	id := ids(b)
	first, last, email, phone, org := b.Texts("first_name"), b.Texts("last_name"), b.Texts("email"), b.Texts("phone"), b.Texts("organization_id")
	out := make([]Contact, b.Count)
	for i := range out {
		out[i] = Contact{ID: id[i], FirstName: first[i], LastName: last[i], Email: email[i], Phone: phone[i], OrganizationID: org[i]}
	}
	return out
}

func historiesOf(b *sdk.Batch, cfg Config) []History {
	id := ids(b)
	first, last := b.Numbers(FirstTouchColumn), b.Numbers(LastTouchColumn)
	counts := make([][]float64, len(cfg.Channels))
	inbound := make([][]float64, len(cfg.Channels))
	for k, ch := range cfg.Channels {
		counts[k], inbound[k] = b.Numbers(ChannelColumn(ch)), b.Numbers(InboundColumn(ch))
	}
	out := make([]History, b.Count)
	for i := range out {
		// The span of the year's interactions: from the first of the last
		// 365 days to the latest (NaN when there is none in the year).
		h := History{ID: id[i], DaysSinceLast: last[i], SpanDays: first[i] - last[i], Count: make([]float64, len(cfg.Channels)), Inbound: make([]float64, len(cfg.Channels))}
		for k := range cfg.Channels {
			h.Count[k], h.Inbound[k] = counts[k][i], inbound[k][i]
		}
		out[i] = h
	}
	return out
}

func identifySection(contacts []Contact, cfg Config) sdk.Section {
	dups := Identify(contacts, cfg)
	involved := map[string]bool{}
	t := sdk.Table{Key: "duplicates", Title: "Duplicate candidates", Columns: []string{"contact", "duplicate_of", "confidence", "reasons"}}
	for i, d := range dups {
		involved[d.A], involved[d.B] = true, true
		if i < cfg.MaxRows {
			reasons := ""
			for j, r := range d.Reasons {
				if j > 0 {
					reasons += ", "
				}
				reasons += string(r)
			}
			t.Rows = append(t.Rows, []string{d.B, d.A, fmt.Sprintf("%.3f", d.Confidence), reasons})
		}
	}
	return sdk.Section{
		Key: "identify", Title: "Identify",
		Summary: fmt.Sprintf("%d contacts checked; %d candidate pairs involve %d of them.", len(contacts), len(dups), len(involved)),
		KPIs: []sdk.KPI{
			{Key: "contacts", Label: "Contacts checked", Value: float64(len(contacts)), Unit: "count"},
			{Key: "pairs", Label: "Duplicate candidate pairs", Value: float64(len(dups)), Unit: "count"},
			{Key: "duplicate_rate", Label: "Contacts in a candidate pair", Value: 100 * share(float64(len(involved)), float64(len(contacts))), Unit: "percent"},
		},
		Tables: []sdk.Table{t},
	}
}

func differentiateSection(all []Customer, cfg Config) sdk.Section {
	type tier struct {
		n                 int
		actual, potential float64
	}
	tiers := map[Tier]*tier{}
	for _, t := range Tiers {
		tiers[t] = &tier{}
	}
	type ranked struct {
		id string
		v  Value
		t  Tier
	}
	var rs []ranked
	var total float64
	for _, c := range all {
		v := ValueOf(c, cfg)
		t := TierOf(v, cfg)
		tiers[t].n++
		tiers[t].actual += v.Actual
		tiers[t].potential += v.Potential()
		total += v.Actual
		rs = append(rs, ranked{c.ID, v, t})
	}
	tt := sdk.Table{Key: "tiers", Title: "Customers by value tier", Columns: []string{"tier", "customers", "actual_value", "potential_value", "actual_share"}}
	s := sdk.Series{Name: "customers_by_tier", Chart: "bar"}
	for _, t := range Tiers {
		x := tiers[t]
		tt.Rows = append(tt.Rows, []string{string(t), fmt.Sprint(x.n), money(x.actual), money(x.potential), pct(share(x.actual, total))})
		s.Labels = append(s.Labels, string(t))
		s.Values = append(s.Values, float64(x.n))
	}
	slices.SortFunc(rs, func(x, y ranked) int {
		if c := cmp.Compare(y.v.Total(), x.v.Total()); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	top := sdk.Table{Key: "customers", Title: "Customers by total value", Columns: []string{"id", "tier", "actual", "potential", "total"}}
	for i, r := range rs {
		if i >= cfg.MaxRows {
			break
		}
		top.Rows = append(top.Rows, []string{r.id, string(r.t), money(r.v.Actual), money(r.v.Potential()), money(r.v.Total())})
	}
	return sdk.Section{
		Key: "differentiate", Title: "Differentiate",
		Summary: fmt.Sprintf("%d customers by actual value (margin of the last 365 days) and potential value (weighted open pipeline and size).", len(all)),
		KPIs: []sdk.KPI{
			{Key: "customers", Label: "Customers", Value: float64(len(all)), Unit: "count"},
			{Key: "most_valuable", Label: "Most valuable customers", Value: float64(tiers[MostValuable].n), Unit: "count"},
			{Key: "most_valuable_share", Label: "Actual value from the most valuable", Value: 100 * share(tiers[MostValuable].actual, total), Unit: "percent"},
			{Key: "below_zero", Label: "Below-zero customers", Value: float64(tiers[BelowZero].n), Unit: "count"},
		},
		Tables: []sdk.Table{tt, top},
		Series: []sdk.Series{s},
	}
}

func interactSection(hs []History, cfg Config) sdk.Section {
	plans := make([]Interaction, len(hs))
	byChannel := map[string]int{}
	due := 0
	for i, h := range hs {
		plans[i] = NextInteraction(h, cfg)
		byChannel[plans[i].Channel]++
		if plans[i].InDays == 0 {
			due++
		}
	}
	slices.SortStableFunc(plans, func(x, y Interaction) int {
		if c := cmp.Compare(x.InDays, y.InDays); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	t := sdk.Table{Key: "next", Title: "Next best interaction, soonest first", Columns: []string{"contact", "channel", "in_days", "why"}}
	for i, p := range plans {
		if i >= cfg.MaxRows {
			break
		}
		t.Rows = append(t.Rows, []string{p.ID, p.Channel, fmt.Sprintf("%.0f", math.Ceil(p.InDays)), p.Reason})
	}
	s := sdk.Series{Name: "next_by_channel", Chart: "bar"}
	for _, ch := range cfg.Channels {
		s.Labels = append(s.Labels, ch)
		s.Values = append(s.Values, float64(byChannel[ch]))
	}
	return sdk.Section{
		Key: "interact", Title: "Interact",
		Summary: fmt.Sprintf("%d contacts planned; %d are due now.", len(hs), due),
		KPIs: []sdk.KPI{
			{Key: "contacts", Label: "Contacts planned", Value: float64(len(hs)), Unit: "count"},
			{Key: "due_now", Label: "Due now", Value: float64(due), Unit: "count"},
		},
		Tables: []sdk.Table{t},
		Series: []sdk.Series{s},
	}
}

func customizeSection(ps []Purchase, cfg Config) sdk.Section {
	recs := Recommend(ps, cfg.Recommendations)
	t := sdk.Table{Key: "recommendations", Title: "Products similar customers bought", Columns: []string{"customer", "product", "score"}}
	customers := map[string]bool{}
	for i, r := range recs {
		customers[r.Customer] = true
		if i < cfg.MaxRows*max(cfg.Recommendations, 1) {
			t.Rows = append(t.Rows, []string{r.Customer, r.Product, fmt.Sprintf("%.3f", r.Score)})
		}
	}
	buyers := map[string]bool{}
	for _, p := range ps {
		if p.Quantity > 0 && p.Customer != "" {
			buyers[p.Customer] = true
		}
	}
	return sdk.Section{
		Key: "customize", Title: "Customize",
		Summary: fmt.Sprintf("%d recommendations for %d of %d buying customers.", len(recs), len(customers), len(buyers)),
		KPIs: []sdk.KPI{
			{Key: "recommendations", Label: "Recommendations", Value: float64(len(recs)), Unit: "count"},
			{Key: "coverage", Label: "Buying customers with a recommendation", Value: 100 * share(float64(len(customers)), float64(len(buyers))), Unit: "percent"},
		},
		Tables: []sdk.Table{t},
	}
}

func share(a, b float64) float64 {
	if !(b > 0) || math.IsNaN(a) {
		return 0
	}
	return a / b
}

func money(v float64) string { return fmt.Sprintf("%.2f", v) }
func pct(f float64) string   { return fmt.Sprintf("%.1f%%", 100*f) }
