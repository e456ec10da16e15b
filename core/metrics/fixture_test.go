package metrics_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// The fixture is a small workspace whose every metric was worked out by
// hand below. All times are UTC unless a test says otherwise; amounts are
// dollars.
//
// Customers (orders: amount/cost):
//
//	       Dec'24   Jan      Feb                Mar                 Apr      May
//	A org  100/60   200/120  150/90             —                   100/50   100/50
//	B org  —        300/200  300/200, −50/−30   100/70 (−05:00)     —
//	C org  80/40    —
//	D org                                       500/300             200/100
//	E con                    40/10              40/10               40/10
//	G org           60/30 (+02:00)              60/30
//
// plus an order with neither organization nor contact (Jan, 999/0: not a
// customer's), an order of A's through its contact F (counted for A: the
// organization is the customer), and orders in another workspace. G's Jan
// order is stored as 2025-02-01 01:00 +02:00, which is Jan 31 23:00 UTC;
// B's Mar order as 2025-02-28 22:00 −05:00, which is Mar 1 03:00 UTC.
type fixture struct {
	st                   *store.Store
	ctx                  context.Context
	ws                   *ent.Workspace
	c                    *ent.Client
	a, b, cc, d, g       pulid.ID // organizations
	e, f, h, j           pulid.ID // contacts
	owner                pulid.ID
	segment              pulid.ID
	sales, partners      pulid.ID
	s1, s2, s3, won, los pulid.ID
	p1, pwon             pulid.ID
	deals                map[string]pulid.ID
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func dollars(v float64) crm.Money { return crm.Money(math.Round(v * 100)) }

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	base := context.Background()
	ws := must[*ent.Workspace](t)(access.CreateWorkspace(base, st.Client, "fixture", "Fixture"))
	fx := &fixture{st: st, ws: ws, c: st.Client, deals: map[string]pulid.ID{},
		ctx: tenancy.NewContext(base, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})}
	ctx, c := fx.ctx, fx.c
	fx.owner = must[*ent.Member](t)(c.Member.Create().SetName("Olive Owner").SetEmail("olive@fixture.example").SetRole(member.RoleMember).Save(ctx)).ID
	org := func(name string, owner bool) pulid.ID {
		b := c.Organization.Create().SetName(name)
		if owner {
			b.SetOwnerID(fx.owner)
		}
		return must[*ent.Organization](t)(b.Save(ctx)).ID
	}
	fx.a, fx.b, fx.cc, fx.d, fx.g = org("A", false), org("B", false), org("C", false), org("D", true), org("G", false)
	contact := func(last string, orgID pulid.ID, created time.Time, owner bool) pulid.ID {
		b := c.Contact.Create().SetLastName(last).SetCreatedAt(created)
		if orgID != "" {
			b.SetOrganizationID(orgID)
		}
		if owner {
			b.SetOwnerID(fx.owner)
		}
		return must[*ent.Contact](t)(b.Save(ctx)).ID
	}
	fx.f = contact("F", fx.a, day(2024, 12, 1), false)
	fx.e = contact("E", "", day(2025, 1, 15), true)
	fx.h = contact("H", fx.b, day(2025, 3, 10), false)
	fx.j = contact("J", "", day(2025, 4, 1), false)
	x := contact("X", "", day(2025, 1, 1), false)

	order := func(orgID, conID pulid.ID, at time.Time, amount, cost float64) {
		b := c.Order.Create().SetAmount(dollars(amount)).SetCost(dollars(cost)).SetOrderedAt(at)
		if orgID != "" {
			b.SetOrganizationID(orgID)
		}
		if conID != "" {
			b.SetContactID(conID)
		}
		must[*ent.Order](t)(b.Save(ctx))
	}
	plus2, minus5 := time.FixedZone("", 2*3600), time.FixedZone("", -5*3600)
	order(fx.a, "", day(2024, 12, 3), 100, 60)
	order(fx.a, fx.f, day(2025, 1, 7), 200, 120)
	order(fx.a, "", day(2025, 2, 7), 150, 90)
	order(fx.a, "", day(2025, 4, 7), 100, 50)
	order(fx.a, "", day(2025, 5, 7), 100, 50) // after the range
	order(fx.b, "", day(2025, 1, 20), 300, 200)
	order(fx.b, "", day(2025, 2, 3), 300, 200)
	order(fx.b, "", day(2025, 2, 25), -50, -30) // a refund
	order(fx.b, "", time.Date(2025, 2, 28, 22, 0, 0, 0, minus5), 100, 70)
	order(fx.cc, "", day(2024, 12, 20), 80, 40)
	order(fx.d, "", day(2025, 3, 5), 500, 300)
	order(fx.d, "", day(2025, 4, 5), 200, 100)
	order("", fx.e, day(2025, 2, 11), 40, 10)
	order("", fx.e, day(2025, 3, 11), 40, 10)
	order("", fx.e, day(2025, 4, 11), 40, 10)
	order(fx.g, "", time.Date(2025, 2, 1, 1, 0, 0, 0, plus2), 60, 30)
	order(fx.g, "", day(2025, 3, 30), 60, 30)
	order("", "", day(2025, 1, 9), 999, 0) // no customer

	// A segment of A and B, and of deal d1.
	fx.segment = must[*ent.Segment](t)(c.Segment.Create().SetKey("ab").SetName("A and B").Save(ctx)).ID
	for _, id := range []pulid.ID{fx.a, fx.b} {
		must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(fx.segment).
			SetSubjectType(segmentmembership.SubjectTypeOrganization).SetSubjectID(id).Save(ctx))
	}

	// Pipelines.
	fx.sales = must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Sales").SetIsDefault(true).Save(ctx)).ID
	fx.partners = must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Partners").Save(ctx)).ID
	stg := func(p pulid.ID, name string, pos int, prob float64, kind stage.Kind) pulid.ID {
		return must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(p).SetName(name).SetPosition(pos).SetProbability(prob).SetKind(kind).Save(ctx)).ID
	}
	fx.s1 = stg(fx.sales, "S1", 0, 0.1, stage.KindOpen)
	fx.s2 = stg(fx.sales, "S2", 1, 0.3, stage.KindOpen)
	fx.s3 = stg(fx.sales, "S3", 2, 0.6, stage.KindOpen)
	fx.won = stg(fx.sales, "Won", 3, 1, stage.KindWon)
	fx.los = stg(fx.sales, "Lost", 4, 0, stage.KindLost)
	fx.p1 = stg(fx.partners, "P1", 0, 0.5, stage.KindOpen)
	fx.pwon = stg(fx.partners, "PWon", 1, 1, stage.KindWon)

	// deal creates a deal in the first stage of its path (the create hook
	// records that StageChange at created), records the rest of the path
	// as StageChange rows, and sets the deal's final stage, status and
	// closed_at directly, as they would be after those moves.
	type step struct {
		stage pulid.ID
		at    time.Time
	}
	deal := func(name string, amount float64, prob *float64, expected *time.Time, path ...step) pulid.ID {
		b := c.Deal.Create().SetName(name).SetAmount(dollars(amount)).SetStageID(path[0].stage).SetCreatedAt(path[0].at).
			SetNillableProbability(prob).SetNillableExpectedCloseDate(expected)
		if name == "d1" || name == "d6" {
			b.SetOwnerID(fx.owner)
		}
		id := must[*ent.Deal](t)(b.Save(ctx)).ID
		from := path[0].stage
		for _, s := range path[1:] {
			must[*ent.StageChange](t)(c.StageChange.Create().SetDealID(id).SetFromStageID(from).SetToStageID(s.stage).SetChangedAt(s.at).Save(ctx))
			from = s.stage
		}
		last := path[len(path)-1]
		status, closed := "open", any(nil)
		switch last.stage {
		case fx.won, fx.pwon:
			status, closed = "won", last.at
		case fx.los:
			status, closed = "lost", last.at
		}
		if _, err := st.DB.ExecContext(ctx, "UPDATE deals SET stage_id = $1, status = $2, closed_at = $3 WHERE id = $4 AND workspace_id = $5",
			string(last.stage), status, closed, string(id), string(ws.ID)); err != nil {
			t.Fatal(err)
		}
		fx.deals[name] = id
		return id
	}
	p := func(f float64) *float64 { return &f }
	at := func(tm time.Time) *time.Time { return &tm }
	deal("d1", 1000, nil, nil, step{fx.s1, day(2025, 1, 5)}, step{fx.s2, day(2025, 1, 20)}, step{fx.s3, day(2025, 2, 10)}, step{fx.won, day(2025, 3, 1)})
	deal("d2", 2000, nil, nil, step{fx.s1, day(2025, 1, 10)}, step{fx.s3, day(2025, 1, 25)}, step{fx.los, day(2025, 2, 15)})
	deal("d3", 3000, nil, nil, step{fx.s1, day(2025, 2, 1)}, step{fx.s2, day(2025, 2, 20)}, step{fx.los, day(2025, 3, 10)},
		step{fx.s2, day(2025, 3, 20)}, step{fx.won, day(2025, 4, 10)}) // lost, reopened, won
	deal("d4", 4000, p(0.5), at(day(2025, 5, 20)), step{fx.s1, day(2025, 2, 15)})
	deal("d5", 5000, nil, at(day(2025, 4, 15)), step{fx.s1, day(2025, 3, 1)}, step{fx.s2, day(2025, 3, 15)})
	deal("d6", 1500, nil, nil, step{fx.s1, day(2025, 3, 5)}, step{fx.won, day(2025, 4, 1)})
	deal("d7", 800, nil, at(day(2024, 12, 31)), step{fx.s1, day(2024, 12, 10)})
	deal("d8", 600, nil, nil, step{fx.s1, day(2025, 4, 1)})
	deal("d10", 1000, p(0.25), at(day(2025, 8, 10)), step{fx.s1, day(2025, 4, 2)})
	d9 := deal("d9", 9999, nil, at(day(2025, 4, 20)), step{fx.s1, day(2025, 1, 3)}, step{fx.won, day(2025, 1, 30)})
	if err := c.Deal.DeleteOneID(d9).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	deal("p1", 700, nil, nil, step{fx.p1, day(2025, 1, 15)}, step{fx.pwon, day(2025, 2, 1)})
	// deal set the deals' final stages past the hooks that keep the deal
	// rollups: rebuild them, as `rapport metrics rebuild` would.
	tx, err := st.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rollup.Rebuild(ctx, tx, st.Dialect, ws.ID); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(fx.segment).
		SetSubjectType(segmentmembership.SubjectTypeDeal).SetSubjectID(fx.deals["d1"]).Save(ctx))

	// Activities.
	act := func(contact pulid.ID, kind activity.Kind, dir activity.Direction, at time.Time) pulid.ID {
		b := c.Activity.Create().SetKind(kind).SetSubject(string(kind)).SetOccurredAt(at)
		if contact != "" {
			b.SetContactID(contact)
		}
		if dir != "" {
			b.SetDirection(dir)
		}
		return must[*ent.Activity](t)(b.Save(ctx)).ID
	}
	act(fx.f, activity.KindEmail, activity.DirectionOutbound, time.Date(2025, 1, 10, 10, 0, 0, 0, time.UTC)) // a1
	act(fx.f, activity.KindEmail, activity.DirectionInbound, time.Date(2025, 1, 12, 9, 0, 0, 0, time.UTC))   // a2: replies to a1
	act(fx.f, activity.KindCall, activity.DirectionOutbound, day(2025, 1, 20))                               // a3
	act(fx.e, activity.KindEmail, activity.DirectionOutbound, time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC))   // a4
	act(fx.e, activity.KindEmail, activity.DirectionInbound, day(2025, 2, 10))                               // a5: 8 days 16 h later, too late
	act(fx.e, activity.KindMeeting, "", day(2025, 2, 15))                                                    // a6
	act(fx.h, activity.KindNote, "", day(2025, 3, 12))                                                       // a7
	act(fx.h, activity.KindEmail, activity.DirectionOutbound, day(2025, 4, 5))                               // a8
	act(x, activity.KindCall, activity.DirectionOutbound, day(2025, 1, 5))                                   // a9: contact deleted below
	a10 := act(fx.f, activity.KindTask, "", day(2025, 4, 20))                                                // a10: deleted below
	orgOnly := c.Activity.Create().SetKind(activity.KindNote).SetSubject("org only").SetOccurredAt(day(2025, 2, 2)).SetOrganizationID(fx.a)
	must[*ent.Activity](t)(orgOnly.Save(ctx)) // a11: no contact
	if err := c.Activity.DeleteOneID(a10).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Contact.DeleteOneID(x).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	// Another workspace with orders, a deal and activities that must not
	// leak into the fixture's metrics.
	other := must[*ent.Workspace](t)(access.CreateWorkspace(base, st.Client, "other", "Other"))
	octx := tenancy.NewContext(base, &tenancy.Viewer{WorkspaceID: other.ID, Role: tenancy.RoleAdmin})
	oo := must[*ent.Organization](t)(c.Organization.Create().SetName("Other").Save(octx)).ID
	for _, m := range []time.Month{1, 2, 3, 4} {
		must[*ent.Order](t)(c.Order.Create().SetAmount(dollars(12345)).SetOrderedAt(day(2025, m, 2)).SetOrganizationID(oo).Save(octx))
	}
	op := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Other").Save(octx)).ID
	os1 := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(op).SetName("O1").SetPosition(0).SetProbability(0.9).Save(octx)).ID
	must[*ent.Deal](t)(c.Deal.Create().SetName("other").SetAmount(dollars(777)).SetStageID(os1).SetCreatedAt(day(2025, 2, 2)).
		SetExpectedCloseDate(day(2025, 4, 4)).Save(octx))
	oc := must[*ent.Contact](t)(c.Contact.Create().SetLastName("Other").SetCreatedAt(day(2025, 1, 1)).Save(octx)).ID
	must[*ent.Activity](t)(c.Activity.Create().SetKind(activity.KindEmail).SetDirection(activity.DirectionOutbound).SetSubject("x").
		SetOccurredAt(day(2025, 3, 3)).SetContactID(oc).Save(octx))
	return fx
}

