package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestRefusesWithoutViewer(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	svc := metrics.New(st)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"customers":  func() error { _, err := svc.Customers(ctx, janToApr); return err },
		"report":     func() error { _, err := svc.Report(ctx, janToApr); return err },
		"forecast":   func() error { _, err := svc.Forecast(ctx, janToApr); return err },
		"system":     func() error { _, err := svc.Deals(tenancy.System(ctx), janToApr); return err },
		"engagement": func() error { _, err := svc.Engagement(ctx, janToApr); return err },
	} {
		if err := call(); !errors.Is(err, metrics.ErrNoWorkspace) {
			t.Errorf("%s without a viewer: %v", name, err)
		}
	}
}

func TestValidatesQuery(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ws, err := access.CreateWorkspace(context.Background(), st.Client, "v", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	svc := metrics.New(st)
	for name, q := range map[string]metrics.Query{
		"no range":        {},
		"backwards":       {From: day(2025, 5, 1), To: day(2025, 1, 1)},
		"empty":           {From: day(2025, 5, 1), To: day(2025, 5, 1)},
		"too long":        {From: day(1900, 1, 1), To: day(2025, 1, 1)},
		"unknown period":  {From: day(2025, 1, 1), To: day(2025, 5, 1), Period: "week"},
		"negative window": {From: day(2025, 1, 1), To: day(2025, 5, 1), ActiveWindow: -1},
	} {
		_, err := svc.Customers(ctx, q)
		if errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
		}
	}
	for _, s := range []string{"", "Month", "quarter", "YEAR"} {
		if _, err := metrics.ParsePeriod(s); err != nil {
			t.Errorf("ParsePeriod(%q): %v", s, err)
		}
	}
}

// An empty workspace has empty periods: counts are zero and every rate is
// null (zero customers at the start is not a churn of 0 %, nor NaN).
func TestEmptyWorkspace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "empty", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
		r, err := metrics.New(st).Report(ctx, janToApr)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Customers) != 4 || len(r.Deals) != 4 || len(r.Engagement.Periods) != 4 || len(r.Cohorts.Cohorts) != 4 || len(r.Forecast.Periods) != 4 {
			t.Fatalf("want four empty periods everywhere: %+v", r)
		}
		for _, c := range r.Customers {
			if c.CustomersAtStart != 0 || c.CustomersAtEnd != 0 || c.ChurnRate != nil || c.RetentionRate != nil || c.NetRevenueRetention != nil || c.RevenueChurnRate != nil {
				t.Errorf("%s: %+v", c.Label, c)
			}
		}
		for _, d := range r.Deals {
			if d.WinRate != nil || d.AverageCycleDays != nil || d.SalesVelocity != nil || d.AverageWonAmount != nil {
				t.Errorf("%s: %+v", d.Label, d)
			}
		}
		if r.CLV.Customers != 0 || r.CLV.HistoricalAverage != nil || r.CLV.Predictive != nil || r.CLV.Margin != nil || r.CLV.Retention != nil || len(r.CLV.Top) != 0 {
			t.Errorf("clv %+v", r.CLV)
		}
		if r.Engagement.LastTouch.AverageDays != nil || r.Engagement.Periods[0].ByKind[0].PerContact != nil || r.Engagement.Periods[0].ReplyRate != nil {
			t.Errorf("engagement %+v", r.Engagement)
		}
		if len(r.Conversion) != 0 || r.Forecast.Total.Deals != 0 {
			t.Errorf("conversion %+v forecast %+v", r.Conversion, r.Forecast.Total)
		}
		if r.Cohorts.Cohorts[0].Size != 0 || r.Cohorts.Cohorts[0].Cells[0].Rate != nil {
			t.Errorf("cohorts %+v", r.Cohorts.Cohorts[0])
		}
		if _, err := json.Marshal(r); err != nil { // would fail on NaN or ±Inf
			t.Fatal(err)
		}
	})
}

