// Package synth generates a large synthetic workspace for the metrics
// benchmark and the recomputation tests: organizations and contacts who
// buy for a while and then churn (some come back), deals moving through
// two pipelines with complete stage histories (stages skipped, deals lost
// and reopened), activities with email replies, and a segment.
//
// Rows are written with multi-row INSERT statements in large
// transactions, not through ent: a million orders through the ent hooks
// would take far longer than the metrics being measured. The rows are
// shaped like ent's (same columns, same time encoding: time.Time values
// handed to the driver), so the data layer reads them as its own.
package synth

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
)

// Spec sizes the data set. History runs for Months months before End.
type Spec struct {
	Seed          uint64
	End           time.Time
	Months        int
	Owners        int
	Organizations int
	// Contacts is the total; LooseShare of them belong to no organization.
	Contacts   int
	LooseShare float64
	Orders     int
	Deals      int
	Activities int
}

// Benchmark is the benchmark's data set: 1,000,000 orders and 100,000
// deals over three years.
func Benchmark(end time.Time) Spec {
	return Spec{Seed: 1, End: end, Months: 36, Owners: 12, Organizations: 20_000, Contacts: 50_000, LooseShare: 0.2,
		Orders: 1_000_000, Deals: 100_000, Activities: 200_000}
}

// Small is a data set small enough for an ordinary test.
func Small(end time.Time) Spec {
	return Spec{Seed: 7, End: end, Months: 30, Owners: 4, Organizations: 150, Contacts: 400, LooseShare: 0.25,
		Orders: 6_000, Deals: 1_200, Activities: 3_000}
}

// Result names what was generated.
type Result struct {
	Workspace *ent.Workspace
	Owners    []pulid.ID
	Pipelines []pulid.ID
	SegmentID pulid.ID
	Counts    map[string]int
}

type gen struct {
	ctx   context.Context
	st    *store.Store
	conn  *sql.Conn
	spec  Spec
	r     *rand.Rand
	ws    pulid.ID
	start time.Time
	res   *Result

	orgs     []pulid.ID
	orgOf    []int // contact → organization index, -1 for none
	contacts []pulid.ID
	byOrg    [][]int
	stages   [][]stageRow // by pipeline, ordered by position
	deals    []pulid.ID
}

type stageRow struct {
	id   pulid.ID
	kind string
	prob float64
}

// Generate creates a workspace with the slug and fills it.
func Generate(ctx context.Context, st *store.Store, slug string, spec Spec) (*Result, error) {
	ws, err := access.CreateWorkspace(ctx, st.Client, slug, "")
	if err != nil {
		return nil, err
	}
	// One connection for everything: SQLite has one writer anyway, and a
	// large page cache on it keeps the indexes' random inserts in memory.
	conn, err := st.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if st.Dialect == dialect.SQLite {
		if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -524288"); err != nil {
			return nil, err
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = -2000") //nolint:errcheck // best effort
	}
	g := &gen{
		ctx: ctx, st: st, spec: spec, conn: conn,
		r:     rand.New(rand.NewPCG(spec.Seed, 0x5eed)),
		ws:    ws.ID,
		start: spec.End.AddDate(0, -spec.Months, 0),
		res:   &Result{Workspace: ws, Counts: map[string]int{}},
	}
	for _, step := range []func() error{g.owners, g.people, g.segment, g.pipelines, g.dealsAndHistory, g.orders, g.activities} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	// The rows went in by raw SQL, past the hooks that keep the metrics'
	// rollups: build them as `rapport metrics rebuild` does.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := rollup.Rebuild(ctx, tx, st.Dialect, ws.ID); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if st.Dialect == dialect.Postgres {
		// What autovacuum does some time after a bulk load, done now so
		// that measurements do not depend on its timing: statistics for
		// the planner, and the visibility map for index-only scans.
		if _, err := conn.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return nil, err
		}
	}
	return g.res, nil
}

// id returns a fresh ID.
func (g *gen) id(prefix string) pulid.ID { return pulid.New(prefix) }

func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.r.Int64N(int64(b.Sub(a))))).Truncate(time.Second)
}

// batch writes rows of one table with multi-row INSERTs, committing every
// commitEvery rows.
type batch struct {
	g       *gen
	table   string
	cols    []string
	perStmt int
	args    []any
	rows    int
	tx      *sql.Tx
	inTx    int
	full    *sql.Stmt
	total   int
}

const commitEvery = 100_000