// service returns a Service whose clock is well after the fixture.
func (fx *fixture) service() *metrics.Service {
	svc := metrics.New(fx.st)
	svc.Now = func() time.Time { return day(2025, 6, 15) }
	return svc
}

// janToApr is the fixture's range: the four months January–April 2025.
var janToApr = metrics.Query{From: day(2025, 1, 1), To: day(2025, 5, 1)}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// checkRate compares a nullable rate with want; want NaN means nil.
func checkRate(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	switch {
	case math.IsNaN(want) && got != nil:
		t.Errorf("%s = %v, want null", what, *got)
	case !math.IsNaN(want) && got == nil:
		t.Errorf("%s = null, want %v", what, want)
	case got != nil && !near(*got, want):
		t.Errorf("%s = %v, want %v", what, *got, want)
	}
}

func checkMoney(t *testing.T, what string, got *crm.Money, want float64) {
	t.Helper()
	switch {
	case math.IsNaN(want) && got != nil:
		t.Errorf("%s = %v, want null", what, *got)
	case !math.IsNaN(want) && got == nil:
		t.Errorf("%s = null, want %v", what, want)
	case got != nil && *got != dollars(want):
		t.Errorf("%s = %v, want %v", what, *got, dollars(want))
	}
}

func checkInt(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %d, want %d", what, got, want)
	}
}