// Refunds are orders with a negative amount: they count as the customer's
// orders (an order in the period keeps the customer active) and subtract
// from revenue. A period whose starting revenue is zero or negative has no
// revenue retention.
func TestRefunds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "refunds", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		org := must[*ent.Organization](t)(st.Client.Organization.Create().SetName("R").Save(ctx))
		for _, o := range []struct {
			at           time.Time
			amount, cost float64
		}{
			{day(2025, 1, 10), 100, 50},   // Jan +100
			{day(2025, 2, 10), -100, -50}, // Feb: only a refund, −100
			{day(2025, 3, 10), 30, 10},    // Mar +30
		} {
			must[*ent.Order](t)(st.Client.Order.Create().SetOrganizationID(org.ID).SetOrderedAt(o.at).
				SetAmount(dollars(o.amount)).SetCost(dollars(o.cost)).Save(ctx))
		}
		got, err := metrics.New(st).Customers(ctx, metrics.Query{From: day(2025, 1, 1), To: day(2025, 4, 1)})
		if err != nil {
			t.Fatal(err)
		}
		// Jan: new; S = 0 so every rate is null.
		checkInt(t, "Jan new", got[0].NewCustomers, 1)
		checkRate(t, "Jan churn", got[0].ChurnRate, null)
		// Feb: the refund keeps R active (S = E = 1, churn 0); revenue −100;
		// Jan's 100 became −100: NRR −100/100 = −1, lost max(0, 100−(−100)) = 200,
		// revenue churn 200/100 = 2.
		checkInt(t, "Feb end", got[1].CustomersAtEnd, 1)
		checkRate(t, "Feb churn", got[1].ChurnRate, 0)
		if got[1].Revenue != dollars(-100) || got[1].Margin != dollars(-50) {
			t.Errorf("Feb revenue %v margin %v", got[1].Revenue, got[1].Margin)
		}
		checkRate(t, "Feb NRR", got[1].NetRevenueRetention, -1)
		checkRate(t, "Feb revenue churn", got[1].RevenueChurnRate, 2)
		// Mar: starting revenue is Feb's −100 ≤ 0: no revenue retention.
		checkRate(t, "Mar NRR", got[2].NetRevenueRetention, null)
		checkRate(t, "Mar revenue churn", got[2].RevenueChurnRate, null)
		checkRate(t, "Mar retention", got[2].RetentionRate, 1)
	})
}

// A deal lost and then reopened is open: it is neither lost nor won, and
// counts as open at the start of the next period.
func TestReopenedDealIsOpen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "reopen", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		p := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("P").Save(ctx))
		open := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(p.ID).SetName("Open").SetPosition(0).SetProbability(0.4).Save(ctx))
		lost := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(p.ID).SetName("Lost").SetPosition(1).SetKind(stage.KindLost).Save(ctx))
		d := must[*ent.Deal](t)(c.Deal.Create().SetName("D").SetAmount(dollars(100)).SetStageID(open.ID).SetCreatedAt(day(2025, 1, 5)).Save(ctx))
		// Lost on Feb 1, reopened on Feb 20: the deal is open again.
		must[*ent.StageChange](t)(c.StageChange.Create().SetDealID(d.ID).SetFromStageID(open.ID).SetToStageID(lost.ID).SetChangedAt(day(2025, 2, 1)).Save(ctx))
		must[*ent.StageChange](t)(c.StageChange.Create().SetDealID(d.ID).SetFromStageID(lost.ID).SetToStageID(open.ID).SetChangedAt(day(2025, 2, 20)).Save(ctx))
		svc := metrics.New(st)
		q := metrics.Query{From: day(2025, 1, 1), To: day(2025, 4, 1)}
		deals, err := svc.Deals(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		checkInt(t, "Feb lost", deals[1].Lost, 0)
		checkRate(t, "Feb win rate", deals[1].WinRate, null)
		checkInt(t, "Mar open at start", deals[2].OpenAtStart, 1)
		f, err := svc.Forecast(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		// Unscheduled: 100 × 0.4 = 40.
		if f.Unscheduled.Deals != 1 || f.Unscheduled.Weighted != dollars(40) {
			t.Errorf("forecast %+v", f.Unscheduled)
		}
		funnels, err := svc.Conversion(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		// The deal entered Open twice and Lost once; Open counts it once.
		if len(funnels) != 1 || funnels[0].Deals != 1 || funnels[0].Steps[0].Entered != 1 || funnels[0].WinRate != nil {
			t.Errorf("funnel %+v", funnels)
		}
	})
}

