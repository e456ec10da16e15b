package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/pulid"
)

// CustomerPeriod is one period of the customer series: counts, churn and
// retention, and revenue retention. See the package documentation for the
// formulas.
type CustomerPeriod struct {
	Span
	// CustomersAtStart (S) were active in the previous period.
	CustomersAtStart int `json:"customersAtStart"`
	// CustomersAtEnd (E) are active in this period.
	CustomersAtEnd int `json:"customersAtEnd"`
	// NewCustomers placed their first order ever in this period.
	NewCustomers int `json:"newCustomers"`
	// Reactivated are active again after at least one period inactive.
	Reactivated int `json:"reactivated"`
	// Churned were active at the start and are not any more.
	Churned int `json:"churned"`
	// Retained were active at the start and still are: S − Churned.
	Retained int `json:"retained"`
	// ChurnRate is Churned / S; nil when S is 0.
	ChurnRate *float64 `json:"churnRate"`
	// RetentionRate is (E − N) / S with N = NewCustomers + Reactivated,
	// which equals Retained / S; nil when S is 0.
	RetentionRate *float64 `json:"retentionRate"`
	// Orders is the number of orders (refunds included) in the period.
	Orders int `json:"orders"`
	// Buyers is the number of customers with an order in the period.
	Buyers int `json:"buyers"`
	// Revenue is the sum of order amounts (refunds are negative).
	Revenue crm.Money `json:"revenue"`
	// Margin is the sum of amount − cost.
	Margin crm.Money `json:"margin"`
	// StartingRevenue is what the previous period's buyers spent in the
	// previous period.
	StartingRevenue crm.Money `json:"startingRevenue"`
	// RetainedRevenue is what the previous period's buyers spent in this
	// period.
	RetainedRevenue crm.Money `json:"retainedRevenue"`
	// LostRevenue is Σ max(0, previous − this period's revenue) over the
	// previous period's buyers: churned plus contracted revenue.
	LostRevenue crm.Money `json:"lostRevenue"`
	// RevenueChurnRate is LostRevenue / StartingRevenue; nil when
	// StartingRevenue ≤ 0.
	RevenueChurnRate *float64 `json:"revenueChurnRate"`
	// NetRevenueRetention is RetainedRevenue / StartingRevenue; nil when
	// StartingRevenue ≤ 0.
	NetRevenueRetention *float64 `json:"netRevenueRetention"`
}

// CohortMatrix is cohort retention: customers grouped by the period of
// their first order, and how many of each cohort are active in each later
// period.
type CohortMatrix struct {
	Period Period `json:"period"`
	// ActiveWindow is the activity window in periods (see Query).
	ActiveWindow int `json:"activeWindow"`
	// Cohorts are the cohorts whose first period is in the range, oldest
	// first.
	Cohorts []Cohort `json:"cohorts"`
}

// Cohort is the customers whose first order fell in one period.
type Cohort struct {
	Span
	// Size is the number of customers in the cohort.
	Size int `json:"size"`
	// Cells are the cohort's periods from its first (offset 0) to the
	// range's last.
	Cells []CohortCell `json:"cells"`
}

// CohortCell is one cohort in one period.
type CohortCell struct {
	// Offset is the number of periods since the cohort's first.
	Offset int `json:"offset"`
	// Active is the number of the cohort's customers active in the period.
	Active int `json:"active"`
	// Rate is Active / Size.
	Rate *float64 `json:"rate"`
	// Revenue and Margin are the cohort's orders in the period.
	Revenue crm.Money `json:"revenue"`
	Margin  crm.Money `json:"margin"`
}

// CLVConfig holds the inputs of predictive CLV that are not measured, and
// overrides for those that are. Nil fields are measured or defaulted.
type CLVConfig struct {
	// AnnualDiscountRate is i per year; it is converted to the period as
	// (1 + annual)^(1/periods per year) − 1. Nil means 0.10.
	AnnualDiscountRate *float64 `json:"annualDiscountRate"`
	// AcquisitionCost (AC) per customer; zero by default.
	AcquisitionCost crm.Money `json:"acquisitionCost"`
	// Margin (m) per customer per period; nil means measured.
	Margin *crm.Money `json:"margin"`
	// Retention (r) per period, 0 to 1; nil means measured.
	Retention *float64 `json:"retention"`
}