func (g *gen) batch(table string, cols ...string) *batch {
	// Rows per statement: PostgreSQL likes them large (within its 65,535
	// parameters); the SQLite driver binds parameters in time quadratic in
	// their number, so there a hundred rows is best.
	per := min(30_000/len(cols), 1000)
	if g.st.Dialect == dialect.SQLite {
		per = 100
	}
	return &batch{g: g, table: table, cols: cols, perStmt: per}
}

func (b *batch) stmt(rows int) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "INSERT INTO %s (", b.table)
	for i, c := range b.cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(`"` + c + `"`)
	}
	sb.WriteString(") VALUES ")
	n := 1
	for r := range rows {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteByte('(')
		for c := range b.cols {
			if c > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "$%d", n)
			n++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

func (b *batch) add(vals ...any) error {
	if len(vals) != len(b.cols) {
		return fmt.Errorf("synth: %s: %d values for %d columns", b.table, len(vals), len(b.cols))
	}
	b.args = append(b.args, vals...)
	b.rows++
	if b.rows == b.perStmt {
		return b.flush()
	}
	return nil
}

func (b *batch) flush() error {
	if b.rows == 0 {
		return nil
	}
	ctx := b.g.ctx
	if b.tx == nil {
		tx, err := b.g.conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		b.tx = tx
		b.full = nil
	}
	var err error
	if b.rows == b.perStmt {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, b.stmt(b.perStmt)); err != nil {
				return fmt.Errorf("synth: prepare %s: %w", b.table, err)
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(ctx, b.stmt(b.rows), b.args...)
	}
	if err != nil {
		_ = b.tx.Rollback()
		b.tx = nil
		return fmt.Errorf("synth: insert into %s: %w", b.table, err)
	}
	b.inTx += b.rows
	b.total += b.rows
	b.args, b.rows = b.args[:0], 0
	if b.inTx >= commitEvery {
		return b.commit()
	}
	return nil
}

func (b *batch) commit() error {
	if b.tx == nil {
		return nil
	}
	if b.full != nil {
		_ = b.full.Close()
		b.full = nil
	}
	err := b.tx.Commit()
	b.tx, b.inTx = nil, 0
	return err
}

// close flushes and commits the rest and records the count.
func (b *batch) close() error {
	if err := b.flush(); err != nil {
		return err
	}
	if err := b.commit(); err != nil {
		return err
	}
	b.g.res.Counts[b.table] += b.total
	return nil
}

func (g *gen) owners() error {
	b := g.batch("members", "id", "created_at", "updated_at", "name", "email", "role", "workspace_id")
	for i := range g.spec.Owners {
		id := g.id("mem")
		g.res.Owners = append(g.res.Owners, id)
		if err := b.add(string(id), g.start, g.start, fmt.Sprintf("Owner %d", i+1), fmt.Sprintf("owner%d@synth.example", i+1), "member", string(g.ws)); err != nil {
			return err
		}
	}
	return b.close()
}

func (g *gen) owner() any {
	if len(g.res.Owners) == 0 || g.r.Float64() < 0.1 {
		return nil
	}
	return string(g.res.Owners[g.r.IntN(len(g.res.Owners))])
}

func (g *gen) people() error {
	s := g.spec
	b := g.batch("organizations", "id", "created_at", "updated_at", "name", "workspace_id", "owner_id")
	for i := range s.Organizations {
		id := g.id("org")
		g.orgs = append(g.orgs, id)
		at := g.between(g.start, s.End)
		if err := b.add(string(id), at, at, fmt.Sprintf("Company %d", i+1), string(g.ws), g.owner()); err != nil {
			return err
		}
	}
	if err := b.close(); err != nil {
		return err
	}
	g.byOrg = make([][]int, len(g.orgs))
	b = g.batch("contacts", "id", "created_at", "updated_at", "deleted_at", "first_name", "last_name", "workspace_id", "organization_id", "owner_id")
	for i := range s.Contacts {
		id := g.id("con")
		g.contacts = append(g.contacts, id)
		org := -1
		if len(g.orgs) > 0 && g.r.Float64() >= s.LooseShare {
			org = g.r.IntN(len(g.orgs))
			g.byOrg[org] = append(g.byOrg[org], i)
		}
		g.orgOf = append(g.orgOf, org)
		var orgID, deleted any
		if org >= 0 {
			orgID = string(g.orgs[org])
		}
		at := g.between(g.start, s.End)
		if g.r.Float64() < 0.01 {
			deleted = g.between(at, s.End)
		}
		if err := b.add(string(id), at, at, deleted, "Pat", fmt.Sprintf("Person%d", i+1), string(g.ws), orgID, g.owner()); err != nil {
			return err
		}
	}
	return b.close()
}

func (g *gen) segment() error {
	id := g.id("seg")
	g.res.SegmentID = id
	b := g.batch("segments", "id", "created_at", "updated_at", "key", "name", "source", "workspace_id")
	if err := b.add(string(id), g.start, g.start, "key_accounts", "Key accounts", "manual", string(g.ws)); err != nil {
		return err
	}
	if err := b.close(); err != nil {
		return err
	}
	m := g.batch("segment_memberships", "id", "created_at", "updated_at", "started_at", "subject_type", "subject_id", "workspace_id", "segment_id")
	add := func(kind string, ids []pulid.ID) error {
		for _, sid := range ids {
			if g.r.Float64() < 0.2 {
				if err := m.add(string(g.id("sgm")), g.start, g.start, g.start, kind, string(sid), string(g.ws), string(id)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add("organization", g.orgs); err != nil {
		return err
	}
	if err := add("contact", g.contacts); err != nil {
		return err
	}
	return m.close()
}

func (g *gen) pipelines() error {
	type st struct {
		name string
		prob float64
		kind string
	}
	defs := []struct {
		name   string
		stages []st
	}{
		{"Sales", []st{{"Lead", 0.1, "open"}, {"Qualified", 0.25, "open"}, {"Proposal", 0.5, "open"}, {"Negotiation", 0.75, "open"}, {"Won", 1, "won"}, {"Lost", 0, "lost"}}},
		{"Partners", []st{{"Intro", 0.2, "open"}, {"Evaluation", 0.5, "open"}, {"Signed", 1, "won"}, {"Dropped", 0, "lost"}}},
	}
	pb := g.batch("pipelines", "id", "created_at", "updated_at", "name", "is_default", "workspace_id")
	sb := g.batch("stages", "id", "created_at", "updated_at", "name", "position", "probability", "kind", "workspace_id", "pipeline_id")
	for i, d := range defs {
		pid := g.id("pip")
		g.res.Pipelines = append(g.res.Pipelines, pid)
		if err := pb.add(string(pid), g.start, g.start, d.name, i == 0, string(g.ws)); err != nil {
			return err
		}
		var rows []stageRow
		for pos, s := range d.stages {
			sid := g.id("stg")
			rows = append(rows, stageRow{id: sid, kind: s.kind, prob: s.prob})
			if err := sb.add(string(sid), g.start, g.start, s.name, pos, s.prob, s.kind, string(g.ws), string(pid)); err != nil {
				return err
			}
		}
		g.stages = append(g.stages, rows)
	}
	if err := pb.close(); err != nil {
		return err
	}
	return sb.close()
}

// customer is a buyer's life: active from start to end, perhaps with a
// pause, buying at a rate.
type customer struct {
	org, contact int // indexes; -1 for none
	start, end   time.Time
	pauseFrom    time.Time
	pauseTo      time.Time
	weight       float64
	basket       float64 // typical order, cents
}

func (g *gen) customers() []customer {
	s := g.spec
	var out []customer
	life := func(c *customer) {
		// Later starts are likelier: the business grows.
		u := math.Sqrt(g.r.Float64())
		c.start = g.start.Add(time.Duration(u * float64(s.End.Sub(g.start)))).Truncate(time.Second)
		months := g.r.ExpFloat64() * 20
		c.end = c.start.Add(time.Duration(months * 30 * 24 * float64(time.Hour))).Truncate(time.Second)
		if c.end.After(s.End) || g.r.Float64() < 0.3 {
			c.end = s.End
		}
		if g.r.Float64() < 0.15 {
			c.pauseFrom = g.between(c.start, c.end)
			c.pauseTo = c.pauseFrom.AddDate(0, 2+g.r.IntN(6), 0)
		}
		rate := math.Exp(g.r.NormFloat64() * 0.6) // orders per month, relative
		c.weight = rate * math.Max(c.end.Sub(c.start).Hours(), 24)
		c.basket = math.Exp(10 + g.r.NormFloat64()*0.8) // ≈ $220 median
	}
	for i := range g.orgs {
		if g.r.Float64() < 0.85 {
			c := customer{org: i, contact: -1}
			life(&c)
			out = append(out, c)
		}
	}
	for i, org := range g.orgOf {
		if org < 0 && g.r.Float64() < 0.7 {
			c := customer{org: -1, contact: i}
			life(&c)
			out = append(out, c)
		}
	}
	return out
}

func (g *gen) orders() error {
	cs := g.customers()
	if len(cs) == 0 {
		return nil
	}
	cum := make([]float64, len(cs))
	var sum float64
	for i, c := range cs {
		sum += c.weight
		cum[i] = sum
	}
	b := g.batch("orders", "id", "created_at", "updated_at", "number", "amount", "cost", "currency", "ordered_at", "workspace_id", "contact_id", "organization_id", "deal_id")
	for n := range g.spec.Orders {
		var orgID, conID, dealID any
		if len(g.deals) > 0 && g.r.Float64() < 0.05 {
			dealID = string(g.deals[g.r.IntN(len(g.deals))])
		}
		var at time.Time
		var basket float64
		if g.r.Float64() < 0.005 {
			// An order with no customer: ignored by customer metrics.
			at = g.between(g.start, g.spec.End)
			basket = 10000
		} else {
			c := cs[sort.SearchFloat64s(cum, g.r.Float64()*sum)]
			for range 20 {
				at = g.between(c.start, c.end)
				if c.pauseFrom.IsZero() || at.Before(c.pauseFrom) || !at.Before(c.pauseTo) {
					break
				}
			}
			basket = c.basket
			if c.org >= 0 {
				orgID = string(g.orgs[c.org])
				if people := g.byOrg[c.org]; len(people) > 0 && g.r.Float64() < 0.7 {
					conID = string(g.contacts[people[g.r.IntN(len(people))]])
				}
			} else {
				conID = string(g.contacts[c.contact])
			}
		}
		amount := int64(basket * (0.5 + g.r.Float64()))
		cost := int64(float64(amount) * (0.35 + 0.35*g.r.Float64()))
		if g.r.Float64() < 0.02 {
			// A refund.
			amount, cost = -amount/2, -cost/2
		}
		if err := b.add(string(g.id("ord")), at, at, fmt.Sprintf("SO-%07d", n+1), amount, cost, "USD", at, string(g.ws), conID, orgID, dealID); err != nil {
			return err
		}
	}
	return b.close()
}

// move is one step of a deal's stage history.
type move struct {
	stage int
	at    time.Time
}

func (g *gen) path(stages []stageRow, created time.Time) []move {
	won, lost := -1, -1
	var open []int
	for i, s := range stages {
		switch s.kind {
		case "won":
			won = i
		case "lost":
			lost = i
		default:
			open = append(open, i)
		}
	}
	end := g.spec.End
	at := created
	i := 0
	if g.r.Float64() < 0.1 && len(open) > 1 {
		i = 1 // created past the first stage
	}
	path := []move{{open[i], at}}
	step := func() bool {
		at = at.Add(time.Duration(1+g.r.IntN(25)) * 24 * time.Hour).Add(time.Duration(g.r.IntN(86400)) * time.Second)
		return at.Before(end)
	}
	reopened := false
	for {
		x := g.r.Float64()
		if !step() {
			return path
		}
		switch {
		case x < 0.62:
			next := i + 1
			if g.r.Float64() < 0.1 {
				next++ // a skipped stage
			}
			if next >= len(open) {
				path = append(path, move{won, at})
				return path
			}
			i = next
			path = append(path, move{open[i], at})
		case x < 0.9:
			path = append(path, move{lost, at})
			if reopened || g.r.Float64() > 0.08 {
				return path
			}
			// Reopened: back to where it was, a while later.
			reopened = true
			if !step() {
				return path
			}
			path = append(path, move{open[i], at})
		default:
			if g.r.Float64() < 0.5 {
				return path // stalled: stays open
			}
		}
	}
}

func (g *gen) dealsAndHistory() error {
	s := g.spec
	type history struct {
		deal   pulid.ID
		stages []stageRow
		path   []move
	}
	var (
		histories []history
		members   []pulid.ID
	)
	db := g.batch("deals", "id", "created_at", "updated_at", "deleted_at", "name", "amount", "currency", "status", "probability",
		"expected_close_date", "closed_at", "workspace_id", "pipeline_id", "stage_id", "contact_id", "organization_id", "owner_id")
	for n := range s.Deals {
		pi := 0
		if g.r.Float64() < 0.25 {
			pi = 1
		}
		stages := g.stages[pi]
		created := g.between(g.start, s.End)
		path := g.path(stages, created)
		lastMove := path[len(path)-1]
		last := stages[lastMove.stage]
		id := g.id("del")
		g.deals = append(g.deals, id)
		histories = append(histories, history{id, stages, path})
		var prob, expected, closed, deleted, orgID, conID any
		if g.r.Float64() < 0.3 {
			prob = float64(5+g.r.IntN(91)) / 100
		}
		status := "open"
		switch last.kind {
		case "won", "lost":
			status = last.kind
			closed = lastMove.at
			expected = lastMove.at.AddDate(0, 0, g.r.IntN(30)-15)
		default:
			if g.r.Float64() < 0.9 {
				expected = lastMove.at.AddDate(0, 0, 5+g.r.IntN(150))
			}
		}
		if g.r.Float64() < 0.01 {
			deleted = g.between(created, s.End)
		}
		if len(g.orgs) > 0 && g.r.Float64() < 0.8 {
			o := g.r.IntN(len(g.orgs))
			orgID = string(g.orgs[o])
			if people := g.byOrg[o]; len(people) > 0 {
				conID = string(g.contacts[people[g.r.IntN(len(people))]])
			}
		} else if len(g.contacts) > 0 {
			conID = string(g.contacts[g.r.IntN(len(g.contacts))])
		}
		if g.r.Float64() < 0.2 {
			members = append(members, id)
		}
		amount := int64(math.Exp(13+g.r.NormFloat64()*0.9)) / 100 * 100
		if err := db.add(string(id), created, lastMove.at, deleted, fmt.Sprintf("Deal %d", n+1), amount, "USD", status, prob,
			expected, closed, string(g.ws), string(g.res.Pipelines[pi]), string(last.id), conID, orgID, g.owner()); err != nil {
			return err
		}
	}
	// One table at a time: the histories and memberships refer to the
	// deals, and SQLite has one writer.
	if err := db.close(); err != nil {
		return err
	}
	hb := g.batch("stage_changes", "id", "created_at", "updated_at", "changed_at", "actor", "workspace_id", "deal_id", "from_stage_id", "to_stage_id")
	for _, h := range histories {
		var from any
		for _, m := range h.path {
			if err := hb.add(string(g.id("stc")), m.at, m.at, m.at, "synth", string(g.ws), string(h.deal), from, string(h.stages[m.stage].id)); err != nil {
				return err
			}
			from = string(h.stages[m.stage].id)
		}
	}
	if err := hb.close(); err != nil {
		return err
	}
	mb := g.batch("segment_memberships", "id", "created_at", "updated_at", "started_at", "subject_type", "subject_id", "workspace_id", "segment_id")
	for _, id := range members {
		if err := mb.add(string(g.id("sgm")), g.start, g.start, g.start, "deal", string(id), string(g.ws), string(g.res.SegmentID)); err != nil {
			return err
		}
	}
	return mb.close()
}

func (g *gen) activities() error {
	s := g.spec
	if len(g.contacts) == 0 {
		return nil
	}
	b := g.batch("activities", "id", "created_at", "updated_at", "deleted_at", "kind", "subject", "direction", "occurred_at",
		"workspace_id", "contact_id", "organization_id", "deal_id", "owner_id")
	kinds := []string{"note", "call", "email", "email", "email", "meeting", "task"}
	written := 0
	for written < s.Activities {
		kind := kinds[g.r.IntN(len(kinds))]
		c := g.r.IntN(len(g.contacts))
		var orgID, dir, deal, deleted any
		if o := g.orgOf[c]; o >= 0 {
			orgID = string(g.orgs[o])
		}
		if len(g.deals) > 0 && g.r.Float64() < 0.2 {
			deal = string(g.deals[g.r.IntN(len(g.deals))])
		}
		at := g.between(g.start, s.End)
		if kind == "call" || kind == "email" {
			dir = "outbound"
			if g.r.Float64() < 0.3 {
				dir = "inbound"
			}
		}
		if g.r.Float64() < 0.01 {
			deleted = at
		}
		if err := b.add(string(g.id("act")), at, at, deleted, kind, "Synthetic "+kind, dir, at, string(g.ws), string(g.contacts[c]), orgID, deal, g.owner()); err != nil {
			return err
		}
		written++
		if kind == "email" && dir == "outbound" && written < s.Activities && g.r.Float64() < 0.35 {
			// A reply, usually within the week.
			reply := at.Add(time.Duration(g.r.Int64N(int64(10 * 24 * time.Hour)))).Truncate(time.Second)
			if err := b.add(string(g.id("act")), reply, reply, nil, "email", "Re: synthetic", "inbound", reply, string(g.ws), string(g.contacts[c]), orgID, deal, g.owner()); err != nil {
				return err
			}
			written++
		}
	}
	return b.close()
}