func testFixtureQuarterAndYear(t *testing.T, fx *fixture) {
	svc := fx.service()
	q := metrics.Query{From: day(2025, 1, 1), To: day(2025, 6, 30), Period: metrics.Quarter}
	got, err := svc.Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != "2025-Q1" || got[1].Label != "2025-Q2" || !got[1].End.Equal(day(2025, 7, 1)) {
		t.Fatalf("quarters %+v", got)
	}
	// Q4'24 {A,C}; Q1 {A,B,E,D,G}; Q2 {A,D,E} (A's May order is in Q2).
	// Q1: S 2, E 5, new B,E,D,G = 4, churned C, retention (5−4)/2 = 0.5.
	// Q2: S 5, E 3, churned B,G = 2, churn 2/5.
	checkInt(t, "Q1 end", got[0].CustomersAtEnd, 5)
	checkInt(t, "Q1 new", got[0].NewCustomers, 4)
	checkRate(t, "Q1 retention", got[0].RetentionRate, 0.5)
	checkRate(t, "Q2 churn", got[1].ChurnRate, 2.0/5)
	q.Period = metrics.Year
	got, err = svc.Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// 2024 {A,C}; 2025 {A,B,D,E,G}: S 2, E 5, retained A, churned C.
	if len(got) != 1 || got[0].Label != "2025" {
		t.Fatalf("years %+v", got)
	}
	checkInt(t, "2025 retained", got[0].Retained, 1)
	checkInt(t, "2025 churned", got[0].Churned, 1)
	// 2025 revenue to the end of the year: 560+440+700+340 + A's May 100 = 2140.
	if got[0].Revenue != dollars(2140) {
		t.Errorf("2025 revenue %v", got[0].Revenue)
	}
}

func testFixtureFilters(t *testing.T, fx *fixture) {
	svc := fx.service()

	// Segment {A, B}: Dec {A}, Jan {A,B}, Feb {A,B}, Mar {B}, Apr {A}.
	q := janToApr
	q.Filter.SegmentID = fx.segment
	got, err := svc.Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []struct{ start, end, churned int }{{1, 2, 0}, {2, 2, 0}, {2, 1, 1}, {1, 1, 1}} {
		g := got[i]
		checkInt(t, "segment "+g.Label+" start", g.CustomersAtStart, w.start)
		checkInt(t, "segment "+g.Label+" end", g.CustomersAtEnd, w.end)
		checkInt(t, "segment "+g.Label+" churned", g.Churned, w.churned)
	}
	clv, err := svc.CLV(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// A 230 + B 210 = 440 over 2 customers.
	if clv.Customers != 2 || clv.HistoricalMargin != dollars(440) || len(clv.Top) != 2 {
		t.Errorf("segment CLV %+v", clv)
	}
	// The same segment by its key ("ab") gives the same figures; a key no
	// segment has gives none.
	byKey := janToApr
	if err := metrics.ParseSegment("ab", &byKey.Filter); err != nil || byKey.Filter.SegmentKey != "ab" {
		t.Fatalf("ParseSegment: %+v %v", byKey.Filter, err)
	}
	keyed, err := svc.Customers(fx.ctx, byKey)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keyed, got) {
		t.Errorf("by key %v, by ID %v", keyed, got)
	}
	byKey.Filter.SegmentKey = "nobody"
	if none, err := svc.CLV(fx.ctx, byKey); err != nil || none.Customers != 0 {
		t.Errorf("an unknown key: %+v %v", none, err)
	}
	for _, bad := range []string{"Not A Key", "seg_nope"} {
		if err := metrics.ParseSegment(bad, &byKey.Filter); err == nil {
			t.Errorf("ParseSegment(%q) accepted", bad)
		}
	}
	e, err := svc.Engagement(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// The segment holds organizations only: no contacts.
	if e.LastTouch.Contacts != 0 || e.Periods[0].Contacts != 0 || e.Periods[0].Activities != 0 {
		t.Errorf("segment engagement %+v", e.Periods[0])
	}

	// Owner Olive owns D (an organization) and E (a contact).
	q = janToApr
	q.Filter.OwnerID = fx.owner
	got, err = svc.Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Feb {E}, Mar {D,E}, Apr {D,E}.
	checkInt(t, "owner Feb end", got[1].CustomersAtEnd, 1)
	checkInt(t, "owner Mar end", got[2].CustomersAtEnd, 2)
	checkRate(t, "owner Apr churn", got[3].ChurnRate, 0)
	e, err = svc.Engagement(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Olive's contacts: E. Feb: a4, a5, a6.
	checkInt(t, "owner Feb contacts", e.Periods[1].Contacts, 1)
	checkInt(t, "owner Feb activities", e.Periods[1].Activities, 3)

	// No order is linked to a deal: a pipeline filter leaves no customer.
	q = janToApr
	q.Filter.PipelineID = fx.sales
	got, err = svc.Customers(fx.ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].CustomersAtEnd != 0 || got[0].Revenue != 0 {
		t.Errorf("pipeline filter %+v", got[0])
	}
}

// ForClient detects the dialect and answers like New.
func testFixtureForClient(t *testing.T, fx *fixture) {
	a, err := fx.service().Report(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	svc := metrics.ForClient(fx.st.Client)
	svc.Now = fx.service().Now
	b, err := svc.Report(fx.ctx, janToApr)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("ForClient differs from New:\n%s\n%s", ja, jb)
	}
}

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to string
		period   metrics.Period
		forward  bool
		want     [2]time.Time
	}{
		{"2025-01", "2025-12", metrics.Month, false, [2]time.Time{day(2025, 1, 1), day(2026, 1, 1)}},
		{"2025", "2025", metrics.Month, false, [2]time.Time{day(2025, 1, 1), day(2026, 1, 1)}},
		{"2025-03-15", "2025-03-15", metrics.Month, false, [2]time.Time{day(2025, 3, 15), day(2025, 3, 16)}},
		{"2025-03-15T10:00:00+02:00", "2025-04-01T00:00:00Z", metrics.Month, false, [2]time.Time{time.Date(2025, 3, 15, 8, 0, 0, 0, time.UTC), day(2025, 4, 1)}},
		{"", "", metrics.Month, false, [2]time.Time{day(2025, 12, 1), day(2026, 12, 1)}},
		{"", "", metrics.Month, true, [2]time.Time{day(2026, 11, 1), day(2027, 11, 1)}},
		{"", "", metrics.Quarter, false, [2]time.Time{day(2025, 1, 1), day(2027, 1, 1)}},
		{"2025-02", "", metrics.Month, false, [2]time.Time{day(2025, 2, 1), day(2026, 2, 1)}},
		{"", "2025-02", metrics.Month, false, [2]time.Time{day(2024, 3, 1), day(2025, 3, 1)}},
	} {
		from, to, err := metrics.ParseRange(c.from, c.to, c.period, now, c.forward)
		if err != nil || !from.Equal(c.want[0]) || !to.Equal(c.want[1]) {
			t.Errorf("ParseRange(%q, %q, %s, forward %v) = %v, %v, %v; want %v", c.from, c.to, c.period, c.forward, from, to, err, c.want)
		}
	}
	for _, c := range [][2]string{{"2025-13", ""}, {"", "soon"}, {"2025-05", "2025-01"}} {
		if _, _, err := metrics.ParseRange(c[0], c[1], metrics.Month, now, false); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("ParseRange(%q, %q): %v", c[0], c[1], err)
		}
	}
}