// DefaultAnnualDiscountRate is the discount rate used when none is given.
const DefaultAnnualDiscountRate = 0.10

// CLV is customer lifetime value, historical and predictive.
type CLV struct {
	// Customers is the number of customers with an order before the
	// range's end.
	Customers int `json:"customers"`
	// HistoricalRevenue and HistoricalMargin sum every order of those
	// customers before the range's end.
	HistoricalRevenue crm.Money `json:"historicalRevenue"`
	HistoricalMargin  crm.Money `json:"historicalMargin"`
	// HistoricalAverage is HistoricalMargin / Customers; nil without
	// customers.
	HistoricalAverage *crm.Money `json:"historicalAverage"`
	// Margin is m, the margin per active customer per period (measured
	// over the range unless configured).
	Margin *crm.Money `json:"margin"`
	// Retention is r, the retention rate per period (pooled over the
	// range: Σ retained / Σ customers at start, unless configured).
	Retention *float64 `json:"retention"`
	// DiscountRate is i per period.
	DiscountRate float64 `json:"discountRate"`
	// AcquisitionCost is AC.
	AcquisitionCost crm.Money `json:"acquisitionCost"`
	// Predictive is m·r/(1+i−r) − AC; nil when m or r is unknown or
	// 1+i−r ≤ 0.
	Predictive *crm.Money `json:"predictive"`
	// MarginMeasured and RetentionMeasured tell whether m and r come from
	// the data (true) or from the configuration.
	MarginMeasured    bool `json:"marginMeasured"`
	RetentionMeasured bool `json:"retentionMeasured"`
	// Top are the customers of highest historical margin.
	Top []CustomerValue `json:"top"`
}

// CustomerValue is one customer's historical value.
type CustomerValue struct {
	// ID is the organization's or contact's ID.
	ID pulid.ID `json:"id"`
	// Kind is "organization" or "contact".
	Kind string `json:"kind"`
	// Name is the organization's name or the contact's full name.
	Name    string    `json:"name"`
	Orders  int       `json:"orders"`
	Revenue crm.Money `json:"revenue"`
	// Margin is the historical CLV: Σ (amount − cost).
	Margin     crm.Money `json:"margin"`
	FirstOrder time.Time `json:"firstOrder"`
	LastOrder  time.Time `json:"lastOrder"`
}

// cohortCell is one row of the customer base query: the customers of
// cohort f (first order period) in period p.
type cohortCell struct {
	f, p     int
	buyers   int64 // customers with an order in p
	acquired int64 // of those, active in p but not in p-1 (new or back)
	lapsing  int64 // of those, whose activity ends: inactive from p+W
	rev, mar int64 // Σ amount, Σ (amount − cost) in p
	orders   int64
	kept     int64 // Σ next period's revenue, over those with orders in p+1
	lost     int64 // Σ max(0, rev − next period's revenue)
}

// customerBase is everything the customer series, the cohort matrix and
// CLV are derived from: one aggregate per (cohort, period) up to the end
// of the range, from all history.
type customerBase struct {
	p     *plan
	cells []cohortCell
	top   []CustomerValue // by margin, highest first; IDs and sums only
}

// customerKey is the customer an order belongs to: its organization, else
// its contact.
const customerKey = "COALESCE(organization_id, contact_id)"

// customerMonth is the month index (year·12 + month − 1, in UTC) of an
// order, exactly as the order_customer_month index computes it; the
// migrations of both dialects create that index on
//
//	(workspace_id, customerKey, customerMonth, amount, cost, ordered_at, deal_id)
//
// (PostgreSQL: the key COLLATE "C", the rest as INCLUDE columns), so a
// change here needs a migration that recreates it.
func customerMonth(d sqlDialect) string { return d.period("ordered_at", Month) }

