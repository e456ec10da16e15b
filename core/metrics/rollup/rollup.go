// Package rollup keeps the aggregates the built-in metrics read, so that
// a dashboard costs what it shows (periods, customers, stages) rather
// than what was ever written (orders, stage changes, activities).
//
// # Tables
//
// The rollup tables (created by hand-written migrations; their names
// begin with "rollup_") hold, per workspace:
//
//   - rollup_customer_months: per customer (an order's organization, else
//     its contact), UTC month and pipeline of the order's deal: revenue,
//     margin, order count, first and last order;
//   - rollup_customers: the same summed over a customer's whole history;
//   - rollup_cohort_cells: the customer base by cohort (period of the
//     first order) and period, for months, quarters and years, with the
//     default activity window of one period;
//
// and the deal and engagement rollups described in their files.
//
// # Keeping them current
//
// Rollups are refreshed, never patched: a write marks the entities it
// touched dirty (an order marks its customer before and after the write,
// a deal its pipeline's funnel rows, an activity its contact), and
// Refresh recomputes each dirty entity's rows from its raw rows, then
// moves the aggregates by the difference between the entity's old and
// new contribution. So a back-dated order, a refund, an order moved to
// another customer, a deleted order or a deal moved to another pipeline
// all come out the same as a rebuild. Refresh runs in the writer's
// transaction (schema's hooks call it), so a rollup is never behind a
// committed write and a crash loses nothing: the write and its rollup
// commit together or not at all.
//
// Two writers refreshing the same entity serialise on a per-entity lock
// (PostgreSQL: a transaction-level advisory lock; SQLite has one writer
// at a time), so neither loses the other's update; aggregate rows are
// moved by relative upserts taken in key order, so writers of different
// entities never deadlock.
//
// Rebuild recomputes a workspace's rollups from scratch, and Check
// compares them with such a recomputation without writing: both are
// behind `rapport metrics rebuild` and `rapport metrics check`.
package rollup

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/pulid"
)

// DB runs statements: a *sql.DB, *sql.Tx or *sql.Conn, or an ent client
// (inside a transaction, its statements are the transaction's).
type DB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Dirty names the entities of one workspace whose rollups a write
// changed. The zero value is empty and ready to use.
type Dirty struct {
	customers map[string]bool
	deals     map[string]bool
	contacts  map[string]bool
}

// Customer marks customers (organization or contact IDs) dirty; empty
// IDs are ignored.
func (d *Dirty) Customer(ids ...string) { d.customers = mark(d.customers, ids) }

// Deal marks deals dirty.
func (d *Dirty) Deal(ids ...string) { d.deals = mark(d.deals, ids) }

// Contact marks contacts dirty (their engagement rollups).
func (d *Dirty) Contact(ids ...string) { d.contacts = mark(d.contacts, ids) }

// Empty tells whether nothing is dirty.
func (d *Dirty) Empty() bool {
	return d == nil || len(d.customers)+len(d.deals)+len(d.contacts) == 0
}

// Merge adds what o marks to d.
func (d *Dirty) Merge(o *Dirty) {
	if o == nil {
		return
	}
	d.customers = mark(d.customers, keys(o.customers))
	d.deals = mark(d.deals, keys(o.deals))
	d.contacts = mark(d.contacts, keys(o.contacts))
}

func mark(m map[string]bool, ids []string) map[string]bool {
	for _, id := range ids {
		if id == "" {
			continue
		}
		if m == nil {
			m = map[string]bool{}
		}
		m[id] = true
	}
	return m
}

// keys returns m's keys in order: entities are locked and refreshed in
// one order by every writer.
func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Refresh recomputes the rollups of d's entities in workspace ws, through
// db in the dialect (ent's dialect names). Call it in the transaction
// that made the change.
func Refresh(ctx context.Context, db DB, dia string, ws pulid.ID, d *Dirty) error {
	if d.Empty() {
		return nil
	}
	r := &refresher{db: db, d: dia, ws: string(ws)}
	if ids := keys(d.customers); len(ids) > 0 {
		if err := r.customers(ctx, ids); err != nil {
			return fmt.Errorf("refreshing customer rollups: %w", err)
		}
	}
	if ids := keys(d.deals); len(ids) > 0 {
		if err := r.deals(ctx, ids); err != nil {
			return fmt.Errorf("refreshing deal rollups: %w", err)
		}
	}
	if ids := keys(d.contacts); len(ids) > 0 {
		if err := r.contacts(ctx, ids); err != nil {
			return fmt.Errorf("refreshing engagement rollups: %w", err)
		}
	}
	return nil
}

