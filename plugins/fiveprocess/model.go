package fiveprocess

import (
	"math"
	"sort"

	"github.com/rapportcrm/rapport/plugins/idic"
)

// Unsegmented is the segment key of a customer without one.
const Unsegmented = "unsegmented"

// Config is the plugin's configuration; its JSON names are those of
// plugin.json's config_schema, where the defaults are documented.
type Config struct {
	Weights Weights `json:"attractiveness_weights"`
	// ActiveDays: a customer with an order or an activity at most this many
	// days ago is active.
	ActiveDays float64 `json:"active_days"`
	Targets    Targets `json:"targets"`
	MaxRows    int     `json:"max_rows"`
}

// Weights weigh the parts of segment attractiveness.
type Weights struct {
	Size     float64 `json:"size"`
	Margin   float64 `json:"margin"`
	Activity float64 `json:"activity"`
}

// Targets are the performance scorecard's targets; rates are fractions.
type Targets struct {
	RetentionRate    float64 `json:"retention_rate"`
	ChurnRate        float64 `json:"churn_rate"`
	WinRate          float64 `json:"win_rate"`
	CLVToCAC         float64 `json:"clv_to_cac"`
	ReplyRate        float64 `json:"reply_rate"`
	DataCompleteness float64 `json:"data_completeness"`
}

// DefaultConfig is the configuration when a binding gives none; it must
// agree with plugin.json's defaults (a test checks).
func DefaultConfig() Config {
	return Config{
		Weights:    Weights{Size: 0.4, Margin: 0.4, Activity: 0.2},
		ActiveDays: 90,
		Targets:    Targets{RetentionRate: 0.85, ChurnRate: 0.05, WinRate: 0.25, CLVToCAC: 3, ReplyRate: 0.5, DataCompleteness: 0.9},
		MaxRows:    500,
	}
}

// Customer is what strategy development reads of an organization or a
// contact. NaN marks a missing number.
type Customer struct {
	// Segment is the customer's first segment key, "" when none.
	Segment string
	// Orders, Revenue (Σ order amounts) and Margin (Σ amount − cost).
	Orders, Revenue, Margin float64
	// DaysSinceLastOrder and DaysSinceLastActivity.
	DaysSinceLastOrder, DaysSinceLastActivity float64
}

// SegmentValue is one segment's size, value and attractiveness.
type SegmentValue struct {
	Key string
	// Customers in the segment, Buyers those with an order, Active those
	// with an order or activity within ActiveDays.
	Customers, Buyers, Active int
	// Revenue and Margin are the segment's sums (missing counts 0).
	Revenue, Margin float64
	// MarginPerCustomer is Margin / Customers.
	MarginPerCustomer float64
	// RevenueShare is the segment's share of all revenue; CustomerShare of
	// all customers; ActiveShare is Active / Customers.
	RevenueShare, CustomerShare, ActiveShare float64
	// The parts of attractiveness, each 0–1: Size is RevenueShare; Margin
	// is min(1, max(0, margin per customer / the mean margin per customer
	// of all customers) / 2), so the mean scores 0.5 (0 when the mean is
	// not positive); Activity is ActiveShare.
	SizePart, MarginPart, ActivityPart float64
	// Attractiveness is the weighted mean of the parts × 100.
	Attractiveness float64
}