// segmentMatch returns the SQL condition on segment_memberships.segment_id
// that q's segment filter sets (by ID, or by key: every segment of that
// key), or "" when it sets none.
func segmentMatch(a *args, p *plan, ws string) string {
	switch {
	case p.Filter.SegmentID != "":
		return "segment_id = " + a.add(string(p.Filter.SegmentID))
	case p.Filter.SegmentKey != "":
		return fmt.Sprintf("segment_id IN (SELECT id FROM segments WHERE workspace_id = %s AND key = %s)", ws, a.add(p.Filter.SegmentKey))
	}
	return ""
}

// orderFilter returns the SQL conditions that apply q's filter to orders.
func orderFilter(a *args, p *plan, ws string) string {
	var b strings.Builder
	if seg := segmentMatch(a, p, ws); seg != "" {
		fmt.Fprintf(&b, " AND %s IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %s AND %s AND ended_at IS NULL AND subject_type IN ('organization', 'contact'))",
			customerKey, ws, seg)
	}
	if p.Filter.OwnerID != "" {
		o := a.add(string(p.Filter.OwnerID))
		fmt.Fprintf(&b, " AND %s IN (SELECT id FROM organizations WHERE workspace_id = %s AND owner_id = %s UNION ALL SELECT id FROM contacts WHERE workspace_id = %s AND owner_id = %s)",
			customerKey, ws, o, ws, o)
	}
	if p.Filter.PipelineID != "" {
		fmt.Fprintf(&b, " AND deal_id IN (SELECT id FROM deals WHERE workspace_id = %s AND pipeline_id = %s)", ws, a.add(string(p.Filter.PipelineID)))
	}
	return b.String()
}

// customerBase reads what the customer metrics need. Without a filter
// and with the default activity window it sums the cohort cells the
// rollups keep (a few hundred rows); otherwise it runs the customer base
// statement over the customers' monthly rollups; the raw Service runs it
// over the orders themselves. With top > 0 the top customers by
// historical margin come too.
func (s *Service) customerBase(ctx context.Context, p *plan, top int) (*customerBase, error) {
	if !s.raw && p.Filter == (Filter{}) && p.window == 1 {
		return s.customerCells(ctx, p, top)
	}
	query, a := customerBaseQuery(p, top, !s.raw)
	b := &customerBase{p: p}
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			kind int
			c    cohortCell
			id   sql.NullString
		)
		if err := r.Scan(&kind, &c.f, &c.p, &c.buyers, &c.acquired, &c.lapsing, &c.rev, &c.mar, &c.orders, &c.kept, &c.lost, &id); err != nil {
			return err
		}
		if kind == 1 {
			b.top = append(b.top, CustomerValue{ID: pulid.ID(id.String), Orders: int(c.orders), Revenue: crm.Money(c.rev), Margin: crm.Money(c.mar)})
			return nil
		}
		b.cells = append(b.cells, c)
		return nil
	})
	if err != nil {
		return nil, wrap("customer base", err)
	}
	b.sort()
	return b, nil
}

// sort puts the cells in (cohort, period) order and the top customers
// by margin, ties by ID as the statements rank them.
func (b *customerBase) sort() {
	sort.Slice(b.cells, func(i, j int) bool {
		if b.cells[i].f != b.cells[j].f {
			return b.cells[i].f < b.cells[j].f
		}
		return b.cells[i].p < b.cells[j].p
	})
	sort.SliceStable(b.top, func(i, j int) bool {
		if b.top[i].Margin != b.top[j].Margin {
			return b.top[i].Margin > b.top[j].Margin
		}
		return b.top[i].ID < b.top[j].ID
	})
}

