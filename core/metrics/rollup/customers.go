package rollup

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// Time reads a time column: a time.Time, or SQLite's text of one. ent
// writes times to SQLite as time.Time.String() does ("2006-01-02
// 15:04:05.999999999 -0700 MST", perhaps with a monotonic suffix),
// which the driver returns as text when the zone is not a name it
// knows; RFC 3339 text is read too.
func Time(v any) (time.Time, error) {
	var s string
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case string:
		s = t
	case []byte:
		s = string(t)
	default:
		return time.Time{}, fmt.Errorf("unexpected time value %T", v)
	}
	if f := strings.Fields(s); len(f) >= 3 {
		if t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700", f[0]+" "+f[1]+" "+f[2]); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// Periods are the period lengths, in months, the cohort cells are kept
// for: months, quarters and years.
var Periods = []int{1, 3, 12}

// MonthIndex numbers t's UTC month as core/metrics does: year·12 +
// month − 1.
func MonthIndex(t time.Time) int {
	t = t.UTC()
	return t.Year()*12 + int(t.Month()) - 1
}

// monthRow is one row of rollup_customer_months.
type monthRow struct {
	month          int
	pipeline       string
	rev, mar, n    int64
	first, last    time.Time
	firstSet, seen bool
}

func (m *monthRow) add(at time.Time, amount, cost int64) {
	m.rev += amount
	m.mar += amount - cost
	m.n++
	if !m.firstSet || at.Before(m.first) {
		m.first, m.firstSet = at, true
	}
	if at.After(m.last) || !m.seen {
		m.last, m.seen = at, true
	}
}

func (m *monthRow) key() string { return fmt.Sprintf("%d/%s", m.month, m.pipeline) }

func (m *monthRow) String() string {
	return fmt.Sprintf("revenue %d margin %d orders %d first %s last %s", m.rev, m.mar, m.n,
		m.first.UTC().Format(time.RFC3339Nano), m.last.UTC().Format(time.RFC3339Nano))
}

// customer is one customer's month rows, in (month, pipeline) order.
type customer struct {
	id   string
	rows []*monthRow
}

// fold adds an order to the customer's rows.
func (c *customer) fold(at time.Time, amount, cost int64, pipeline string) {
	m := MonthIndex(at)
	for _, r := range c.rows {
		if r.month == m && r.pipeline == pipeline {
			r.add(at, amount, cost)
			return
		}
	}
	r := &monthRow{month: m, pipeline: pipeline}
	r.add(at, amount, cost)
	c.rows = append(c.rows, r)
}

func (c *customer) sort() {
	sort.Slice(c.rows, func(i, j int) bool {
		if c.rows[i].month != c.rows[j].month {
			return c.rows[i].month < c.rows[j].month
		}
		return c.rows[i].pipeline < c.rows[j].pipeline
	})
}

// total is the customer's row of rollup_customers.
type total struct {
	rev, mar, n           int64
	firstMonth, lastMonth int
}

func (c *customer) total() (total, bool) {
	var t total
	for i, r := range c.rows {
		t.rev += r.rev
		t.mar += r.mar
		t.n += r.n
		if i == 0 || r.month < t.firstMonth {
			t.firstMonth = r.month
		}
		if i == 0 || r.month > t.lastMonth {
			t.lastMonth = r.month
		}
	}
	return t, len(c.rows) > 0
}

// cellKey names a row of rollup_cohort_cells.
type cellKey struct{ months, cohort, period int }

// cell is the values of a row of rollup_cohort_cells.
type cell struct{ buyers, acquired, lapsing, rev, mar, orders, kept, lost int64 }

func (c *cell) plus(o cell, sign int64) {
	c.buyers += sign * o.buyers
	c.acquired += sign * o.acquired
	c.lapsing += sign * o.lapsing
	c.rev += sign * o.rev
	c.mar += sign * o.mar
	c.orders += sign * o.orders
	c.kept += sign * o.kept
	c.lost += sign * o.lost
}

func (c cell) zero() bool { return c == cell{} }

func (c cell) String() string {
	return fmt.Sprintf("buyers %d acquired %d lapsing %d revenue %d margin %d orders %d kept %d lost %d",
		c.buyers, c.acquired, c.lapsing, c.rev, c.mar, c.orders, c.kept, c.lost)
}

// contribute adds (sign 1) or takes away (sign −1) the customer's share
// of the cohort cells to cells. It is core/metrics' customer base
// statement for one customer, with an activity window of one period:
// over the periods in which the customer has an order, p₁ < p₂ < …, the
// cohort is p₁ and period pᵢ adds
//
//	buyers   1
//	acquired 1 when i = 1 or pᵢ − pᵢ₋₁ > 1
//	lapsing  1 when pᵢ is the last or pᵢ₊₁ − pᵢ > 1
//	revenue, margin, orders   the period's sums
//	kept     revenue(pᵢ₊₁) when pᵢ₊₁ = pᵢ + 1, else 0
//	lost     max(0, revenue(pᵢ) − kept) when pᵢ₊₁ = pᵢ + 1, else max(0, revenue(pᵢ))
func (c *customer) contribute(cells map[cellKey]*cell, sign int64) {
	for _, months := range Periods {
		var ps []int
		sums := map[int]*cell{}
		for _, r := range c.rows {
			p := r.month / months
			s := sums[p]
			if s == nil {
				s = &cell{}
				sums[p] = s
				ps = append(ps, p)
			}
			s.rev += r.rev
			s.mar += r.mar
			s.orders += r.n
		}
		sort.Ints(ps)
		for i, p := range ps {
			s := sums[p]
			v := cell{buyers: 1, rev: s.rev, mar: s.mar, orders: s.orders}
			if i == 0 || p-ps[i-1] > 1 {
				v.acquired = 1
			}
			if i == len(ps)-1 || ps[i+1]-p > 1 {
				v.lapsing = 1
			}
			if i+1 < len(ps) && ps[i+1] == p+1 {
				next := sums[ps[i+1]].rev
				v.kept = next
				v.lost = max(0, s.rev-next)
			} else {
				v.lost = max(0, s.rev)
			}
			k := cellKey{months: months, cohort: ps[0], period: p}
			cl := cells[k]
			if cl == nil {
				cl = &cell{}
				cells[k] = cl
			}
			cl.plus(v, sign)
		}
	}
}

// ordersOf is the statement that reads the orders of the customers named
// by the placeholders from 2 on (the workspace is the first), with the
// pipeline of each order's deal.
func (r *refresher) ordersOf(n int) string {
	list := r.phs(2, n)
	return `SELECT COALESCE(o.organization_id, o.contact_id), o.ordered_at, o.amount, o.cost, COALESCE(d.pipeline_id, '')
FROM orders o LEFT JOIN deals d ON d.id = o.deal_id
WHERE o.workspace_id = ` + r.ph(1) + ` AND (o.organization_id IN (` + list + `) OR (o.organization_id IS NULL AND o.contact_id IN (` + list + `)))`
}

// customers refreshes the rollups of the customers ids (sorted).
func (r *refresher) customers(ctx context.Context, ids []string) error {
	return inChunks(ids, chunk/2, func(ids []string) error { return r.customerChunk(ctx, ids) })
}

func (r *refresher) customerChunk(ctx context.Context, ids []string) error {
	if err := r.lockAll(ctx, "customer", ids); err != nil {
		return err
	}
	idArgs := r.wsAnd(ids)
	old, err := r.storedMonths(ctx, ` AND customer_id IN (`+r.phs(2, len(ids))+`)`, idArgs)
	if err != nil {
		return err
	}
	fresh := map[string]*customer{}
	err = r.each(ctx, r.ordersOf(len(ids)), idArgs, func(rows *sql.Rows) error {
		var (
			id, pipeline string
			raw          any
			amount, cost int64
		)
		if err := rows.Scan(&id, &raw, &amount, &cost, &pipeline); err != nil {
			return err
		}
		at, err := Time(raw)
		if err != nil {
			return err
		}
		c := fresh[id]
		if c == nil {
			c = &customer{id: id}
			fresh[id] = c
		}
		c.fold(at, amount, cost, pipeline)
		return nil
	})
	if err != nil {
		return err
	}
	cells := map[cellKey]*cell{}
	for _, c := range old {
		c.contribute(cells, -1)
	}
	var months, totals [][]any
	for _, id := range ids {
		c := fresh[id]
		if c == nil {
			continue
		}
		c.sort()
		c.contribute(cells, 1)
		months = append(months, r.monthRows(c)...)
		t, _ := c.total()
		totals = append(totals, []any{r.ws, c.id, t.rev, t.mar, t.n, t.firstMonth, t.lastMonth})
	}
	for _, table := range []string{"rollup_customer_months", "rollup_customers"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1)+` AND customer_id IN (`+r.phs(2, len(ids))+`)`, idArgs...); err != nil {
			return err
		}
	}
	if err := r.insertRows(ctx, "rollup_customer_months", monthCols, months, ""); err != nil {
		return err
	}
	if err := r.insertRows(ctx, "rollup_customers", totalCols, totals, ""); err != nil {
		return err
	}
	return r.moveCells(ctx, cells)
}