// Rebuild recomputes every rollup of workspace ws from the raw rows.
// Run it in a transaction: readers see the old rollups until it commits.
func Rebuild(ctx context.Context, db DB, dia string, ws pulid.ID) error {
	r := &refresher{db: db, d: dia, ws: string(ws)}
	for _, step := range []struct {
		what string
		f    func(context.Context) error
	}{{"customer", r.rebuildCustomers}, {"deal", r.rebuildDeals}, {"engagement", r.rebuildContacts}} {
		if err := step.f(ctx); err != nil {
			return fmt.Errorf("rebuilding %s rollups: %w", step.what, err)
		}
	}
	return nil
}

// A Mismatch is a rollup row that differs from the recomputation.
type Mismatch struct {
	// Table is the rollup table.
	Table string `json:"table"`
	// Key names the row.
	Key string `json:"key"`
	// Stored and Computed are the row's values as stored and recomputed;
	// "" for a row missing on that side.
	Stored   string `json:"stored"`
	Computed string `json:"computed"`
}

// Check recomputes the rollups of workspace ws from the raw rows and
// returns every row where they differ from the stored ones (none when
// they agree). It writes nothing.
func Check(ctx context.Context, db DB, dia string, ws pulid.ID) ([]Mismatch, error) {
	r := &refresher{db: db, d: dia, ws: string(ws)}
	var out []Mismatch
	for _, step := range []struct {
		what string
		f    func(context.Context) ([]Mismatch, error)
	}{{"customer", r.checkCustomers}, {"deal", r.checkDeals}, {"engagement", r.checkContacts}} {
		m, err := step.f(ctx)
		if err != nil {
			return nil, fmt.Errorf("checking %s rollups: %w", step.what, err)
		}
		out = append(out, m...)
	}
	return out, nil
}

// refresher holds what every rollup statement needs.
type refresher struct {
	db DB
	d  string
	ws string
}

func (r *refresher) postgres() bool { return r.d == dialect.Postgres }

// ph returns the n-th (1-based) placeholder.
func (r *refresher) ph(n int) string {
	if r.postgres() {
		return fmt.Sprintf("$%d", n)
	}
	return fmt.Sprintf("?%d", n)
}

// phs returns placeholders from..from+n-1 joined by commas.
func (r *refresher) phs(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.ph(from + i))
	}
	return b.String()
}

// wsAnd returns the statement arguments of the workspace followed by
// ids: placeholder 1 is the workspace, 2 on the IDs.
func (r *refresher) wsAnd(ids []string) []any {
	args := make([]any, 0, len(ids)+1)
	args = append(args, r.ws)
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// inChunks calls f with ids in slices of at most n, in order.
func inChunks(ids []string, n int, f func([]string) error) error {
	for len(ids) > 0 {
		k := min(len(ids), n)
		if err := f(ids[:k]); err != nil {
			return err
		}
		ids = ids[k:]
	}
	return nil
}

// each runs a query and calls f for every row.
func (r *refresher) each(ctx context.Context, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// chunk bounds the rows of one multi-row statement, inside both
// dialects' limits on bind parameters.
const chunk = 500

// insertRows writes rows of n columns into table in multi-row INSERTs;
// with conflict, it is the statement's ON CONFLICT clause.
func (r *refresher) insertRows(ctx context.Context, table string, cols []string, rows [][]any, conflict string) error {
	n := len(cols)
	for len(rows) > 0 {
		k := min(len(rows), chunk)
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
		args := make([]any, 0, k*n)
		for i, row := range rows[:k] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + r.phs(len(args)+1, n) + ")")
			args = append(args, row...)
		}
		b.WriteString(conflict)
		if _, err := r.db.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}