// customerCells reads the customer base from rollup_cohort_cells, which
// core/metrics/rollup keeps per (cohort, period) for each period length
// with an activity window of one period. The cells of periods after the
// range are left out: what the base statement's bound on the month does.
// (That bound changes only figures of the range's last period that no
// metric reads: its lapsing, kept and lost.)
//
// The top customers come from rollup_customers, each customer's whole
// history, when no customer has an order after the range; otherwise from
// their monthly rollups up to the range's end.
func (s *Service) customerCells(ctx context.Context, p *plan, top int) (*customerBase, error) {
	var a args
	ws := a.add(string(p.ws))
	query := `SELECT cohort, period, buyers, acquired, lapsing, revenue, margin, orders, kept, lost FROM rollup_cohort_cells
WHERE workspace_id = ` + ws + ` AND months = ` + a.add(p.Period.months()) + ` AND period <= ` + a.add(p.last)
	b := &customerBase{p: p}
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var c cohortCell
		if err := r.Scan(&c.f, &c.p, &c.buyers, &c.acquired, &c.lapsing, &c.rev, &c.mar, &c.orders, &c.kept, &c.lost); err != nil {
			return err
		}
		b.cells = append(b.cells, c)
		return nil
	})
	if err != nil {
		return nil, wrap("customer base", err)
	}
	if top > 0 {
		if err := s.topCustomers(ctx, p, top, b); err != nil {
			return nil, wrap("top customers", err)
		}
	}
	b.sort()
	return b, nil
}

// topCustomers reads the top customers by historical margin up to the
// range's end from the rollups.
func (s *Service) topCustomers(ctx context.Context, p *plan, top int, b *customerBase) error {
	var a args
	ws := a.add(string(p.ws))
	bound := a.add((p.last + 1) * p.Period.months())
	// Ties in margin are ranked by ID. SQLite is told to read the
	// (workspace, margin, customer) index backwards rather than sort.
	query := `SELECT customer_id, orders, revenue, margin FROM rollup_customers
WHERE workspace_id = ` + ws + ` AND NOT EXISTS (SELECT 1 FROM rollup_customers WHERE workspace_id = ` + ws + ` AND last_month >= ` + bound + `)
ORDER BY margin DESC, customer_id LIMIT ` + a.add(top)
	n := 0
	add := func(r *sql.Rows) error {
		var v CustomerValue
		if err := r.Scan(&v.ID, &v.Orders, &v.Revenue, &v.Margin); err != nil {
			return err
		}
		b.top = append(b.top, v)
		n++
		return nil
	}
	if err := p.each(ctx, query, a, add); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	a = nil
	ws = a.add(string(p.ws))
	bound = a.add((p.last + 1) * p.Period.months())
	query = `SELECT customer_id, SUM(orders), SUM(revenue), SUM(margin) FROM rollup_customer_months
WHERE workspace_id = ` + ws + ` AND month < ` + bound + `
GROUP BY customer_id ORDER BY 4 DESC, 1 LIMIT ` + a.add(top)
	return p.each(ctx, query, a, add)
}

// rollupFilter returns the SQL conditions that apply q's filter to
// rollup_customer_months: orderFilter's, on the rollup's columns.
func rollupFilter(a *args, p *plan, ws string) string {
	var b strings.Builder
	if seg := segmentMatch(a, p, ws); seg != "" {
		fmt.Fprintf(&b, " AND customer_id IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %s AND %s AND ended_at IS NULL AND subject_type IN ('organization', 'contact'))",
			ws, seg)
	}
	if p.Filter.OwnerID != "" {
		o := a.add(string(p.Filter.OwnerID))
		fmt.Fprintf(&b, " AND customer_id IN (SELECT id FROM organizations WHERE workspace_id = %s AND owner_id = %s UNION ALL SELECT id FROM contacts WHERE workspace_id = %s AND owner_id = %s)",
			ws, o, ws, o)
	}
	if p.Filter.PipelineID != "" {
		fmt.Fprintf(&b, " AND pipeline_id = %s", a.add(string(p.Filter.PipelineID)))
	}
	return b.String()
}