var (
	monthCols = []string{"workspace_id", "customer_id", "month", "pipeline_id", "revenue", "margin", "orders", "first_at", "last_at"}
	totalCols = []string{"workspace_id", "customer_id", "revenue", "margin", "orders", "first_month", "last_month"}
	cellCols  = []string{"workspace_id", "months", "cohort", "period", "buyers", "acquired", "lapsing", "revenue", "margin", "orders", "kept", "lost"}
)

func (r *refresher) monthRows(c *customer) [][]any {
	out := make([][]any, 0, len(c.rows))
	for _, m := range c.rows {
		out = append(out, []any{r.ws, c.id, m.month, m.pipeline, m.rev, m.mar, m.n, m.first.UTC(), m.last.UTC()})
	}
	return out
}

// moveCells adds the deltas to the cohort cells, in key order.
func (r *refresher) moveCells(ctx context.Context, cells map[cellKey]*cell) error {
	ks := make([]cellKey, 0, len(cells))
	for k, v := range cells {
		if !v.zero() {
			ks = append(ks, k)
		}
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.months != b.months {
			return a.months < b.months
		}
		if a.cohort != b.cohort {
			return a.cohort < b.cohort
		}
		return a.period < b.period
	})
	rows := make([][]any, 0, len(ks))
	for _, k := range ks {
		v := cells[k]
		rows = append(rows, []any{r.ws, k.months, k.cohort, k.period, v.buyers, v.acquired, v.lapsing, v.rev, v.mar, v.orders, v.kept, v.lost})
	}
	var set []string
	for _, c := range cellCols[4:] {
		set = append(set, c+" = rollup_cohort_cells."+c+" + excluded."+c)
	}
	return r.insertRows(ctx, "rollup_cohort_cells", cellCols, rows,
		" ON CONFLICT (workspace_id, months, cohort, period) DO UPDATE SET "+strings.Join(set, ", "))
}