// Segments groups customers by segment (Unsegmented for none) and rates
// each segment's attractiveness. The result is by attractiveness, highest
// first, ties by key.
func Segments(cs []Customer, cfg Config) []SegmentValue {
	index := map[string]int{}
	var out []SegmentValue
	var revenue, margin float64
	for _, c := range cs {
		key := c.Segment
		if key == "" {
			key = Unsegmented
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, SegmentValue{Key: key})
		}
		s := &out[i]
		s.Customers++
		if c.Orders >= 1 {
			s.Buyers++
		}
		if Active(c, cfg.ActiveDays) {
			s.Active++
		}
		r, m := orZero(c.Revenue), orZero(c.Margin)
		s.Revenue += r
		s.Margin += m
		revenue += r
		margin += m
	}
	meanMargin := share(margin, float64(len(cs)))
	w := cfg.Weights
	sum := w.Size + w.Margin + w.Activity
	for i := range out {
		s := &out[i]
		s.MarginPerCustomer = share(s.Margin, float64(s.Customers))
		s.RevenueShare = share(s.Revenue, revenue)
		s.CustomerShare = share(float64(s.Customers), float64(len(cs)))
		s.ActiveShare = share(float64(s.Active), float64(s.Customers))
		s.SizePart = s.RevenueShare
		if meanMargin > 0 {
			s.MarginPart = math.Min(1, math.Max(0, s.MarginPerCustomer/meanMargin)/2)
		}
		s.ActivityPart = s.ActiveShare
		if sum > 0 {
			s.Attractiveness = 100 * (w.Size*s.SizePart + w.Margin*s.MarginPart + w.Activity*s.ActivityPart) / sum
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Attractiveness != out[j].Attractiveness {
			return out[i].Attractiveness > out[j].Attractiveness
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Active reports whether the customer ordered or had an activity at most
// days ago.
func Active(c Customer, days float64) bool {
	return c.DaysSinceLastOrder <= days || c.DaysSinceLastActivity <= days
}

// Figure is a metric's value, and whether the host sent it.
type Figure struct {
	Value float64
	Known bool
}

// Economics are the acquisition and retention economics of value
// creation.
type Economics struct {
	// NewCustomers is the sum of new_customers over its periods.
	NewCustomers Figure
	// AcquisitionCost is the cost of acquiring one customer (CAC);
	// AcquisitionSpend is NewCustomers × AcquisitionCost.
	AcquisitionCost, AcquisitionSpend Figure
	// RetentionRate and ChurnRate are the mean per period (fractions);
	// ExpectedLifetime is 1 / ChurnRate periods, known when churn is
	// positive.
	RetentionRate, ChurnRate, ExpectedLifetime Figure
	// CLVHistorical and CLVPredictive are the host's customer lifetime
	// values; CLV is the predictive one when known, else the historical.
	CLVHistorical, CLVPredictive, CLV Figure
	// CLVToCAC is CLV / AcquisitionCost, known when both are and the cost
	// is positive.
	CLVToCAC Figure
}

// EconomicsOf combines the metrics into the economics.
func EconomicsOf(newCustomers, cac, retention, churn, clvHistorical, clvPredictive Figure) Economics {
	e := Economics{NewCustomers: newCustomers, AcquisitionCost: cac, RetentionRate: retention, ChurnRate: churn, CLVHistorical: clvHistorical, CLVPredictive: clvPredictive}
	if newCustomers.Known && cac.Known {
		e.AcquisitionSpend = known(newCustomers.Value * cac.Value)
	}
	if churn.Known && churn.Value > 0 {
		e.ExpectedLifetime = known(1 / churn.Value)
	}
	e.CLV = clvHistorical
	if clvPredictive.Known {
		e.CLV = clvPredictive
	}
	if e.CLV.Known && cac.Known && cac.Value > 0 {
		e.CLVToCAC = known(e.CLV.Value / cac.Value)
	}
	return e
}

// known is v as a known figure, or an unknown one when v overflowed.
func known(v float64) Figure {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Figure{}
	}
	return Figure{v, true}
}

// Channel is the volume of one interaction channel (activity kind).
type Channel struct {
	Kind       string
	Activities float64
	// Share is the channel's share of all activities.
	Share float64
}

// Channels gives each activity kind its volume and share, in the order
// given; a missing or negative count is 0.
func Channels(kinds []string, counts []float64) []Channel {
	out := make([]Channel, 0, len(kinds))
	total := 0.0
	for i, k := range kinds {
		n := 0.0
		if i < len(counts) && counts[i] > 0 && !math.IsInf(counts[i], 0) {
			n = counts[i]
		}
		out = append(out, Channel{Kind: k, Activities: n})
		total += n
	}
	for i := range out {
		out[i].Share = share(out[i].Activities, total)
	}
	return out
}

// Conversion is the lead conversion of one source.
type Conversion struct {
	Source string
	// Leads from the source, Converted of them; Rate = Converted / Leads.
	Leads, Converted, Rate float64
}

// UnknownSource is the source of a lead without one.
const UnknownSource = "unknown"

// ConvertedStatus is the lead status that counts as converted.
const ConvertedStatus = "converted"

// Lead is what multichannel integration reads of a lead.
type Lead struct {
	Source, Status string
}

// ConversionFromMetrics pairs leads and converted leads per source (the
// labels of the two metrics; a label appearing twice is summed). Missing
// or negative counts are 0. The result is by leads, most first, ties by
// source.
func ConversionFromMetrics(leadSources []string, leads []float64, convertedSources []string, converted []float64) []Conversion {
	index := map[string]int{}
	var out []Conversion
	at := func(src string) *Conversion {
		if src == "" {
			src = UnknownSource
		}
		i, ok := index[src]
		if !ok {
			i = len(out)
			index[src] = i
			out = append(out, Conversion{Source: src})
		}
		return &out[i]
	}
	for i, s := range leadSources {
		at(s).Leads += count(leads, i)
	}
	for i, s := range convertedSources {
		at(s).Converted += count(converted, i)
	}
	return rank(out)
}

// ConversionFromLeads counts leads per source (UnknownSource when
// missing) and those with status ConvertedStatus. The result is ordered
// as ConversionFromMetrics's.
func ConversionFromLeads(ls []Lead) []Conversion {
	index := map[string]int{}
	var out []Conversion
	for _, l := range ls {
		src := l.Source
		if src == "" {
			src = UnknownSource
		}
		i, ok := index[src]
		if !ok {
			i = len(out)
			index[src] = i
			out = append(out, Conversion{Source: src})
		}
		out[i].Leads++
		if l.Status == ConvertedStatus {
			out[i].Converted++
		}
	}
	return rank(out)
}

func rank(out []Conversion) []Conversion {
	for i := range out {
		out[i].Rate = share(out[i].Converted, out[i].Leads)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Leads != out[j].Leads {
			return out[i].Leads > out[j].Leads
		}
		return out[i].Source < out[j].Source
	})
	return out
}

// count is v[i] when it is a finite positive number, else 0.
func count(v []float64, i int) float64 {
	if i < len(v) && v[i] > 0 && !math.IsInf(v[i], 0) {
		return v[i]
	}
	return 0
}

// Contact is what information management reads of a contact.
type Contact struct {
	// Email and Phone as recorded ("" when none).
	Email, Phone string
	// HasEmail, HasPhone and HasOrganization are 0/1 flags (NaN missing,
	// counted as absent); Orders is the number of orders.
	HasEmail, HasPhone, HasOrganization, Orders float64
}

// Information is the quality of the customer information.
type Information struct {
	Contacts int
	// WithEmail, WithPhone, WithOrganization count the contacts whose
	// flag is set; the shares are of Contacts; Completeness is the mean
	// of the three shares.
	WithEmail, WithPhone, WithOrganization                  int
	EmailShare, PhoneShare, OrganizationShare, Completeness float64
	// Duplicates are the contacts sharing a normalised email or phone
	// (idic.NormalEmail, idic.NormalPhone) with another contact, in
	// DuplicateGroups distinct shared values; DuplicateRate is
	// Duplicates / Contacts.
	Duplicates, DuplicateGroups int
	DuplicateRate               float64
	// SingleView counts the contacts linked to an organization or with an
	// order; SingleViewCoverage is SingleView / Contacts.
	SingleView         int
	SingleViewCoverage float64
}

// InformationOf measures the completeness, duplication and single view of
// the contacts.
func InformationOf(cs []Contact) Information {
	in := Information{Contacts: len(cs)}
	keys := make([][2]string, len(cs))
	shared := map[string]int{}
	for i, c := range cs {
		if c.HasEmail > 0 {
			in.WithEmail++
		}
		if c.HasPhone > 0 {
			in.WithPhone++
		}
		if c.HasOrganization > 0 {
			in.WithOrganization++
		}
		if c.HasOrganization > 0 || c.Orders >= 1 {
			in.SingleView++
		}
		if e := idic.NormalEmail(c.Email); e != "" {
			keys[i][0] = "email:" + e
			shared[keys[i][0]]++
		}
		if p := idic.NormalPhone(c.Phone); p != "" {
			keys[i][1] = "phone:" + p
			shared[keys[i][1]]++
		}
	}
	for i := range cs {
		if shared[keys[i][0]] > 1 || shared[keys[i][1]] > 1 {
			in.Duplicates++
		}
	}
	for _, n := range shared {
		if n > 1 {
			in.DuplicateGroups++
		}
	}
	n := float64(len(cs))
	in.EmailShare = share(float64(in.WithEmail), n)
	in.PhoneShare = share(float64(in.WithPhone), n)
	in.OrganizationShare = share(float64(in.WithOrganization), n)
	in.Completeness = share(float64(in.WithEmail+in.WithPhone+in.WithOrganization), 3*n)
	in.DuplicateRate = share(float64(in.Duplicates), n)
	in.SingleViewCoverage = share(float64(in.SingleView), n)
	return in
}

// Check is one line of the performance scorecard.
type Check struct {
	Key, Label    string
	Value, Target float64
	LowerIsBetter bool
	// Known is false when the figure could not be measured.
	Known bool
	// Ratio is set for a figure that is not a rate (CLV:CAC).
	Ratio bool
}

// Met reports whether a known figure reaches its target (at or below it
// when lower is better).
func (c Check) Met() bool {
	if !c.Known {
		return false
	}
	if c.LowerIsBetter {
		return c.Value <= c.Target
	}
	return c.Value >= c.Target
}

// Status is "met", "not met" or "no data".
func (c Check) Status() string {
	switch {
	case !c.Known:
		return "no data"
	case c.Met():
		return "met"
	}
	return "not met"
}

// Scorecard lists the performance checks against cfg.Targets, in this
// order: retention rate, churn rate (lower is better), win rate, CLV:CAC,
// reply rate, data completeness.
func Scorecard(e Economics, winRate, replyRate Figure, info Information, cfg Config) []Check {
	t := cfg.Targets
	return []Check{
		{Key: "retention_rate", Label: "Retention rate", Value: e.RetentionRate.Value, Target: t.RetentionRate, Known: e.RetentionRate.Known},
		{Key: "churn_rate", Label: "Churn rate", Value: e.ChurnRate.Value, Target: t.ChurnRate, LowerIsBetter: true, Known: e.ChurnRate.Known},
		{Key: "win_rate", Label: "Win rate", Value: winRate.Value, Target: t.WinRate, Known: winRate.Known},
		{Key: "clv_to_cac", Label: "CLV to acquisition cost", Value: e.CLVToCAC.Value, Target: t.CLVToCAC, Known: e.CLVToCAC.Known, Ratio: true},
		{Key: "reply_rate", Label: "Reply rate", Value: replyRate.Value, Target: t.ReplyRate, Known: replyRate.Known},
		{Key: "data_completeness", Label: "Contact data completeness", Value: info.Completeness, Target: t.DataCompleteness, Known: info.Contacts > 0},
	}
}

func orZero(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// share is a/b, 0 when b is not positive (never NaN).
func share(a, b float64) float64 {
	if !(b > 0) || math.IsNaN(a) {
		return 0
	}
	return a / b
}