// customerBaseQuery writes the customer base statement and its
// arguments, over the customers' monthly rollups or, for the raw
// Service, over the orders.
func customerBaseQuery(p *plan, top int, rollups bool) (string, args) {
	var a args
	ws := a.add(string(p.ws))
	d := p.d
	w := a.add(p.window)
	// cp is one row per customer and period. Both dialects read it from
	// the order_customer_month index (see customerMonth), which holds the
	// orders already in (customer, month) order with their amounts: the
	// months are summed without sorting or reading a million rows, and
	// quarters and years are summed from the months. The time bound is
	// on the indexed month too (a period ends at a month's end).
	var cp string
	if rollups {
		// The same rows from the customers' monthly rollups.
		cp = `SELECT ` + d.key("customer_id") + ` AS c, month AS p, SUM(revenue) AS rev, SUM(margin) AS mar, SUM(orders) AS n
  FROM rollup_customer_months
  WHERE workspace_id = ` + ws + ` AND month < ` + a.add((p.last+1)*p.Period.months()) + rollupFilter(&a, p, ws) + `
  GROUP BY 1, 2`
	} else {
		cp = `SELECT ` + d.key(customerKey) + ` AS c, ` + customerMonth(d) + ` AS p, SUM(amount) AS rev, SUM(amount - cost) AS mar, COUNT(*) AS n
  FROM ` + d.byCustomerMonth() + `
  WHERE workspace_id = ` + ws + ` AND ` + customerKey + ` IS NOT NULL
    AND ` + customerMonth(d) + ` < ` + a.add((p.last+1)*p.Period.months()) + orderFilter(&a, p, ws) + `
  GROUP BY 1, 2`
	}
	if p.Period != Month {
		cp = `SELECT c, p / ` + a.add(p.Period.months()) + ` AS p, SUM(rev) AS rev, SUM(mar) AS mar, SUM(n) AS n
  FROM (` + cp + `) AS m GROUP BY 1, 2`
	}
	// SQLite's window pass reuses the GROUP BY's order when it is asked
	// for; PostgreSQL prefers to hash the groups and sort the fewer rows.
	if d.sqlite() {
		cp += " ORDER BY c, p"
	}
	query := `WITH cp AS MATERIALIZED (
  ` + cp + `
), s AS (
  SELECT p, rev, mar, n,
    FIRST_VALUE(p) OVER w AS f,
    LAG(p) OVER w AS pp,
    LEAD(p) OVER w AS np,
    LEAD(rev) OVER w AS nrev
  FROM cp WINDOW w AS (PARTITION BY c ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT 0, f, p, COUNT(*),
  ` + d.sum("CASE WHEN pp IS NULL OR p - pp > "+w+" THEN 1 ELSE 0 END") + `,
  ` + d.sum("CASE WHEN np IS NULL OR np - p > "+w+" THEN 1 ELSE 0 END") + `,
  ` + d.sum("rev") + `, ` + d.sum("mar") + `, ` + d.sum("n") + `,
  ` + d.sum("CASE WHEN np = p + 1 THEN nrev ELSE 0 END") + `,
  ` + d.sum("CASE WHEN np = p + 1 THEN "+d.greatest("rev - nrev", "0")+" ELSE "+d.greatest("rev", "0")+" END") + `,
  NULL
FROM s GROUP BY f, p`
	if top > 0 {
		query += `
UNION ALL
SELECT * FROM (
  SELECT 1, 0, 0, COUNT(*), 0, 0, ` + d.sum("rev") + `, ` + d.sum("mar") + `, ` + d.sum("n") + `, 0, 0, c
  FROM cp GROUP BY c ORDER BY 8 DESC, 12 LIMIT ` + a.add(top) + `
) AS top`
	}
	return query, a
}

// periodTotals are the cells of a customer base summed over cohorts.
type periodTotals struct {
	lo      int // index of the first slot
	active  []int64
	acq     []int64
	newc    []int64
	churned []int64
	buyers  []int64
	rev     []int64
	mar     []int64
	orders  []int64
	kept    []int64
	lost    []int64
}

