package demo_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/lineitem"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/ent/pipeline"
	"github.com/rapportcrm/rapport/core/ent/product"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/ent/tag"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// now is the end of the seeded history in these tests.
var now = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

func TestSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		client := st.Client

		// Another workspace, which seeding must not touch.
		sys := tenancy.System(ctx)
		other, err := client.Workspace.Create().SetName("Other").SetSlug("other").Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		octx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: other.ID, Role: tenancy.RoleAdmin})
		if _, err := client.Organization.Create().SetName("Other Org").Save(octx); err != nil {
			t.Fatal(err)
		}

		// On PostgreSQL, two servers may start with --demo at once: seed
		// twice concurrently, and exactly one call must create the
		// workspace. (On SQLite the second writer would wait for the
		// first's transaction up to the busy timeout.)
		seeds := 1
		if st.Dialect == dialect.Postgres {
			seeds = 2
		}
		results := make([]*demo.Result, seeds)
		errs := make([]error, seeds)
		began := time.Now()
		var wg sync.WaitGroup
		for i := range seeds {
			wg.Go(func() { results[i], errs[i] = demo.Seed(ctx, client, demo.Options{Now: now}) })
		}
		wg.Wait()
		var res *demo.Result
		for i, r := range results {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if r.Created {
				if res != nil {
					t.Fatal("two concurrent Seed calls both created the workspace")
				}
				res = r
			}
		}
		if res == nil {
			t.Fatal("no Seed call created the workspace")
		}
		for _, r := range results {
			if r.Workspace.ID != res.Workspace.ID || r.Counts != res.Counts {
				t.Errorf("concurrent Seed calls disagree: %s %+v, %s %+v", r.Workspace.ID, r.Counts, res.Workspace.ID, res.Counts)
			}
		}
		t.Logf("%s: seeded in %v: %+v", st.Dialect, time.Since(began).Round(time.Millisecond), res.Counts)
		if res.Workspace.Slug != demo.Slug || res.Workspace.Name != demo.Name {
			t.Fatalf("first Seed: workspace %+v", res.Workspace)
		}
		ws := res.Workspace
		vctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})

		t.Run("minimums", func(t *testing.T) {
			c := res.Counts
			for _, m := range []struct {
				what     string
				got, min int
			}{
				{"members", c.Members, 5},
				{"organizations", c.Organizations, 100},
				{"contacts", c.Contacts, 500},
				{"leads", c.Leads, 200},
				{"pipelines", c.Pipelines, 3},
				{"deals", c.Deals, 1000},
				{"stage changes", c.StageChanges, c.Deals},
				{"products", c.Products, 10},
				{"line items", c.LineItems, 1},
				{"activities", c.Activities, 2000},
				{"orders", c.Orders, 3000},
				{"tags", c.Tags, 3},
				{"custom fields", c.CustomFields, 2},
			} {
				if m.got < m.min {
					t.Errorf("%s: %d, want at least %d", m.what, m.got, m.min)
				}
			}
		})

		t.Run("idempotent", func(t *testing.T) {
			events := client.TimelineEvent.Query().CountX(sys)
			again, err := demo.Seed(ctx, client, demo.Options{Now: now.AddDate(0, 1, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if again.Created || again.Workspace.ID != ws.ID {
				t.Fatalf("second Seed: created=%v workspace=%s, want existing %s", again.Created, again.Workspace.ID, ws.ID)
			}
			if again.Counts != res.Counts {
				t.Errorf("counts changed:\n%+v\n%+v", res.Counts, again.Counts)
			}
			if n := client.TimelineEvent.Query().CountX(sys); n != events {
				t.Errorf("timeline events %d -> %d: the second Seed wrote something", events, n)
			}
		})

		t.Run("workspace", func(t *testing.T) {
			// A system context sees every workspace; every record but the
			// other workspace's organization (and its timeline event) is the
			// demo's.
			notDemo := []struct {
				what string
				n    int
			}{
				{"members", client.Member.Query().Where(member.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"custom fields", client.CustomField.Query().Where(customfield.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"tags", client.Tag.Query().Where(tag.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"products", client.Product.Query().Where(product.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"pipelines", client.Pipeline.Query().Where(pipeline.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"stages", client.Stage.Query().Where(stage.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"organizations", client.Organization.Query().Where(organization.WorkspaceIDNEQ(ws.ID)).CountX(sys) - 1},
				{"contacts", client.Contact.Query().Where(contact.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"leads", client.Lead.Query().Where(lead.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"deals", client.Deal.Query().Where(deal.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"stage changes", client.StageChange.Query().Where(stagechange.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"line items", client.LineItem.Query().Where(lineitem.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"activities", client.Activity.Query().Where(activity.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"orders", client.Order.Query().Where(order.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"segments", client.Segment.Query().Where(segment.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"segment memberships", client.SegmentMembership.Query().Where(segmentmembership.WorkspaceIDNEQ(ws.ID)).CountX(sys)},
				{"timeline events", client.TimelineEvent.Query().Where(timelineevent.WorkspaceIDNEQ(ws.ID)).CountX(sys) - 1},
			}
			for _, c := range notDemo {
				if c.n != 0 {
					t.Errorf("%s: %d outside the demo workspace", c.what, c.n)
				}
			}
			admin, err := client.Member.Query().Where(member.Email(demo.AdminEmail)).Only(vctx)
			if err != nil || admin.Name != "Demo Admin" || admin.Role != member.RoleAdmin {
				t.Errorf("admin member: %+v, %v", admin, err)
			}
			roles := map[member.Role]int{}
			for _, m := range client.Member.Query().AllX(vctx) {
				roles[m.Role]++
			}
			if roles[member.RoleMember] == 0 || roles[member.RoleViewer] == 0 {
				t.Errorf("member roles: %v", roles)
			}
		})

		t.Run("pipelines", func(t *testing.T) {
			pls := client.Pipeline.Query().WithStages().AllX(vctx)
			var names []string
			for _, pl := range pls {
				names = append(names, pl.Name)
				ss := pl.Edges.Stages
				slices.SortFunc(ss, func(a, b *ent.Stage) int { return a.Position - b.Position })
				if len(ss) < 5 || len(ss) > 7 {
					t.Errorf("%s: %d stages", pl.Name, len(ss))
				}
				kinds := map[stage.Kind]int{}
				prev := -1.0
				for _, s := range ss {
					kinds[s.Kind]++
					switch s.Kind {
					case stage.KindOpen:
						if s.Probability <= prev || s.Probability >= 1 {
							t.Errorf("%s/%s: probability %v after %v", pl.Name, s.Name, s.Probability, prev)
						}
						prev = s.Probability
					case stage.KindWon:
						if s.Probability != 1 {
							t.Errorf("%s/%s: won stage probability %v", pl.Name, s.Name, s.Probability)
						}
					case stage.KindLost:
						if s.Probability != 0 {
							t.Errorf("%s/%s: lost stage probability %v", pl.Name, s.Name, s.Probability)
						}
					}
				}
				if kinds[stage.KindWon] != 1 || kinds[stage.KindLost] != 1 || kinds[stage.KindOpen] < 3 {
					t.Errorf("%s: stage kinds %v", pl.Name, kinds)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"Partnerships", "Renewals", "Sales"}) {
				t.Errorf("pipelines %v", names)
			}
		})

		t.Run("stage histories", func(t *testing.T) {
			stages := map[pulid.ID]*ent.Stage{}
			for _, s := range client.Stage.Query().AllX(vctx) {
				stages[s.ID] = s
			}
			byDeal := map[pulid.ID][]*ent.StageChange{}
			for _, c := range client.StageChange.Query().AllX(vctx) {
				byDeal[c.DealID] = append(byDeal[c.DealID], c)
			}
			deals := client.Deal.Query().AllX(vctx)
			status := map[deal.Status]int{}
			start := now.AddDate(-2, 0, 0)
			for _, d := range deals {
				status[d.Status]++
				cs := byDeal[d.ID]
				if len(cs) == 0 {
					t.Errorf("deal %s: no stage history", d.ID)
					continue
				}
				slices.SortFunc(cs, func(a, b *ent.StageChange) int { return a.ChangedAt.Compare(b.ChangedAt) })
				if cs[0].FromStageID != nil {
					t.Errorf("deal %s: first change comes from a stage", d.ID)
				}
				if !cs[0].ChangedAt.Equal(d.CreatedAt) {
					t.Errorf("deal %s: first change at %v, created %v", d.ID, cs[0].ChangedAt, d.CreatedAt)
				}
				if d.CreatedAt.Before(start) || d.CreatedAt.After(now) {
					t.Errorf("deal %s: created %v outside the 24 months before %v", d.ID, d.CreatedAt, now)
				}
				for i, c := range cs {
					to := stages[c.ToStageID]
					if to == nil || to.PipelineID != d.PipelineID {
						t.Errorf("deal %s: change to stage %s outside its pipeline", d.ID, c.ToStageID)
						break
					}
					if i == 0 {
						continue
					}
					prev := cs[i-1]
					if c.FromStageID == nil || *c.FromStageID != prev.ToStageID {
						t.Errorf("deal %s: change %d from %v, previous went to %s", d.ID, i, c.FromStageID, prev.ToStageID)
					}
					if !c.ChangedAt.After(prev.ChangedAt) {
						t.Errorf("deal %s: change %d at %v, not after %v", d.ID, i, c.ChangedAt, prev.ChangedAt)
					}
					if prev := stages[prev.ToStageID]; prev.Kind != stage.KindOpen {
						t.Errorf("deal %s: moved on from terminal stage %s", d.ID, prev.Name)
					}
				}
				last := cs[len(cs)-1]
				if last.ChangedAt.After(now) {
					t.Errorf("deal %s: change at %v, after now", d.ID, last.ChangedAt)
				}
				if last.ToStageID != d.StageID {
					t.Errorf("deal %s: in stage %s, history ends in %s", d.ID, d.StageID, last.ToStageID)
				}
				switch kind := stages[d.StageID].Kind; kind {
				case stage.KindWon, stage.KindLost:
					if string(d.Status) != string(kind) {
						t.Errorf("deal %s: status %s in a %s stage", d.ID, d.Status, kind)
					}
					if d.ClosedAt == nil || !d.ClosedAt.Equal(last.ChangedAt) {
						t.Errorf("deal %s: closed at %v, last change %v", d.ID, d.ClosedAt, last.ChangedAt)
					}
				default:
					if d.Status != deal.StatusOpen || d.ClosedAt != nil {
						t.Errorf("deal %s: status %s, closed %v in an open stage", d.ID, d.Status, d.ClosedAt)
					}
				}
			}
			if len(byDeal) != len(deals) {
				t.Errorf("stage changes of %d deals, %d deals", len(byDeal), len(deals))
			}
			for _, s := range []deal.Status{deal.StatusOpen, deal.StatusWon, deal.StatusLost} {
				if status[s] < len(deals)/10 {
					t.Errorf("deal statuses %v: too few %s", status, s)
				}
			}
		})

		t.Run("money", func(t *testing.T) {
			for _, p := range client.Product.Query().AllX(vctx) {
				if p.Price <= p.UnitCost || p.UnitCost <= 0 {
					t.Errorf("product %s: price %d, cost %d", p.Name, p.Price, p.UnitCost)
				}
			}
			withItems := 0
			for _, d := range client.Deal.Query().WithLineItems().AllX(vctx) {
				if len(d.Edges.LineItems) == 0 {
					continue
				}
				withItems++
				var sum int64
				for _, li := range d.Edges.LineItems {
					sum += int64(li.Amount)
				}
				if sum != int64(d.Amount) {
					t.Errorf("deal %s: amount %d, line items sum %d", d.ID, d.Amount, sum)
				}
			}
			if withItems < 500 {
				t.Errorf("%d deals with line items", withItems)
			}
			refunds := 0
			for _, o := range client.Order.Query().AllX(vctx) {
				if o.Amount < 0 {
					refunds++
					continue
				}
				if o.Amount <= o.Cost || o.Cost <= 0 {
					t.Errorf("order %s: amount %d, cost %d", o.Number, o.Amount, o.Cost)
				}
			}
			if refunds == 0 {
				t.Error("no refunds")
			}
		})

		t.Run("churn", func(t *testing.T) {
			orders := client.Order.Query().Order(ent.Asc(order.FieldOrderedAt)).AllX(vctx)
			first := map[pulid.ID]time.Time{}
			last := map[pulid.ID]time.Time{}
			for _, o := range orders {
				if o.OrganizationID == nil || o.ContactID == nil {
					t.Fatalf("order %s without organization or contact", o.Number)
				}
				if o.OrderedAt.Before(now.AddDate(-2, 0, 0)) || o.OrderedAt.After(now) {
					t.Errorf("order %s at %v", o.Number, o.OrderedAt)
				}
				org := *o.OrganizationID
				if _, ok := first[org]; !ok {
					first[org] = o.OrderedAt
				}
				last[org] = o.OrderedAt
			}
			cutoff := now.AddDate(0, -3, 0)
			var churned, active, late int
			for org, t := range last {
				if t.Before(cutoff) {
					churned++
				} else {
					active++
				}
				if first[org].After(now.AddDate(-1, 0, 0)) {
					late++ // first order in the last year: new customers come in
				}
			}
			t.Logf("customers: %d, stopped ordering before the last 3 months: %d, still ordering: %d, first order in the last year: %d",
				len(last), churned, active, late)
			if churned < 10 || active < 10 || late < 5 {
				t.Errorf("want churned and active customers and new ones; got %d, %d, %d", churned, active, late)
			}
		})

		t.Run("activities", func(t *testing.T) {
			kinds := map[activity.Kind]int{}
			for _, a := range client.Activity.Query().AllX(vctx) {
				kinds[a.Kind]++
				switch a.Kind {
				case activity.KindCall, activity.KindEmail:
					if a.Direction == nil {
						t.Errorf("%s %s without direction", a.Kind, a.ID)
					}
				case activity.KindTask:
					if a.DueAt == nil {
						t.Errorf("task %s without due date", a.ID)
					}
				}
				if a.ContactID == nil && a.OrganizationID == nil && a.DealID == nil && a.LeadID == nil {
					t.Errorf("activity %s is linked to nothing", a.ID)
				}
				if a.OccurredAt.After(now) {
					t.Errorf("activity %s occurred %v, after now", a.ID, a.OccurredAt)
				}
			}
			for _, k := range []activity.Kind{activity.KindNote, activity.KindCall, activity.KindEmail, activity.KindMeeting, activity.KindTask} {
				if kinds[k] < 100 {
					t.Errorf("activities by kind %v: too few %s", kinds, k)
				}
			}
			done := client.Activity.Query().Where(activity.KindEQ(activity.KindTask), activity.DoneAtNotNil()).CountX(vctx)
			open := client.Activity.Query().Where(activity.KindEQ(activity.KindTask), activity.DoneAtIsNil()).CountX(vctx)
			if done == 0 || open == 0 {
				t.Errorf("tasks: %d done, %d open", done, open)
			}
		})

		t.Run("leads", func(t *testing.T) {
			status := map[lead.Status]int{}
			for _, l := range client.Lead.Query().AllX(vctx) {
				status[l.Status]++
				if (l.Status == lead.StatusConverted) != (l.DealID != nil && l.ConvertedAt != nil) {
					t.Errorf("lead %s: status %s, deal %v, converted %v", l.ID, l.Status, l.DealID, l.ConvertedAt)
				}
			}
			if len(status) != 5 {
				t.Errorf("lead statuses %v", status)
			}
		})

		t.Run("custom fields", func(t *testing.T) {
			var linkedin, tier int
			for _, c := range client.Contact.Query().AllX(vctx) {
				if s, _ := c.CustomFields["linkedin"].(string); s != "" {
					linkedin++
				}
			}
			for _, o := range client.Organization.Query().AllX(vctx) {
				if s, _ := o.CustomFields["tier"].(string); s != "" {
					tier++
				}
			}
			if linkedin == 0 || tier == 0 {
				t.Errorf("custom field values: %d linkedin, %d tier", linkedin, tier)
			}
			if n := client.Organization.Query().Where(organization.HasTags()).CountX(vctx); n == 0 {
				t.Error("no tagged organizations")
			}
			if n := client.Contact.Query().Where(contact.HasOrganization()).CountX(vctx); n < res.Counts.Contacts/2 {
				t.Errorf("%d of %d contacts have an organization", n, res.Counts.Contacts)
			}
		})
	})
}
