package metrics_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// world is a small workspace the rollup tests write to at random.
type world struct {
	st         *store.Store
	ctx        context.Context
	ws         pulid.ID
	c          *ent.Client
	owner      pulid.ID
	customers  []pulid.ID // organizations and contacts
	pipelines  []pulid.ID
	firstStage map[pulid.ID]pulid.ID // pipeline → its first stage
	deals      []pulid.ID
	orders     []pulid.ID
	segment    pulid.ID
}

func newWorld(t *testing.T, st *store.Store, slug string) *world {
	t.Helper()
	base := context.Background()
	ws := must[*ent.Workspace](t)(access.CreateWorkspace(base, st.Client, slug, slug))
	w := &world{st: st, ws: ws.ID, c: st.Client, firstStage: map[pulid.ID]pulid.ID{},
		ctx: tenancy.NewContext(base, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})}
	ctx, c := w.ctx, w.c
	w.owner = must[*ent.Member](t)(c.Member.Create().SetName("Owner").SetEmail("owner@" + slug + ".example").SetRole(member.RoleMember).Save(ctx)).ID
	for i := range 4 {
		b := c.Organization.Create().SetName(fmt.Sprintf("Org %d", i))
		if i%2 == 0 {
			b.SetOwnerID(w.owner)
		}
		w.customers = append(w.customers, must[*ent.Organization](t)(b.Save(ctx)).ID)
	}
	for i := range 5 {
		b := c.Contact.Create().SetLastName(fmt.Sprintf("Contact %d", i))
		if i%2 == 1 {
			b.SetOwnerID(w.owner)
		}
		w.customers = append(w.customers, must[*ent.Contact](t)(b.Save(ctx)).ID)
	}
	w.segment = must[*ent.Segment](t)(c.Segment.Create().SetKey("picked").SetName("Picked").Save(ctx)).ID
	for _, id := range []pulid.ID{w.customers[1], w.customers[5]} {
		typ := segmentmembership.SubjectTypeOrganization
		if id.Prefix() != "org" {
			typ = segmentmembership.SubjectTypeContact
		}
		must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(w.segment).
			SetSubjectType(typ).SetSubjectID(id).Save(ctx))
	}
	for i, name := range []string{"Sales", "Partners"} {
		p := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName(name).SetIsDefault(i == 0).Save(ctx)).ID
		w.pipelines = append(w.pipelines, p)
		w.firstStage[p] = must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(p).SetName("Open").SetPosition(0).SetProbability(0.5).SetKind(stage.KindOpen).Save(ctx)).ID
	}
	return w
}