func (t *periodTotals) at(k int) int { return k - t.lo }

// totals sums the cells by period, from the first period with an order
// (or the range's start, if earlier) to the range's end, and derives the
// number of active customers in each.
func (b *customerBase) totals() *periodTotals {
	p := b.p
	lo := p.first - 1
	for _, c := range b.cells {
		lo = min(lo, c.f)
	}
	n := p.last - lo + 1
	t := &periodTotals{lo: lo}
	for _, s := range []*[]int64{&t.active, &t.acq, &t.newc, &t.churned, &t.buyers, &t.rev, &t.mar, &t.orders, &t.kept, &t.lost} {
		*s = make([]int64, n)
	}
	for _, c := range b.cells {
		i := t.at(c.p)
		t.acq[i] += c.acquired
		if c.f == c.p {
			t.newc[i] += c.buyers
		}
		if j := i + p.window; j < n {
			t.churned[j] += c.lapsing
		}
		t.buyers[i] += c.buyers
		t.rev[i] += c.rev
		t.mar[i] += c.mar
		t.orders[i] += c.orders
		t.kept[i] += c.kept
		t.lost[i] += c.lost
	}
	var active int64
	for i := range n {
		active += t.acq[i] - t.churned[i]
		t.active[i] = active
	}
	return t
}

// series derives the customer series of the range.
func (b *customerBase) series() []CustomerPeriod {
	p := b.p
	t := b.totals()
	out := make([]CustomerPeriod, 0, p.periods())
	for k := p.first; k <= p.last; k++ {
		i, j := t.at(k), t.at(k-1)
		cp := CustomerPeriod{
			Span:             p.span(k),
			CustomersAtStart: int(t.active[j]),
			CustomersAtEnd:   int(t.active[i]),
			NewCustomers:     int(t.newc[i]),
			Reactivated:      int(t.acq[i] - t.newc[i]),
			Churned:          int(t.churned[i]),
			Orders:           int(t.orders[i]),
			Buyers:           int(t.buyers[i]),
			Revenue:          crm.Money(t.rev[i]),
			Margin:           crm.Money(t.mar[i]),
			StartingRevenue:  crm.Money(t.rev[j]),
			RetainedRevenue:  crm.Money(t.kept[j]),
			LostRevenue:      crm.Money(t.lost[j]),
		}
		cp.Retained = cp.CustomersAtStart - cp.Churned
		cp.ChurnRate = ratio(float64(cp.Churned), float64(cp.CustomersAtStart))
		// (E − N) / S, N counting every customer gained in the period.
		cp.RetentionRate = ratio(float64(cp.CustomersAtEnd-cp.NewCustomers-cp.Reactivated), float64(cp.CustomersAtStart))
		if cp.StartingRevenue > 0 {
			cp.RevenueChurnRate = ratio(float64(cp.LostRevenue), float64(cp.StartingRevenue))
			cp.NetRevenueRetention = ratio(float64(cp.RetainedRevenue), float64(cp.StartingRevenue))
		}
		out = append(out, cp)
	}
	return out
}

// cohorts derives the cohort matrix of the range.
func (b *customerBase) cohorts() *CohortMatrix {
	p := b.p
	m := &CohortMatrix{Period: p.Period, ActiveWindow: p.window, Cohorts: []Cohort{}}
	byCohort := map[int][]cohortCell{}
	for _, c := range b.cells {
		if c.f >= p.first {
			byCohort[c.f] = append(byCohort[c.f], c)
		}
	}
	for f := p.first; f <= p.last; f++ {
		cells := byCohort[f]
		n := p.last - f + 1
		acq, lapse := make([]int64, n), make([]int64, n)
		co := Cohort{Span: p.span(f), Cells: make([]CohortCell, n)}
		for _, c := range cells {
			i := c.p - f
			if i == 0 {
				co.Size = int(c.buyers)
			}
			acq[i] += c.acquired
			if i+p.window < n {
				lapse[i+p.window] += c.lapsing
			}
			co.Cells[i].Revenue = crm.Money(c.rev)
			co.Cells[i].Margin = crm.Money(c.mar)
		}
		var active int64
		for i := range n {
			active += acq[i] - lapse[i]
			co.Cells[i].Offset = i
			co.Cells[i].Active = int(active)
			co.Cells[i].Rate = ratio(float64(active), float64(co.Size))
		}
		m.Cohorts = append(m.Cohorts, co)
	}
	return m
}