// lockAll takes the per-entity locks of ids in one statement, in order.
func (r *refresher) lockAll(ctx context.Context, kind string, ids []string) error {
	if !r.postgres() || len(ids) == 0 {
		return nil
	}
	hs := make([]int64, 0, len(ids))
	for _, id := range ids {
		h := fnv.New64a()
		h.Write([]byte(kind + "\x00" + r.ws + "\x00" + id))
		hs = append(hs, int64(h.Sum64()))
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	args := make([]any, len(hs))
	for i, h := range hs {
		args[i] = h
	}
	_, err := r.db.ExecContext(ctx, `SELECT COUNT(pg_advisory_xact_lock(k)) FROM (SELECT k FROM (VALUES `+valuesList(r, len(hs))+`) AS v(k) ORDER BY k) AS s`, args...)
	return err
}

func valuesList(r *refresher, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(CAST(%s AS BIGINT))", r.ph(i+1))
	}
	return b.String()
}

// storedMonths reads rollup_customer_months rows of the workspace
// matching where (with args after the workspace's), by customer.
func (r *refresher) storedMonths(ctx context.Context, where string, args []any) (map[string]*customer, error) {
	out := map[string]*customer{}
	err := r.each(ctx, `SELECT customer_id, month, pipeline_id, revenue, margin, orders, first_at, last_at FROM rollup_customer_months WHERE workspace_id = `+r.ph(1)+where, args,
		func(rows *sql.Rows) error {
			var (
				id          string
				m           monthRow
				first, last any
			)
			if err := rows.Scan(&id, &m.month, &m.pipeline, &m.rev, &m.mar, &m.n, &first, &last); err != nil {
				return err
			}
			var err error
			if m.first, err = Time(first); err != nil {
				return err
			}
			if m.last, err = Time(last); err != nil {
				return err
			}
			m.firstSet, m.seen = true, true
			c := out[id]
			if c == nil {
				c = &customer{id: id}
				out[id] = c
			}
			c.rows = append(c.rows, &m)
			return nil
		})
	for _, c := range out {
		c.sort()
	}
	return out, err
}

