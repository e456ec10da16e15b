package rollup_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// engagementCase is one query the rollups must answer as the raw rows do,
// with the service's clock.
type engagementCase struct {
	name string
	now  time.Time
	q    metrics.Query
}

// TestEngagementRollups writes contacts and activities through ent and,
// after every step, finds the engagement rollups equal to a
// recomputation and Engagement from them equal to Engagement from the
// activities, for months and quarters, a past and a present as-of time,
// an owner filter and another reply window.
func TestEngagementRollups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		base := context.Background()
		ws, err := access.CreateWorkspace(base, st.Client, "eng", "Engagement")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(base, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		owner, err := c.Member.Create().SetName("Olive").SetEmail("olive@eng.example").SetRole(member.RoleMember).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		contact := func(name string, created time.Time, owned bool) pulid.ID {
			t.Helper()
			b := c.Contact.Create().SetLastName(name).SetCreatedAt(created)
			if owned {
				b.SetOwnerID(owner.ID)
			}
			ct, err := b.Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ct.ID
		}
		act := func(con pulid.ID, kind activity.Kind, dir activity.Direction, when time.Time) pulid.ID {
			t.Helper()
			b := c.Activity.Create().SetKind(kind).SetSubject(string(kind)).SetOccurredAt(when).SetContactID(con)
			if dir != "" {
				b.SetDirection(dir)
			}
			a, err := b.Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return a.ID
		}
		months := metrics.Query{From: at(2025, 1, 1, 0), To: at(2025, 7, 1, 0)}
		quarters := months
		quarters.Period = metrics.Quarter
		owned := months
		owned.Filter.OwnerID = owner.ID
		quick := months
		quick.ReplyWithin = 36 * time.Hour
		later := at(2026, 1, 1, 0)
		cases := []engagementCase{
			{"months", later, months},
			{"quarters", later, quarters},
			{"owner", later, owned},
			{"reply window", later, quick},
			// As of mid-March, with activities later that month.
			{"as of now", at(2025, 3, 18, 12), months},
			{"as of now, owner", at(2025, 3, 18, 12), owned},
		}
		check := func(step string) *metrics.Engagement {
			t.Helper()
			mm, err := rollup.Check(ctx, st.DB, st.Dialect, ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range mm {
				t.Errorf("%s: %s %s: stored %q, computed %q", step, m.Table, m.Key, m.Stored, m.Computed)
			}
			var first *metrics.Engagement
			for _, k := range cases {
				svc := metrics.New(st)
				svc.Now = func() time.Time { return k.now }
				got, err := svc.Engagement(ctx, k.q)
				if err != nil {
					t.Fatalf("%s, %s: %v", step, k.name, err)
				}
				want, err := svc.Raw().Engagement(ctx, k.q)
				if err != nil {
					t.Fatalf("%s, %s raw: %v", step, k.name, err)
				}
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("%s, %s:\nrollups %s\nraw     %s", step, k.name, g, w)
				}
				if first == nil {
					first = got
				}
			}
			return first
		}

		a := contact("A", at(2024, 12, 1, 0), true)
		b := contact("B", at(2025, 1, 15, 0), false)
		cc := contact("C", at(2025, 2, 20, 0), true)
		e := check("contacts")
		if e.Periods[0].Contacts != 2 || e.Periods[1].Contacts != 3 || e.Periods[0].Activities != 0 {
			t.Errorf("contacts: %+v", e.Periods[:2])
		}

		out1 := act(a, activity.KindEmail, activity.DirectionOutbound, at(2025, 1, 10, 10))
		act(a, activity.KindEmail, activity.DirectionInbound, at(2025, 1, 12, 9)) // a reply
		act(b, activity.KindEmail, activity.DirectionOutbound, at(2025, 2, 1, 8))
		act(b, activity.KindEmail, activity.DirectionInbound, at(2025, 2, 10, 0)) // 8 days later: too late
		act(cc, activity.KindNote, "", at(2024, 11, 3, 0))                        // back-dated, before the range
		call := act(cc, activity.KindCall, activity.DirectionOutbound, at(2025, 3, 10, 0))
		act(cc, activity.KindMeeting, "", at(2025, 3, 25, 0)) // after the mid-March as-of time
		act(b, activity.KindTask, "", at(2025, 3, 2, 0))
		e = check("activities")
		if e.Periods[0].OutboundEmails != 1 || e.Periods[0].Replied != 1 || e.Periods[1].OutboundEmails != 1 || e.Periods[1].Replied != 0 {
			t.Errorf("replies: %+v %+v", e.Periods[0], e.Periods[1])
		}
		if e.Periods[2].Activities != 3 || e.LastTouch.Touched != 3 {
			t.Errorf("March %+v, last touch %+v", e.Periods[2], e.LastTouch)
		}

		// A reply that comes later than a day and a half, for the quick window.
		act(a, activity.KindEmail, activity.DirectionOutbound, at(2025, 4, 1, 0))
		act(a, activity.KindEmail, activity.DirectionInbound, at(2025, 4, 3, 0))
		check("a slow reply")

		// An activity moved to another contact: both change.
		if err := c.Activity.UpdateOneID(call).SetContactID(a).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("moved")
		// An email back-dated into another month, and the reply it lost.
		if err := c.Activity.UpdateOneID(out1).SetOccurredAt(at(2024, 12, 30, 0)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		e = check("back-dated")
		if e.Periods[0].OutboundEmails != 0 {
			t.Errorf("back-dated: %+v", e.Periods[0])
		}
		// Deleted: softly, then for good.
		if err := c.Activity.DeleteOneID(call).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("activity deleted")
		if err := c.Activity.DeleteOneID(call).Exec(schema.IncludeDeleted(ctx)); err != nil {
			t.Fatal(err)
		}
		check("activity removed")
		// A contact deleted and restored.
		if err := c.Contact.DeleteOneID(b).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		e = check("contact deleted")
		if e.Periods[1].Contacts != 2 || e.Periods[1].OutboundEmails != 0 {
			t.Errorf("contact deleted: %+v", e.Periods[1])
		}
		if err := c.Contact.UpdateOneID(b).ClearDeletedAt().Exec(schema.IncludeDeleted(ctx)); err != nil {
			t.Fatal(err)
		}
		e = check("contact restored")
		if e.Periods[1].Contacts != 3 || e.Periods[1].OutboundEmails != 1 {
			t.Errorf("contact restored: %+v", e.Periods[1])
		}
		// A contact deleted with its activities.
		if err := c.Contact.DeleteOneID(cc).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		check("another contact deleted")

		// A row gone wrong is found, and a rebuild mends it.
		if _, err := st.DB.ExecContext(ctx, "UPDATE rollup_engagement_months SET activities = activities + 1 WHERE workspace_id = $1", string(ws.ID)); err != nil {
			t.Fatal(err)
		}
		mm, err := rollup.Check(ctx, st.DB, st.Dialect, ws.ID)
		if err != nil || len(mm) == 0 {
			t.Fatalf("a tampered rollup: %v %v", mm, err)
		}
		if err := rollup.Rebuild(ctx, st.DB, st.Dialect, ws.ID); err != nil {
			t.Fatal(err)
		}
		check("rebuilt")
	})
}