// clv derives lifetime value from the base and the configuration.
func (b *customerBase) clv(cfg CLVConfig) *CLV {
	p := b.p
	out := &CLV{AcquisitionCost: cfg.AcquisitionCost, Top: []CustomerValue{}}
	for _, c := range b.cells {
		if c.f == c.p {
			out.Customers += int(c.buyers)
		}
		out.HistoricalRevenue += crm.Money(c.rev)
		out.HistoricalMargin += crm.Money(c.mar)
	}
	out.HistoricalAverage = moneyRatio(float64(out.HistoricalMargin), float64(out.Customers))

	series := b.series()
	var margin, active, retained, start int64
	for _, cp := range series {
		margin += int64(cp.Margin)
		active += int64(cp.CustomersAtEnd)
		retained += int64(cp.Retained)
		start += int64(cp.CustomersAtStart)
	}
	var m *float64
	if cfg.Margin != nil {
		v := float64(*cfg.Margin)
		m = &v
	} else if active > 0 {
		v := float64(margin) / float64(active)
		m = &v
		out.MarginMeasured = true
	}
	if m != nil {
		mm := cents(*m)
		out.Margin = &mm
	}
	if cfg.Retention != nil {
		r := *cfg.Retention
		out.Retention = &r
	} else if r := ratio(float64(retained), float64(start)); r != nil {
		out.Retention = r
		out.RetentionMeasured = true
	}
	annual := DefaultAnnualDiscountRate
	if cfg.AnnualDiscountRate != nil {
		annual = *cfg.AnnualDiscountRate
	}
	out.DiscountRate = math.Pow(1+annual, 1/float64(p.Period.PerYear())) - 1
	if m != nil && out.Retention != nil {
		r := *out.Retention
		if den := 1 + out.DiscountRate - r; den > 0 {
			v := cents(*m*r/den - float64(cfg.AcquisitionCost))
			out.Predictive = &v
		}
	}
	return out
}

// Customers returns the customer series of the range: counts, churn,
// retention and revenue retention per period.
func (s *Service) Customers(ctx context.Context, q Query) ([]CustomerPeriod, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []CustomerPeriod
	err = s.read(ctx, p, func(p *plan) error {
		b, err := s.customerBase(ctx, p, 0)
		if err == nil {
			out = b.series()
		}
		return err
	})
	return out, err
}

// Cohorts returns the cohort retention matrix of the range.
func (s *Service) Cohorts(ctx context.Context, q Query) (*CohortMatrix, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out *CohortMatrix
	err = s.read(ctx, p, func(p *plan) error {
		b, err := s.customerBase(ctx, p, 0)
		if err == nil {
			out = b.cohorts()
		}
		return err
	})
	return out, err
}

// CLV returns customer lifetime value: historical up to the range's end,
// and predictive from the margin and retention measured over the range
// (or configured in q.CLV).
func (s *Service) CLV(ctx context.Context, q Query) (*CLV, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out *CLV
	err = s.read(ctx, p, func(p *plan) error {
		b, err := s.customerBase(ctx, p, p.TopCustomers)
		if err == nil {
			out, err = s.finishCLV(ctx, p, b)
		}
		return err
	})
	return out, err
}

