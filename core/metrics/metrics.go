package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk/manifest"
)

// MaxPeriods is the most periods one query may span.
const MaxPeriods = 240

// ErrNoWorkspace is returned when the context carries no tenancy.Viewer:
// metrics are always computed for the viewer's workspace.
var ErrNoWorkspace = errcode.New(errcode.Unauthenticated, "metrics need a workspace: the context carries no viewer")

// Query says what to measure: a range cut into periods, optionally
// narrowed by a filter. The zero value of every field but the range has a
// sensible default.
type Query struct {
	// From and To bound the range, [From, To). From is moved back to the
	// start of its period and To forward to the end of its period, so a
	// range always covers whole periods.
	From, To time.Time
	// Period is the bucket length; "" means Month.
	Period Period
	// Filter narrows the records measured.
	Filter Filter
	// ActiveWindow is how many periods an order keeps a customer active:
	// a customer is active in period k when they have an order in periods
	// k-ActiveWindow+1 … k. Zero means 1: an order within the period.
	ActiveWindow int
	// ReplyWithin is how soon an inbound email must follow an outbound one
	// to count as its reply. Zero means 7 days.
	ReplyWithin time.Duration
	// TopCustomers is how many customers CLV lists by historical value.
	// Zero means 10; negative means none.
	TopCustomers int
	// CLV configures predictive lifetime value.
	CLV CLVConfig
}

// ParseSegment sets f's segment filter from s: a segment ID (seg_…), or
// a segment key (every segment of that key); "" sets none.
func ParseSegment(s string, f *Filter) error {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "seg_") {
		id, err := pulid.Parse(s)
		if err != nil {
			return err
		}
		f.SegmentID = id
		return nil
	}
	if !manifest.SegmentKey(s) {
		return fmt.Errorf("%q is neither a segment ID (seg_…) nor a segment key (1 to 64 of a-z, 0-9, _ and -)", s)
	}
	f.SegmentKey = s
	return nil
}

// Filter narrows the records measured. Empty fields do not filter.
type Filter struct {
	// SegmentID keeps customers (organizations, contacts) that are members
	// of the segment; for deals, deals that are members or whose
	// organization or contact is; for engagement, contacts that are members.
	SegmentID pulid.ID
	// SegmentKey does the same for every segment with this key (a person's
	// or a plugin's), when SegmentID is empty.
	SegmentKey string
	// OwnerID keeps records owned by the member: the customer's owner for
	// customer metrics, the deal's owner for deal metrics, the contact's
	// owner for engagement.
	OwnerID pulid.ID
	// PipelineID keeps deals of the pipeline, and orders linked to a deal
	// of the pipeline.
	PipelineID pulid.ID
}

// Service computes metrics from a store. Every method answers for the
// workspace of the tenancy.Viewer in its context and refuses without one.
// A Service is safe for concurrent use.
//
// All computation is SQL aggregation in the database; Go only combines
// the aggregated rows (a few per period, or per cohort and period). The
// SQL is written by hand, not through ent, so every statement names
// workspace_id itself.
type Service struct {
	db      *sql.DB     // set by New
	client  *ent.Client // set by ForClient
	dialect string
	probe   *dialectProbe
	// raw computes every metric from the raw rows, not the rollups.
	raw bool
	// Now returns the current time; time.Now when nil. Tests set it.
	Now func() time.Time
}

// querier runs SQL: a *sql.DB, *sql.Tx, or an ent client (with the
// sql/execquery feature).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// New returns a Service over the store.
func New(st *store.Store) *Service {
	return &Service{db: st.DB, dialect: st.Dialect}
}

// Raw returns a copy of s that computes every metric from the raw rows
// (orders, deals, stage changes, activities) rather than from the
// rollups core/metrics/rollup keeps. It gives the same answers, more
// slowly: it is the recomputation `rapport metrics check` compares with.
func (s *Service) Raw() *Service {
	c := *s
	c.raw = true
	return &c
}

// ForClient returns a Service running its queries through the ent client
// (which must have been generated with the sql/execquery feature, as
// Rapport's is). The client's dialect is detected on first use.
func ForClient(client *ent.Client) *Service {
	probe, _ := probes.LoadOrStore(client, &dialectProbe{})
	return &Service{client: client, probe: probe.(*dialectProbe)}
}

// probes remembers each client's dialect, so that a Service made per
// request detects it once per client.
var probes sync.Map // *ent.Client → *dialectProbe