// Activities written under a Batch have their rollups refreshed by its
// Flush.
func TestEngagementRollupsBatched(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		base := context.Background()
		ws, err := access.CreateWorkspace(base, st.Client, "batch", "Batch")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(base, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		tx, err := st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bctx, batch := schema.Batched(ctx)
		var cons []*ent.Contact
		for i := range 3 {
			con, err := tx.Contact.Create().SetLastName("C").SetCreatedAt(at(2025, time.Month(i+1), 1, 0)).Save(bctx)
			if err != nil {
				t.Fatal(err)
			}
			cons = append(cons, con)
			for j := range 4 {
				if _, err := tx.Activity.Create().SetKind(activity.KindCall).SetSubject("c").SetContactID(con.ID).
					SetOccurredAt(at(2025, time.Month(j+1), 5, i)).Save(bctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := batch.Flush(bctx, tx.Client()); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		mm, err := rollup.Check(ctx, st.DB, st.Dialect, ws.ID)
		if err != nil || len(mm) != 0 {
			t.Fatalf("check: %v %v", mm, err)
		}
		e, err := metrics.New(st).Engagement(ctx, metrics.Query{From: at(2025, 1, 1, 0), To: at(2025, 5, 1, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if e.Periods[0].Activities != 3 || e.Periods[3].Contacts != len(cons) {
			t.Errorf("batched: %+v", e.Periods)
		}
	})
}