// recomputeCustomers reads every order of the workspace into customers.
func (r *refresher) recomputeCustomers(ctx context.Context) (map[string]*customer, error) {
	out := map[string]*customer{}
	err := r.each(ctx, `SELECT COALESCE(o.organization_id, o.contact_id), o.ordered_at, o.amount, o.cost, COALESCE(d.pipeline_id, '')
FROM orders o LEFT JOIN deals d ON d.id = o.deal_id
WHERE o.workspace_id = `+r.ph(1)+` AND COALESCE(o.organization_id, o.contact_id) IS NOT NULL`, []any{r.ws}, func(rows *sql.Rows) error {
		var (
			id, pipeline string
			raw          any
			amount, cost int64
		)
		if err := rows.Scan(&id, &raw, &amount, &cost, &pipeline); err != nil {
			return err
		}
		at, err := Time(raw)
		if err != nil {
			return err
		}
		c := out[id]
		if c == nil {
			c = &customer{id: id}
			out[id] = c
		}
		c.fold(at, amount, cost, pipeline)
		return nil
	})
	for _, c := range out {
		c.sort()
	}
	return out, err
}

// rebuildCustomers replaces the workspace's customer rollups by a
// recomputation.
func (r *refresher) rebuildCustomers(ctx context.Context) error {
	all, err := r.recomputeCustomers(ctx)
	if err != nil {
		return err
	}
	for _, table := range []string{"rollup_customer_months", "rollup_customers", "rollup_cohort_cells"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1), r.ws); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	cells := map[cellKey]*cell{}
	var months, totals [][]any
	flush := func(force bool) error {
		if len(months) < 20*chunk && !force {
			return nil
		}
		if err := r.insertRows(ctx, "rollup_customer_months", monthCols, months, ""); err != nil {
			return err
		}
		if err := r.insertRows(ctx, "rollup_customers", totalCols, totals, ""); err != nil {
			return err
		}
		months, totals = months[:0], totals[:0]
		return nil
	}
	for _, id := range ids {
		c := all[id]
		c.contribute(cells, 1)
		months = append(months, r.monthRows(c)...)
		t, _ := c.total()
		totals = append(totals, []any{r.ws, c.id, t.rev, t.mar, t.n, t.firstMonth, t.lastMonth})
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	return r.moveCells(ctx, cells)
}

// checkCustomers compares the stored customer rollups with a
// recomputation.
func (r *refresher) checkCustomers(ctx context.Context) ([]Mismatch, error) {
	want, err := r.recomputeCustomers(ctx)
	if err != nil {
		return nil, err
	}
	got, err := r.storedMonths(ctx, "", []any{r.ws})
	if err != nil {
		return nil, err
	}
	var out []Mismatch
	// Months.
	flat := func(m map[string]*customer) map[string]string {
		o := map[string]string{}
		for id, c := range m {
			for _, row := range c.rows {
				o[id+" "+row.key()] = row.String()
			}
		}
		return o
	}
	out = append(out, compare("rollup_customer_months", flat(got), flat(want))...)
	// Totals.
	wantT := map[string]string{}
	for id, c := range want {
		t, _ := c.total()
		wantT[id] = fmt.Sprint(t)
	}
	gotT := map[string]string{}
	err = r.each(ctx, `SELECT customer_id, revenue, margin, orders, first_month, last_month FROM rollup_customers WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			id string
			t  total
		)
		if err := rows.Scan(&id, &t.rev, &t.mar, &t.n, &t.firstMonth, &t.lastMonth); err != nil {
			return err
		}
		gotT[id] = fmt.Sprint(t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, compare("rollup_customers", gotT, wantT)...)
	// Cells.
	cells := map[cellKey]*cell{}
	for _, c := range want {
		c.contribute(cells, 1)
	}
	wantC := map[string]string{}
	for k, v := range cells {
		if !v.zero() {
			wantC[fmt.Sprint(k)] = v.String()
		}
	}
	gotC := map[string]string{}
	err = r.each(ctx, `SELECT months, cohort, period, buyers, acquired, lapsing, revenue, margin, orders, kept, lost FROM rollup_cohort_cells WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			k cellKey
			v cell
		)
		if err := rows.Scan(&k.months, &k.cohort, &k.period, &v.buyers, &v.acquired, &v.lapsing, &v.rev, &v.mar, &v.orders, &v.kept, &v.lost); err != nil {
			return err
		}
		if !v.zero() {
			gotC[fmt.Sprint(k)] = v.String()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, compare("rollup_cohort_cells", gotC, wantC)...)
	return out, nil
}

// compare lists the keys where stored and computed rows differ, in key
// order.
func compare(table string, stored, computed map[string]string) []Mismatch {
	var out []Mismatch
	for k, s := range stored {
		if c := computed[k]; c != s {
			out = append(out, Mismatch{Table: table, Key: k, Stored: s, Computed: c})
		}
	}
	for k, c := range computed {
		if _, ok := stored[k]; !ok {
			out = append(out, Mismatch{Table: table, Key: k, Computed: c})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