var null = math.NaN()

// TestFixture builds the fixture once per database and checks every
// metric against the figures worked out by hand in each test below.
func TestFixture(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		fx := newFixture(t, st)
		for _, c := range []struct {
			name string
			test func(*testing.T, *fixture)
		}{
			{"Customers", testFixtureCustomers},
			{"ActiveWindow", testFixtureActiveWindow},
			{"Cohorts", testFixtureCohorts},
			{"CLV", testFixtureCLV},
			{"Deals", testFixtureDeals},
			{"Conversion", testFixtureConversion},
			{"Forecast", testFixtureForecast},
			{"Engagement", testFixtureEngagement},
			{"QuarterAndYear", testFixtureQuarterAndYear},
			{"Filters", testFixtureFilters},
			{"ForClient", testFixtureForClient},
		} {
			t.Run(c.name, func(t *testing.T) { c.test(t, fx) })
		}
	})
}

func testFixtureCustomers(t *testing.T, fx *fixture) {
	got, err := fx.service().Customers(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	// Active customers (an order in the month):
	//   Dec {A,C}  Jan {A,B,G}  Feb {A,B,E}  Mar {B,D,E,G}  Apr {A,D,E}
	// Net revenue by customer and month:
	//   A: Dec 100, Jan 200, Feb 150, Apr 100    B: Jan 300, Feb 300−50 = 250, Mar 100
	//   C: Dec 80    D: Mar 500, Apr 200    E: Feb 40, Mar 40, Apr 40    G: Jan 60, Mar 60
	want := []struct {
		label                                     string
		start, end, newc, back, churned, retained int
		churn, retention                          float64
		orders, buyers                            int
		revenue, margin                           float64
		startRev, keptRev, lostRev                float64
		revChurn, nrr                             float64
	}{
		// Jan: S = |{A,C}| = 2, E = |{A,B,G}| = 3, new B,G = 2, churned C = 1,
		// retained A = 1; churn 1/2; retention (E−N)/S = (3−2)/2.
		// Revenue 200+300+60 = 560; margin 80+100+30 = 210; 3 orders (the
		// customer-less one is not counted).
		// Revenue retention: Dec buyers A, C spent 100+80 = 180 in Dec and
		// 200+0 = 200 in Jan: NRR 200/180; lost max(0,100−200)+max(0,80−0) = 80,
		// revenue churn 80/180.
		{"2025-01", 2, 3, 2, 0, 1, 1, 1.0 / 2, (3.0 - 2) / 2, 3, 3, 560, 210, 180, 200, 80, 80.0 / 180, 200.0 / 180},
		// Feb: S = 3 {A,B,G}, E = 3 {A,B,E}, new E, churned G, retained 2;
		// churn 1/3, retention (3−1)/3. Revenue 150+250+40 = 440; margin
		// 60+(100−20)+30 = 170; 4 orders (the refund is one).
		// Jan buyers spent 200+300+60 = 560 in Jan and 150+250+0 = 400 in Feb:
		// NRR 400/560; lost 50+50+60 = 160.
		{"2025-02", 3, 3, 1, 0, 1, 2, 1.0 / 3, (3.0 - 1) / 3, 4, 3, 440, 170, 560, 400, 160, 160.0 / 560, 400.0 / 560},
		// Mar: S = 3 {A,B,E}, E = 4 {B,D,E,G}, new D, back G (N = 2), churned
		// A, retained 2; churn 1/3, retention (4−2)/3. Revenue 100+500+40+60 =
		// 700; margin 30+200+30+30 = 290. Feb buyers A,B,E: 150+250+40 = 440
		// then 0+100+40 = 140; lost 150+150+0 = 300.
		{"2025-03", 3, 4, 1, 1, 1, 2, 1.0 / 3, (4.0 - 2) / 3, 4, 4, 700, 290, 440, 140, 300, 300.0 / 440, 140.0 / 440},
		// Apr: S = 4 {B,D,E,G}, E = 3 {A,D,E}, back A, churned B,G, retained 2;
		// churn 2/4, retention (3−1)/4. Revenue 100+200+40 = 340; margin
		// 50+100+30 = 180. Mar buyers B,D,E,G: 100+500+40+60 = 700 then
		// 0+200+40+0 = 240; lost 100+300+0+60 = 460.
		{"2025-04", 4, 3, 0, 1, 2, 2, 2.0 / 4, (3.0 - 1) / 4, 3, 3, 340, 180, 700, 240, 460, 460.0 / 700, 240.0 / 700},
	}
	if len(got) != len(want) {
		t.Fatalf("%d periods, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Label != w.label {
			t.Fatalf("period %d is %s, want %s", i, g.Label, w.label)
		}
		l := w.label + " "
		checkInt(t, l+"start", g.CustomersAtStart, w.start)
		checkInt(t, l+"end", g.CustomersAtEnd, w.end)
		checkInt(t, l+"new", g.NewCustomers, w.newc)
		checkInt(t, l+"reactivated", g.Reactivated, w.back)
		checkInt(t, l+"churned", g.Churned, w.churned)
		checkInt(t, l+"retained", g.Retained, w.retained)
		checkRate(t, l+"churn rate", g.ChurnRate, w.churn)
		checkRate(t, l+"retention rate", g.RetentionRate, w.retention)
		checkInt(t, l+"orders", g.Orders, w.orders)
		checkInt(t, l+"buyers", g.Buyers, w.buyers)
		for _, m := range []struct {
			what string
			got  crm.Money
			want float64
		}{{"revenue", g.Revenue, w.revenue}, {"margin", g.Margin, w.margin}, {"starting revenue", g.StartingRevenue, w.startRev},
			{"retained revenue", g.RetainedRevenue, w.keptRev}, {"lost revenue", g.LostRevenue, w.lostRev}} {
			if m.got != dollars(m.want) {
				t.Errorf("%s%s = %v, want %v", l, m.what, m.got, dollars(m.want))
			}
		}
		checkRate(t, l+"revenue churn", g.RevenueChurnRate, w.revChurn)
		checkRate(t, l+"net revenue retention", g.NetRevenueRetention, w.nrr)
	}
}

func testFixtureActiveWindow(t *testing.T, fx *fixture) {
	q := janToApr
	q.ActiveWindow = 2
	got, err := fx.service().Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Active = an order this month or last:
	//   Dec {A,C}  Jan {A,C}∪{A,B,G} = {A,B,C,G}  Feb {A,B,G}∪{A,B,E} = {A,B,E,G}
	//   Mar {A,B,E}∪{B,D,E,G} = {A,B,D,E,G}  Apr {B,D,E,G}∪{A,D,E} = {A,B,D,E,G}
	want := []struct{ start, end, newc, back, churned int }{
		{2, 4, 2, 0, 0}, // Jan: new B,G; retention (4−2)/2 = 1
		{4, 4, 1, 0, 1}, // Feb: new E, C lapses; churn 1/4
		{4, 5, 1, 0, 0}, // Mar: new D; G stays active through Feb
		{5, 5, 0, 0, 0}, // Apr: A stays active through Mar
	}
	for i, w := range want {
		g := got[i]
		l := g.Label + " "
		checkInt(t, l+"start", g.CustomersAtStart, w.start)
		checkInt(t, l+"end", g.CustomersAtEnd, w.end)
		checkInt(t, l+"new", g.NewCustomers, w.newc)
		checkInt(t, l+"reactivated", g.Reactivated, w.back)
		checkInt(t, l+"churned", g.Churned, w.churned)
	}
	checkRate(t, "Jan retention", got[0].RetentionRate, 1)
	checkRate(t, "Feb churn", got[1].ChurnRate, 1.0/4)
}

func testFixtureCohorts(t *testing.T, fx *fixture) {
	m, err := fx.service().Cohorts(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	// First orders: A Dec, C Dec (cohorts before the range), B Jan, G Jan,
	// E Feb, D Mar. Cohort × month active:
	//   Jan {B,G}: Jan 2 (2/2), Feb 1 (B: 1/2), Mar 2 (B,G: 2/2), Apr 0
	//   Feb {E}:   1, 1, 1
	//   Mar {D}:   1, 1
	//   Apr {}:    size 0, rate null
	// Jan cohort revenue: Jan 300+60 = 360, Feb 250, Mar 100+60 = 160, Apr 0.
	want := []struct {
		label   string
		size    int
		active  []int
		rates   []float64
		revenue []float64
	}{
		{"2025-01", 2, []int{2, 1, 2, 0}, []float64{1, 0.5, 1, 0}, []float64{360, 250, 160, 0}},
		{"2025-02", 1, []int{1, 1, 1}, []float64{1, 1, 1}, []float64{40, 40, 40}},
		{"2025-03", 1, []int{1, 1}, []float64{1, 1}, []float64{500, 200}},
		{"2025-04", 0, []int{0}, []float64{null}, []float64{0}},
	}
	if len(m.Cohorts) != len(want) {
		t.Fatalf("%d cohorts, want %d", len(m.Cohorts), len(want))
	}
	for i, w := range want {
		co := m.Cohorts[i]
		if co.Label != w.label || co.Size != w.size || len(co.Cells) != len(w.active) {
			t.Fatalf("cohort %d: %s size %d with %d cells, want %s size %d with %d", i, co.Label, co.Size, len(co.Cells), w.label, w.size, len(w.active))
		}
		for j, cell := range co.Cells {
			l := co.Label + "+" + string(rune('0'+j)) + " "
			checkInt(t, l+"offset", cell.Offset, j)
			checkInt(t, l+"active", cell.Active, w.active[j])
			checkRate(t, l+"rate", cell.Rate, w.rates[j])
			if cell.Revenue != dollars(w.revenue[j]) {
				t.Errorf("%srevenue = %v, want %v", l, cell.Revenue, w.revenue[j])
			}
		}
	}
}

func testFixtureCLV(t *testing.T, fx *fixture) {
	svc := fx.service()
	clv, err := svc.CLV(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	// Customers with an order before May: A, B, C, D, E, G = 6.
	// Historical margin to the end of April (A's May order excluded):
	//   A 40+80+60+50 = 230, B 100+80+30 = 210, C 40, D 200+100 = 300, E 30×3 = 90, G 30+30 = 60
	//   total 930, average 930/6 = 155.
	// Historical revenue: A 550, B 650, C 80, D 700, E 120, G 120 = 2220.
	checkInt(t, "customers", clv.Customers, 6)
	if clv.HistoricalMargin != dollars(930) || clv.HistoricalRevenue != dollars(2220) {
		t.Errorf("historical margin %v revenue %v, want 930 and 2220", clv.HistoricalMargin, clv.HistoricalRevenue)
	}
	checkMoney(t, "historical average", clv.HistoricalAverage, 155)
	// m = Σ margin / Σ active customers over Jan–Apr = (210+170+290+180)/(3+3+4+3)
	//   = 850/13 = 65.3846… → 65.38
	// r = Σ retained / Σ at start = (1+2+2+2)/(2+3+3+4) = 7/12
	// i = 1.10^(1/12) − 1 = 0.0079741404… per month
	// CLV = m·r/(1+i−r) − 0 = 65.3846·0.583333/0.424641 = 89.8195… → 89.82
	checkMoney(t, "m", clv.Margin, 65.38)
	checkRate(t, "r", clv.Retention, 7.0/12)
	if !near(clv.DiscountRate, math.Pow(1.1, 1.0/12)-1) {
		t.Errorf("discount rate %v", clv.DiscountRate)
	}
	checkMoney(t, "predictive", clv.Predictive, 89.82)
	if !clv.MarginMeasured || !clv.RetentionMeasured {
		t.Error("m and r should be measured")
	}
	// Top by historical margin: D 300, A 230, B 210, E 90, G 60, C 40.
	wantTop := []struct {
		id     pulid.ID
		kind   string
		margin float64
		orders int
	}{{fx.d, "organization", 300, 2}, {fx.a, "organization", 230, 4}, {fx.b, "organization", 210, 4}, {fx.e, "contact", 90, 3}, {fx.g, "organization", 60, 2}, {fx.cc, "organization", 40, 1}}
	if len(clv.Top) != len(wantTop) {
		t.Fatalf("top has %d customers, want %d", len(clv.Top), len(wantTop))
	}
	for i, w := range wantTop {
		g := clv.Top[i]
		if g.ID != w.id || g.Kind != w.kind || g.Margin != dollars(w.margin) || g.Orders != w.orders {
			t.Errorf("top %d = %+v, want %v %s %v %d", i, g, w.id, w.kind, w.margin, w.orders)
		}
	}
	if clv.Top[0].Name != "D" || clv.Top[3].Name != "E" {
		t.Errorf("names %q %q", clv.Top[0].Name, clv.Top[3].Name)
	}
	if !clv.Top[0].FirstOrder.Equal(day(2025, 3, 5)) || !clv.Top[0].LastOrder.Equal(day(2025, 4, 5)) {
		t.Errorf("D's orders %v … %v", clv.Top[0].FirstOrder, clv.Top[0].LastOrder)
	}

	// Configured: m = 100, r = 0.8, i = 0, AC = 50:
	// 100·0.8/(1+0−0.8) − 50 = 80/0.2 − 50 = 350.
	q := janToApr
	m, r, i := dollars(100), 0.8, 0.0
	q.CLV = metrics.CLVConfig{Margin: &m, Retention: &r, AnnualDiscountRate: &i, AcquisitionCost: dollars(50)}
	clv, err = svc.CLV(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkMoney(t, "configured predictive", clv.Predictive, 350)
	if clv.MarginMeasured || clv.RetentionMeasured {
		t.Error("m and r should be configured")
	}
	// r = 1 and i = 0: the series diverges; no value.
	r = 1
	q.CLV.Retention = &r
	if clv, err = svc.CLV(fx.ctx, q); err != nil || clv.Predictive != nil {
		t.Errorf("r = 1, i = 0: predictive %v, err %v; want null", clv.Predictive, err)
	}
}

func testFixtureDeals(t *testing.T, fx *fixture) {
	got, err := fx.service().Deals(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	// Deals (d9 is deleted and never counts):
	//   created Dec d7; Jan d1 d2 p1; Feb d3 d4; Mar d5 d6; Apr d8 d10
	//   closed  Feb: p1 won (700, Jan 15→Feb 1 = 17 days), d2 lost (2000)
	//           Mar: d1 won (1000, Jan 5→Mar 1 = 55 days)
	//           Apr: d6 won (1500, Mar 5→Apr 1 = 27 days), d3 won (3000, Feb 1→Apr 10 = 68 days;
	//                its loss on Mar 10 was undone by reopening it)
	// Open at the start = created before − closed before:
	//   Jan 1−0 = 1; Feb 4−0 = 4; Mar 6−2 = 4; Apr 8−3 = 5
	want := []struct {
		created, open, won, lost int
		winRate, byAmount        float64
		avgWon                   float64
		cycle                    float64
		velocity                 float64
	}{
		{3, 1, 0, 0, null, null, null, null, null},
		// velocity = 4 × 700 × 0.5 / 17 = 82.3529… → 82.35
		{2, 4, 1, 1, 0.5, 700.0 / 2700, 700, 17, 82.35},
		// 4 × 1000 × 1 / 55 = 72.7272… → 72.73
		{2, 4, 1, 0, 1, 1, 1000, 55, 72.73},
		// average won (1500+3000)/2 = 2250, cycle (27+68)/2 = 47.5;
		// 5 × 2250 × 1 / 47.5 = 236.8421… → 236.84
		{2, 5, 2, 0, 1, 1, 2250, 47.5, 236.84},
	}
	for i, w := range want {
		g := got[i]
		l := g.Label + " "
		checkInt(t, l+"created", g.Created, w.created)
		checkInt(t, l+"open at start", g.OpenAtStart, w.open)
		checkInt(t, l+"won", g.Won, w.won)
		checkInt(t, l+"lost", g.Lost, w.lost)
		checkRate(t, l+"win rate", g.WinRate, w.winRate)
		checkRate(t, l+"win rate by amount", g.WinRateByAmount, w.byAmount)
		checkMoney(t, l+"average won", g.AverageWonAmount, w.avgWon)
		checkRate(t, l+"cycle", g.AverageCycleDays, w.cycle)
		checkMoney(t, l+"velocity", g.SalesVelocity, w.velocity)
	}

	// Only the Partners pipeline: p1 alone.
	q := janToApr
	q.Filter.PipelineID = fx.partners
	got, err = fx.service().Deals(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkInt(t, "partners Jan created", got[0].Created, 1)
	checkInt(t, "partners Feb won", got[1].Won, 1)
	checkInt(t, "partners Apr won", got[3].Won, 0)
	// Owner: d1 and d6.
	q = janToApr
	q.Filter.OwnerID = fx.owner
	got, err = fx.service().Deals(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkInt(t, "owner's Mar won", got[2].Won, 1)
	checkInt(t, "owner's Apr won", got[3].Won, 1)
	checkInt(t, "owner's Feb won", got[1].Won, 0)
}

func testFixtureConversion(t *testing.T, fx *fixture) {
	funnels, err := fx.service().Conversion(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	if len(funnels) != 2 || funnels[0].Pipeline != "Partners" || funnels[1].Pipeline != "Sales" {
		t.Fatalf("funnels %+v", funnels)
	}
	// Sales deals created Jan–Apr: d1 d2 d3 d4 d5 d6 d8 d10 (d7 is older, d9
	// deleted). Stages entered, and the furthest step reached:
	//   d1 S1 S2 S3 Won → Won      d2 S1 S3 Lost → S3    d3 S1 S2 Lost S2 Won → Won
	//   d4 S1 → S1   d5 S1 S2 → S2   d6 S1 Won → Won   d8 S1 → S1   d10 S1 → S1
	// Entered: S1 8, S2 3 (d1 d3 d5; d3 twice counts once), S3 2 (d1 d2), Won 3
	// Reached: S1 8, S2 5 (+d2 d6 skipped it), S3 4 (+d3 d6), Won 3
	// Conversion: S2 5/8, S3 4/5, Won 3/4; from first: Won 3/8.
	sales := funnels[1]
	checkInt(t, "deals", sales.Deals, 8)
	checkRate(t, "win rate", sales.WinRate, 3.0/8)
	want := []struct {
		stage                     pulid.ID
		entered, reached, skipped int
		conversion, fromFirst     float64
	}{
		{fx.s1, 8, 8, 0, null, 1},
		{fx.s2, 3, 5, 2, 5.0 / 8, 5.0 / 8},
		{fx.s3, 2, 4, 2, 4.0 / 5, 4.0 / 8},
		{fx.won, 3, 3, 0, 3.0 / 4, 3.0 / 8},
	}
	if len(sales.Steps) != len(want) {
		t.Fatalf("steps %+v", sales.Steps)
	}
	for i, w := range want {
		g := sales.Steps[i]
		l := g.Stage + " "
		if g.StageID != w.stage {
			t.Errorf("step %d is %s", i, g.Stage)
		}
		checkInt(t, l+"entered", g.Entered, w.entered)
		checkInt(t, l+"reached", g.Reached, w.reached)
		checkInt(t, l+"skipped", g.Skipped, w.skipped)
		checkRate(t, l+"conversion", g.Conversion, w.conversion)
		checkRate(t, l+"from first", g.FromFirst, w.fromFirst)
	}
	// Partners: p1 P1 → PWon.
	p := funnels[0]
	checkInt(t, "partners deals", p.Deals, 1)
	checkInt(t, "partners won", p.Steps[1].Reached, 1)
	checkRate(t, "partners conversion", p.Steps[1].Conversion, 1)

	// Segment {A, B, d1}: only d1 (no deal has A or B).
	q := janToApr
	q.Filter.SegmentID = fx.segment
	funnels, err = fx.service().Conversion(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	checkInt(t, "segment's sales deals", funnels[1].Deals, 1)
	checkInt(t, "segment's sales won", funnels[1].Steps[3].Reached, 1)
}

func testFixtureForecast(t *testing.T, fx *fixture) {
	f, err := fx.service().Forecast(fx.ctx, metrics.Query{From: day(2025, 4, 1), To: day(2025, 7, 1)})
	if err != nil {
		t.Fatal(err)
	}
	// Open deals: d4 4000 × 0.5 (its own) closing May 20; d5 5000 × 0.3 (S2's)
	// closing Apr 15; d7 800 × 0.1 (S1's) closing Dec 31 (overdue); d8 600 ×
	// 0.1 unscheduled; d10 1000 × 0.25 closing Aug 10 (after the range).
	//   Apr 5000 → 1500; May 4000 → 2000; Jun 0; overdue 800 → 80;
	//   later 1000 → 250; unscheduled 600 → 60; total 11400 → 3890.
	want := []struct {
		deals            int
		amount, weighted float64
	}{{1, 5000, 1500}, {1, 4000, 2000}, {0, 0, 0}}
	for i, w := range want {
		g := f.Periods[i]
		if g.Deals != w.deals || g.Amount != dollars(w.amount) || g.Weighted != dollars(w.weighted) {
			t.Errorf("%s = %+v, want %+v", g.Label, g.ForecastBucket, w)
		}
	}
	for _, b := range []struct {
		what             string
		got              metrics.ForecastBucket
		deals            int
		amount, weighted float64
	}{
		{"overdue", f.Overdue, 1, 800, 80},
		{"later", f.Later, 1, 1000, 250},
		{"unscheduled", f.Unscheduled, 1, 600, 60},
		{"total", f.Total, 5, 11400, 3890},
	} {
		if b.got.Deals != b.deals || b.got.Amount != dollars(b.amount) || b.got.Weighted != dollars(b.weighted) {
			t.Errorf("%s = %+v, want %d %v %v", b.what, b.got, b.deals, b.amount, b.weighted)
		}
	}
}

func testFixtureEngagement(t *testing.T, fx *fixture) {
	e, err := fx.service().Engagement(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	// Contacts (X is deleted): F Dec, E Jan 15, H Mar 10, J Apr 1.
	//   at the end of Jan 2 (F, E), Feb 2, Mar 3, Apr 4.
	// Activities with a live contact (a9's contact is deleted, a10 is
	// deleted, a11 has no contact):
	//   Jan a1 email, a2 email, a3 call   Feb a4 email, a5 email, a6 meeting
	//   Mar a7 note                       Apr a8 email
	// Outbound emails: Jan a1 (a2 replies 23 h later), Feb a4 (a5 comes
	// 8 days 16 h later: no reply), Apr a8 (no reply).
	want := []struct {
		contacts, activities int
		byKind               map[string]int
		outbound, replied    int
		rate                 float64
	}{
		{2, 3, map[string]int{"email": 2, "call": 1}, 1, 1, 1},
		{2, 3, map[string]int{"email": 2, "meeting": 1}, 1, 0, 0},
		{3, 1, map[string]int{"note": 1}, 0, 0, null},
		{4, 1, map[string]int{"email": 1}, 1, 0, 0},
	}
	for i, w := range want {
		g := e.Periods[i]
		l := g.Label + " "
		checkInt(t, l+"contacts", g.Contacts, w.contacts)
		checkInt(t, l+"activities", g.Activities, w.activities)
		for _, k := range g.ByKind {
			checkInt(t, l+k.Kind, k.Count, w.byKind[k.Kind])
			checkRate(t, l+k.Kind+" per contact", k.PerContact, float64(w.byKind[k.Kind])/float64(w.contacts))
		}
		checkInt(t, l+"outbound", g.OutboundEmails, w.outbound)
		checkInt(t, l+"replied", g.Replied, w.replied)
		checkRate(t, l+"reply rate", g.ReplyRate, w.rate)
	}
	// Last touch as of May 1 (the range's end; the clock is later):
	//   F a3 Jan 20 → 11+28+31+30+1 = 101 days (a10 is deleted)
	//   E a6 Feb 15 → 13+31+30+1 = 75 days;  H a8 Apr 5 → 26 days;  J never
	//   average (101+75+26)/3 = 67.3333…
	lt := e.LastTouch
	if !lt.AsOf.Equal(day(2025, 5, 1)) {
		t.Errorf("as of %v", lt.AsOf)
	}
	checkInt(t, "contacts", lt.Contacts, 4)
	checkInt(t, "touched", lt.Touched, 3)
	checkRate(t, "average days", lt.AverageDays, math.Round(202.0/3*1e6)/1e6)
	wantBuckets := []int{0, 1, 1, 1, 0, 1} // 0–7, 8–30 (H), 31–90 (E), 91–365 (F), >365, never (J)
	for i, b := range lt.Buckets {
		checkInt(t, "bucket "+b.Label, b.Contacts, wantBuckets[i])
	}
}

// adminContext acts as an admin of the workspace.
func adminContext(ws pulid.ID) context.Context {
	return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleAdmin})
}