type dialectProbe struct {
	mu      sync.Mutex
	dialect string
	// viaTx is set when the client's driver cannot run raw SQL itself
	// (it was wrapped, e.g. by store.WithDriver to count queries) but its
	// transactions can: every read then runs in an ent transaction.
	viaTx bool
}

func (s *Service) root() querier {
	if s.db != nil {
		return s.db
	}
	return s.client
}

// dialectOf returns the database's dialect, detecting it once.
func (s *Service) dialectOf(ctx context.Context) (string, error) {
	if s.probe == nil {
		return s.dialect, nil
	}
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	if s.probe.dialect != "" {
		return s.probe.dialect, nil
	}
	if rows, err := s.client.QueryContext(ctx, "SELECT 1"); err != nil {
		if !strings.Contains(err.Error(), "not supported") {
			return "", fmt.Errorf("metrics: %w", err)
		}
		s.probe.viaTx = true
	} else {
		rows.Close()
	}
	// probe runs one query, in a transaction of its own when it must (a
	// failed statement aborts a PostgreSQL transaction).
	probe := func(query string) error {
		var v string
		if !s.probe.viaTx {
			return scanOne(ctx, s.client, query, &v)
		}
		tx, err := s.client.Tx(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // read only
		return scanOne(ctx, tx.Client(), query, &v)
	}
	if err := probe("SELECT sqlite_version()"); err == nil {
		s.probe.dialect = dialect.SQLite
		return s.probe.dialect, nil
	}
	if err := probe("SELECT version()"); err != nil {
		return "", fmt.Errorf("metrics: detect database dialect: %w", err)
	}
	s.probe.dialect = dialect.Postgres
	return s.probe.dialect, nil
}

func scanOne(ctx context.Context, q querier, query string, dst ...any) error {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dst...); err != nil {
		return err
	}
	return rows.Close()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// postgresSettings tune each PostgreSQL read: the aggregations sort and
// hash a few hundred thousand rows, which the default 4 MB of work_mem
// would spill to disk; they are too short-lived to repay JIT compilation;
// and every join in them is of a large set with another, where a nested
// loop — which the planner picks when a table has no statistics yet, as
// after a bulk load — is quadratic. Random page reads are costed as
// cheap as they are when the working set is cached (the default, 4, is
// for spinning disks): otherwise the planner reads every order row by a
// sequential scan instead of the order_customer_month index alone, which
// takes about twice as long.
var postgresSettings = []string{"SET LOCAL work_mem = '128MB'", "SET LOCAL jit = off", "SET LOCAL enable_nestloop = off", "SET LOCAL random_page_cost = 1.1"}

// read runs f with a plan whose queries go to the database: in
// PostgreSQL inside a read-only transaction (one snapshot for all of f's
// queries, and the settings above); in SQLite straight to the pool
// (SQLite's snapshot is per statement, and Rapport's SQLite transactions
// take the write lock). A client whose driver cannot run raw SQL outside
// a transaction (see dialectProbe) runs every read in an ent transaction.
func (s *Service) read(ctx context.Context, p *plan, f func(*plan) error) error {
	bound := *p
	viaTx := s.probe != nil && s.probe.viaTx
	if p.d.sqlite() && !viaTx {
		bound.q = s.root()
		return f(&bound)
	}
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	var (
		q      querier
		commit func() error
		abort  func() error
	)
	switch {
	case s.db != nil:
		tx, err := s.db.BeginTx(ctx, opts)
		if err != nil {
			return wrap("begin", err)
		}
		q, commit, abort = tx, tx.Commit, tx.Rollback
	case viaTx:
		tx, err := s.client.Tx(ctx)
		if err != nil {
			return wrap("begin", err)
		}
		q, commit, abort = tx.Client(), tx.Commit, tx.Rollback
	default:
		tx, err := s.client.BeginTx(ctx, opts)
		if err != nil {
			return wrap("begin", err)
		}
		q, commit, abort = tx.Client(), tx.Commit, tx.Rollback
	}
	if !p.d.sqlite() {
		for _, set := range postgresSettings {
			if _, err := q.ExecContext(ctx, set); err != nil {
				_ = abort()
				return wrap("settings", err)
			}
		}
	}
	bound.q = q
	if err := f(&bound); err != nil {
		_ = abort()
		return err
	}
	return wrap("commit", commit())
}

// each runs a query and calls f for every row.
func (p *plan) each(ctx context.Context, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := p.q.QueryContext(ctx, query, args...)
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

// plan is a validated query bound to a workspace and a dialect.
type plan struct {
	Query
	q       querier // set by Service.read
	ws      pulid.ID
	d       sqlDialect
	first   int // index of the first period of the range
	last    int // index of the last period of the range
	asOf    time.Time
	now     time.Time // when the metric is computed
	window  int
	replyIn time.Duration
}

// Normalized checks q and returns it with its defaults filled in and its
// range aligned to whole periods: From at the start of its period, To at
// the end of the last period it touches. Errors are BAD_USER_INPUT.
func (q Query) Normalized() (Query, error) {
	if q.Period == "" {
		q.Period = Month
	}
	if _, err := ParsePeriod(string(q.Period)); err != nil {
		return q, err
	}
	if q.From.IsZero() || q.To.IsZero() {
		return q, errcode.Input("range", "a range needs both from and to")
	}
	if !q.To.After(q.From) {
		return q, errcode.Input("range", "the range ends (%s) before it starts (%s)", q.To.Format(time.RFC3339), q.From.Format(time.RFC3339))
	}
	first, last := q.Period.index(q.From), q.Period.index(q.To.Add(-time.Nanosecond))
	if n := last - first + 1; n > MaxPeriods {
		return q, errcode.Input("range", "the range spans %d periods; at most %d are allowed", n, MaxPeriods)
	}
	q.From, q.To = q.Period.start(first), q.Period.start(last+1)
	if q.ActiveWindow < 0 || q.ActiveWindow > MaxPeriods {
		return q, errcode.Input("activeWindow", "the activity window must be between 1 and %d periods", MaxPeriods)
	}
	if q.ActiveWindow == 0 {
		q.ActiveWindow = 1
	}
	if q.ReplyWithin < 0 {
		return q, errcode.Input("replyWithin", "the reply window must not be negative")
	}
	if q.ReplyWithin == 0 {
		q.ReplyWithin = 7 * 24 * time.Hour
	}
	if q.TopCustomers == 0 {
		q.TopCustomers = 10
	}
	if r := q.CLV.Retention; r != nil && (*r < 0 || *r > 1 || math.IsNaN(*r)) {
		return q, errcode.Input("clv.retention", "retention must be between 0 and 1")
	}
	if i := q.CLV.AnnualDiscountRate; i != nil && (*i <= -1 || math.IsNaN(*i) || math.IsInf(*i, 0)) {
		return q, errcode.Input("clv.annualDiscountRate", "the discount rate must be above -1")
	}
	return q, nil
}

// prepare checks q, fills its defaults and binds it to the context's
// workspace.
func (s *Service) prepare(ctx context.Context, q Query) (*plan, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return nil, ErrNoWorkspace
	}
	q, err := q.Normalized()
	if err != nil {
		return nil, err
	}
	p := &plan{Query: q, ws: v.WorkspaceID, window: q.ActiveWindow, replyIn: q.ReplyWithin}
	p.first = q.Period.index(q.From)
	p.last = q.Period.index(q.To) - 1
	p.now = s.now()
	p.asOf = p.To
	if p.now.Before(p.asOf) {
		p.asOf = p.now
	}
	p.asOf = p.asOf.UTC().Truncate(time.Second)
	name, err := s.dialectOf(ctx)
	if err != nil {
		return nil, err
	}
	p.d = sqlDialect{name: name}
	return p, nil
}

// span describes the period with index i, partial when it ends after
// the plan's now.
func (p *plan) span(i int) Span {
	sp := p.Period.span(i)
	sp.Partial = sp.End.After(p.now)
	return sp
}

// periods is the number of periods in the range.
func (p *plan) periods() int { return p.last - p.first + 1 }

// ratio returns a/b, or nil when b is zero: a rate over nothing is
// undefined, not zero and not NaN.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	r := a / b
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return nil
	}
	return &r
}

// cents rounds an amount in cents to a whole cent, half away from zero.
func cents(f float64) crm.Money { return crm.Money(math.Round(f)) }

// moneyRatio returns a/b as money, or nil when b is zero.
func moneyRatio(a, b float64) *crm.Money {
	if b == 0 {
		return nil
	}
	m := cents(a / b)
	return &m
}

// wrap names what failed.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var ce *errcode.Error
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("metrics: %s: %w", what, err)
}