// finishCLV derives CLV from the base and completes the top customers
// with their names and first and last orders.
func (s *Service) finishCLV(ctx context.Context, p *plan, b *customerBase) (*CLV, error) {
	out := b.clv(p.CLV)
	out.Top = append(out.Top, b.top...)
	if len(out.Top) == 0 {
		return out, nil
	}
	byID := map[pulid.ID]int{}
	var orgs, contacts []any
	for i, v := range out.Top {
		byID[v.ID] = i
		if v.ID.Prefix() == "org" {
			out.Top[i].Kind = "organization"
			orgs = append(orgs, string(v.ID))
		} else {
			out.Top[i].Kind = "contact"
			contacts = append(contacts, string(v.ID))
		}
	}
	var a args
	ws := a.add(string(p.ws))
	d := p.d
	to := a.add(d.at(p.To))
	var branches, names []string
	if s.raw {
		filter := orderFilter(&a, p, ws)
		if len(orgs) > 0 {
			branches = append(branches, `SELECT organization_id AS c, `+d.utc("ordered_at")+` AS t FROM orders WHERE `+d.unindexed("workspace_id")+` = `+ws+` AND organization_id IN (`+a.list(orgs...)+`)`+filter)
		}
		if len(contacts) > 0 {
			branches = append(branches, `SELECT contact_id AS c, `+d.utc("ordered_at")+` AS t FROM orders WHERE `+d.unindexed("workspace_id")+` = `+ws+` AND `+d.unindexed("organization_id")+` IS NULL AND contact_id IN (`+a.list(contacts...)+`)`+filter)
		}
	} else {
		// The first and last orders from the customers' monthly rollups:
		// a few rows per customer however many orders they placed, so
		// the time grows with the customers shown, not with the orders.
		cond := `workspace_id = ` + ws + ` AND customer_id IN (` + a.list(append(append([]any{}, orgs...), contacts...)...) + `) AND month < ` + a.add((p.last+1)*p.Period.months()) + rollupFilter(&a, p, ws)
		branches = append(branches,
			`SELECT customer_id AS c, `+d.utc("first_at")+` AS t FROM rollup_customer_months WHERE `+cond,
			`SELECT customer_id AS c, `+d.utc("last_at")+` AS t FROM rollup_customer_months WHERE `+cond)
	}
	if len(orgs) > 0 {
		names = append(names, `SELECT id, name, NULL, NULL FROM organizations WHERE `+d.unindexed("workspace_id")+` = `+ws+` AND id IN (`+a.list(orgs...)+`)`)
	}
	if len(contacts) > 0 {
		names = append(names, `SELECT id, TRIM(first_name || ' ' || last_name), NULL, NULL FROM contacts WHERE `+d.unindexed("workspace_id")+` = `+ws+` AND id IN (`+a.list(contacts...)+`)`)
	}
	// The times come first: PostgreSQL types a UNION's columns from left
	// to right, and an untyped NULL cannot be followed by a timestamp.
	query := `SELECT x.c, NULL, MIN(x.t), MAX(x.t) FROM (` + strings.Join(branches, "\nUNION ALL\n") + `) AS x WHERE x.t < ` + to + ` GROUP BY x.c
UNION ALL
` + strings.Join(names, "\nUNION ALL\n")
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			id          pulid.ID
			name        sql.NullString
			first, last any
		)
		if err := r.Scan(&id, &name, &first, &last); err != nil {
			return err
		}
		i, ok := byID[id]
		if !ok {
			return nil
		}
		if name.Valid {
			out.Top[i].Name = name.String
			return nil
		}
		var err error
		if out.Top[i].FirstOrder, err = scanTime(first); err != nil {
			return err
		}
		out.Top[i].LastOrder, err = scanTime(last)
		return err
	})
	return out, wrap("top customers", err)
}

// scanTime reads a time selected through utc(): UTC text from SQLite, a
// time from PostgreSQL.
func scanTime(v any) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC(), nil
	case string:
		return time.Parse("2006-01-02 15:04:05", t)
	case []byte:
		return time.Parse("2006-01-02 15:04:05", string(t))
	case nil:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("unexpected time value %T", v)
}