// wrappedDriver hides the ent driver's QueryContext, as drivers wrapped
// with store.WithDriver (to count or log queries) do.
type wrappedDriver struct{ dialect.Driver }

// ForClient still works when the client's driver is wrapped: it reads
// through ent transactions.
func TestForClientThroughWrappedDriver(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			st := storetest.Open(t, d, store.WithDriver(func(drv dialect.Driver) dialect.Driver { return wrappedDriver{drv} }))
			fx := newFixture(t, st)
			want, err := fx.service().Report(fx.ctx, janToApr)
			if err != nil {
				t.Fatal(err)
			}
			svc := metrics.ForClient(st.Client)
			svc.Now = fx.service().Now
			got, err := svc.Report(fx.ctx, janToApr)
			if err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(want)
			jb, _ := json.Marshal(got)
			if string(ja) != string(jb) {
				t.Errorf("ForClient through a wrapped driver differs:\n%s\n%s", ja, jb)
			}
		})
	}
}

// TestPartialPeriods: a period that had not ended when the metrics were
// computed is flagged partial in every series (its figures are so far);
// whole periods are not. The clock is 15 March 2025 and the range
// January–April: January and February are over, March is under way and
// April has not begun — both partial.
func TestPartialPeriods(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "partial", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
		svc := metrics.New(st)
		svc.Now = func() time.Time { return day(2025, 3, 15) }
		r, err := svc.Report(ctx, janToApr)
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{false, false, true, true}
		spans := map[string][]metrics.Span{}
		for _, c := range r.Customers {
			spans["customers"] = append(spans["customers"], c.Span)
		}
		for _, d := range r.Deals {
			spans["deals"] = append(spans["deals"], d.Span)
		}
		for _, e := range r.Engagement.Periods {
			spans["engagement"] = append(spans["engagement"], e.Span)
		}
		for _, c := range r.Cohorts.Cohorts {
			spans["cohorts"] = append(spans["cohorts"], c.Span)
		}
		for _, f := range r.Forecast.Periods {
			spans["forecast"] = append(spans["forecast"], f.Span)
		}
		for what, ss := range spans {
			if len(ss) != len(want) {
				t.Fatalf("%s: %d periods, want %d", what, len(ss), len(want))
			}
			for i, s := range ss {
				if s.Partial != want[i] {
					t.Errorf("%s %s: partial %v, want %v", what, s.Label, s.Partial, want[i])
				}
			}
		}
	})
}