// step makes one random write: an order (often back-dated, sometimes a
// refund), an order changed in amount, date or customer, an order
// deleted, a deal, a deal moved to the other pipeline, or an order
// linked to a deal. It returns what it did.
func (w *world) step(t *testing.T, r *rand.Rand) string {
	t.Helper()
	ctx, c := w.ctx, w.c
	at := day(2024, 1, 1).Add(time.Duration(r.Int64N(int64(30 * 30 * 24 * time.Hour))))
	pick := func(ids []pulid.ID) pulid.ID { return ids[r.IntN(len(ids))] }
	setCustomer := func(id pulid.ID, org func(pulid.ID), con func(pulid.ID)) {
		if id.Prefix() == "org" {
			org(id)
		} else {
			con(id)
		}
	}
	switch k := r.IntN(10); {
	case k < 4 || len(w.orders) == 0:
		amount := dollars(float64(r.IntN(500) + 1))
		if r.IntN(6) == 0 {
			amount = -amount / 2
		}
		b := c.Order.Create().SetAmount(amount).SetCost(amount / 3).SetOrderedAt(at)
		cust := pick(w.customers)
		setCustomer(cust, func(id pulid.ID) { b.SetOrganizationID(id) }, func(id pulid.ID) { b.SetContactID(id) })
		if len(w.deals) > 0 && r.IntN(3) == 0 {
			b.SetDealID(pick(w.deals))
		}
		w.orders = append(w.orders, must[*ent.Order](t)(b.Save(ctx)).ID)
		return fmt.Sprintf("order of %s at %s for %d", cust, at.Format(time.DateOnly), amount)
	case k == 4:
		id := pick(w.orders)
		must[*ent.Order](t)(c.Order.UpdateOneID(id).SetOrderedAt(at).Save(ctx))
		return fmt.Sprintf("order %s moved to %s", id, at.Format(time.DateOnly))
	case k == 5:
		id, cust := pick(w.orders), pick(w.customers)
		u := c.Order.UpdateOneID(id).ClearOrganizationID().ClearContactID()
		setCustomer(cust, func(id pulid.ID) { u.SetOrganizationID(id) }, func(id pulid.ID) { u.SetContactID(id) })
		must[*ent.Order](t)(u.Save(ctx))
		return fmt.Sprintf("order %s moved to customer %s", id, cust)
	case k == 6:
		i := r.IntN(len(w.orders))
		id := w.orders[i]
		if err := c.Order.DeleteOneID(id).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		w.orders = append(w.orders[:i], w.orders[i+1:]...)
		return fmt.Sprintf("order %s deleted", id)
	case k == 7:
		p := pick(w.pipelines)
		d := must[*ent.Deal](t)(c.Deal.Create().SetName("deal").SetAmount(dollars(100)).SetStageID(w.firstStage[p]).Save(ctx))
		w.deals = append(w.deals, d.ID)
		return fmt.Sprintf("deal %s in %s", d.ID, p)
	case k == 8 && len(w.deals) > 0:
		id := pick(w.deals)
		d := must[*ent.Deal](t)(c.Deal.Get(ctx, id))
		to := w.pipelines[0]
		if d.PipelineID == to {
			to = w.pipelines[1]
		}
		must[*ent.Deal](t)(c.Deal.UpdateOneID(id).SetPipelineID(to).SetStageID(w.firstStage[to]).Save(ctx))
		return fmt.Sprintf("deal %s moved to pipeline %s", id, to)
	default:
		// Several orders at once, through one update.
		n, err := c.Order.Update().Where(order.AmountGT(dollars(400))).SetCost(dollars(10)).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("cost of %d orders set", n)
	}
}

// queries are the customer metric queries compared after each step:
// every period, a filter of each kind, and a wider activity window
// (which reads the monthly rollups, not the cohort cells).
func (w *world) queries() []metrics.Query {
	from, to := day(2024, 1, 1), day(2026, 7, 1)
	var out []metrics.Query
	for _, p := range []metrics.Period{metrics.Month, metrics.Quarter, metrics.Year} {
		out = append(out, metrics.Query{From: from, To: to, Period: p, TopCustomers: 4})
	}
	out = append(out,
		// A range that ends before the last orders.
		metrics.Query{From: day(2024, 6, 1), To: day(2025, 6, 1), TopCustomers: 3},
		metrics.Query{From: from, To: to, Filter: metrics.Filter{OwnerID: w.owner}, TopCustomers: 3},
		metrics.Query{From: from, To: to, Filter: metrics.Filter{SegmentID: w.segment}, TopCustomers: 3},
		metrics.Query{From: from, To: to, Filter: metrics.Filter{PipelineID: w.pipelines[1]}, TopCustomers: 3},
		metrics.Query{From: from, To: to, ActiveWindow: 2, Period: metrics.Quarter, TopCustomers: 3},
	)
	return out
}

// agree checks that every customer metric read from the rollups equals
// the recomputation from orders, and that the rollups equal a rebuild.
func (w *world) agree(t *testing.T, svc *metrics.Service, what string) {
	t.Helper()
	raw := svc.Raw()
	for i, q := range w.queries() {
		for _, m := range []struct {
			name string
			f    func(*metrics.Service) (any, error)
		}{
			{"customers", func(s *metrics.Service) (any, error) { return s.Customers(w.ctx, q) }},
			{"cohorts", func(s *metrics.Service) (any, error) { return s.Cohorts(w.ctx, q) }},
			{"clv", func(s *metrics.Service) (any, error) { return s.CLV(w.ctx, q) }},
		} {
			got, err := m.f(svc)
			if err != nil {
				t.Fatalf("after %s: %s %d: %v", what, m.name, i, err)
			}
			want, err := m.f(raw)
			if err != nil {
				t.Fatalf("after %s: raw %s %d: %v", what, m.name, i, err)
			}
			g, _ := json.Marshal(got)
			x, _ := json.Marshal(want)
			if string(g) != string(x) {
				t.Fatalf("after %s: %s of query %d (%+v) from rollups differs from orders:\nrollups %s\norders  %s", what, m.name, i, q, g, x)
			}
		}
	}
	mis, err := rollup.Check(w.ctx, w.st.DB, w.st.Dialect, w.ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(mis) > 0 {
		t.Fatalf("after %s: rollups differ from a rebuild: %+v", what, mis)
	}
}

// TestRollupsFollowWrites interleaves random writes — orders, refunds,
// back-dated orders, orders moved to another customer or deleted, bulk
// updates, deals moved between pipelines — with reads, and checks after
// each step that every customer metric from the rollups equals the same
// metric computed from the orders (Service.Raw), and that rollup.Check
// finds the rollups equal to a recomputation.
func TestRollupsFollowWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, "random")
		svc := metrics.New(st)
		svc.Now = func() time.Time { return day(2026, 7, 1) }
		r := rand.New(rand.NewPCG(42, 7))
		steps := 120
		if testing.Short() {
			steps = 40
		}
		for i := range steps {
			what := w.step(t, r)
			if i%3 == 2 || i == steps-1 {
				w.agree(t, svc, fmt.Sprintf("step %d (%s)", i, what))
			}
		}
		// A rebuild changes nothing.
		tx, err := st.DB.BeginTx(w.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rollup.Rebuild(w.ctx, tx, st.Dialect, w.ws); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		w.agree(t, svc, "rebuild")
	})
}

// TestRollupsConcurrentWriters races writers adding orders to the same
// customers in the same months, each in its own transaction: no update
// of the shared rows (the customer's month, the cohort cells) may be
// lost, so the rollups equal a recomputation and the month's revenue is
// the sum of every order.
func TestRollupsConcurrentWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, "race")
		const writers, each = 4, 8
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					tx, err := w.c.Tx(w.ctx)
					if err != nil {
						errs <- err
						return
					}
					// Two customers per transaction, in opposite orders
					// for odd and even writers.
					a, b := w.customers[0], w.customers[5]
					if i%2 == 1 {
						a, b = b, a
					}
					for _, cust := range []pulid.ID{a, b} {
						o := tx.Order.Create().SetAmount(dollars(10)).SetOrderedAt(day(2025, 3, 1+j))
						if cust.Prefix() == "org" {
							o.SetOrganizationID(cust)
						} else {
							o.SetContactID(cust)
						}
						if _, err := o.Save(w.ctx); err != nil {
							_ = tx.Rollback()
							errs <- err
							return
						}
					}
					if err := tx.Commit(); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		mis, err := rollup.Check(w.ctx, st.DB, st.Dialect, w.ws)
		if err != nil {
			t.Fatal(err)
		}
		if len(mis) > 0 {
			t.Fatalf("lost updates: %+v", mis)
		}
		// March 2025: writers × each × 2 orders of $10.
		svc := metrics.New(st)
		series, err := svc.Customers(w.ctx, metrics.Query{From: day(2025, 3, 1), To: day(2025, 4, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if want := dollars(10 * writers * each * 2); len(series) != 1 || series[0].Revenue != want || series[0].Orders != writers*each*2 {
			t.Fatalf("March: %+v, want revenue %d in %d orders", series, want, writers*each*2)
		}
	})
}
