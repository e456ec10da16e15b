package privacy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/score"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/privacy"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// person is one seeded contact and the personal strings seeded with it.
type person struct {
	id       pulid.ID
	strings  []string
	acts     int
	orders   int
	ordersID []pulid.ID
}

// world is two contacts of one workspace and one of another.
type world struct {
	ws, other       *ent.Workspace
	ctx, otherCtx   context.Context
	alice, bob, eve person
}

func seed(t *testing.T, st *store.Store) *world {
	ctx := context.Background()
	w := &world{}
	w.ws = must[*ent.Workspace](t)(access.CreateWorkspace(ctx, st.Client, "acme", "Acme"))
	w.other = must[*ent.Workspace](t)(access.CreateWorkspace(ctx, st.Client, "globex", "Globex"))
	w.ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: w.ws.ID, Role: tenancy.RoleAdmin})
	w.otherCtx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: w.other.ID, Role: tenancy.RoleAdmin})
	c := st.Client
	for _, x := range []context.Context{w.ctx, w.otherCtx} {
		must[*ent.CustomField](t)(c.CustomField.Create().SetEntity(customfield.EntityContact).SetKey("hobby").SetLabel("Hobby").SetType(customfield.TypeText).Save(x))
	}
	org := must[*ent.Organization](t)(c.Organization.Create().SetName("Initech").Save(w.ctx))
	tag := must[*ent.Tag](t)(c.Tag.Create().SetName("VIP").Save(w.ctx))
	seg := must[*ent.Segment](t)(c.Segment.Create().SetKey("gold").SetName("Gold").Save(w.ctx))
	pipe := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Sales").SetIsDefault(true).Save(w.ctx))
	stg := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(pipe.ID).SetName("New").SetPosition(0).SetProbability(0.1).SetKind(stage.KindOpen).Save(w.ctx))
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

	mk := func(ctx context.Context, key string, withOrg bool) person {
		p := person{}
		first, last := "Zorinda"+key, "Quaxleby"+key
		email, phone := strings.ToLower(key)+".quaxleby@example.org", "+1-555-01"+fmt.Sprint(len(key))+"9"+key
		hobby := "Falconry" + key
		cc := c.Contact.Create().SetFirstName(first).SetLastName(last).SetEmail(email).SetPhone(phone).
			SetTitle("Chief Yodeler " + key).SetCustomFields(map[string]any{"hobby": hobby})
		if withOrg {
			cc.SetOrganizationID(org.ID).AddTagIDs(tag.ID)
		}
		ct := must[*ent.Contact](t)(cc.Save(ctx))
		p.id = ct.ID
		// An UpdateOne records the old value in the timeline.
		newPhone := "+44-20-7946-0" + key
		must[*ent.Contact](t)(c.Contact.UpdateOneID(ct.ID).SetPhone(newPhone).Save(ctx))
		p.strings = []string{first, last, email, phone, newPhone, hobby, "Chief Yodeler " + key}
		for i := 0; i < 3; i++ {
			subj, body := fmt.Sprintf("Lunch about marmalade %s %d", key, i), fmt.Sprintf("Discussed the %s quince harvest %d", key, i)
			a := must[*ent.Activity](t)(c.Activity.Create().SetKind(activity.KindCall).SetDirection(activity.DirectionOutbound).
				SetSubject(subj).SetBody(body).SetOccurredAt(at.Add(time.Duration(i) * time.Hour)).SetContactID(ct.ID).Save(ctx))
			p.strings = append(p.strings, subj, body)
			p.acts++
			if i == 0 {
				newBody := "Revised quince notes " + key
				must[*ent.Activity](t)(c.Activity.UpdateOneID(a.ID).SetBody(newBody).Save(ctx))
				p.strings = append(p.strings, newBody)
			}
			if i == 2 {
				// A soft-deleted activity still holds its text.
				if err := c.Activity.DeleteOneID(a.ID).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := 0; i < 2; i++ {
			o := must[*ent.Order](t)(c.Order.Create().SetAmount(crm.Money(1000*(i+1) + len(key))).SetOrderedAt(at).SetContactID(ct.ID).SetNumber(fmt.Sprintf("N-%s-%d", key, i)).Save(ctx))
			p.orders++
			p.ordersID = append(p.ordersID, o.ID)
		}
		must[*ent.Lead](t)(c.Lead.Create().SetTitle("Inquiry from " + last).SetFirstName(first).SetLastName(last).SetEmail(email).SetContactID(ct.ID).Save(ctx))
		return p
	}
	w.alice = mk(w.ctx, "Alpha", true)
	w.bob = mk(w.ctx, "Bravo", false)
	w.eve = mk(w.otherCtx, "Echo", false)

	must[*ent.Deal](t)(c.Deal.Create().SetName("Renewal for ZorindaAlpha QuaxlebyAlpha").SetAmount(5000).
		SetPipelineID(pipe.ID).SetStageID(stg.ID).SetContactID(w.alice.id).Save(w.ctx))
	must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(seg.ID).SetSubjectType("contact").SetSubjectID(w.alice.id).Save(w.ctx))
	must[*ent.Score](t)(c.Score.Create().SetSubjectType(score.SubjectTypeContact).SetSubjectID(w.alice.id).SetPlugin("fit").SetPluginVersion("1.0.0").
		SetValue(0.8).SetLabel("hot").SetExplanation([]crm.Factor{{Name: "email_domain", Contribution: 0.3, Detail: "alpha.quaxleby@example.org is a work address"}}).Save(w.ctx))
	return w
}

// dump returns every value of every row of every table, one line per row.
func dump(t *testing.T, st *store.Store) string {
	t.Helper()
	ctx := context.Background()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if st.Dialect == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
	}
	rows, err := st.DB.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, table := range tables {
		rows, err := st.DB.QueryContext(ctx, `SELECT * FROM "`+table+`" ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			b.WriteString(table)
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "\t%v", v)
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// found returns the strings of ss that text holds, ignoring case.
func found(text string, ss []string) []string {
	var out []string
	low := strings.ToLower(text)
	for _, s := range ss {
		if strings.Contains(low, strings.ToLower(s)) {
			out = append(out, s)
		}
	}
	return out
}

func orderTotals(t *testing.T, st *store.Store, ws pulid.ID) (int64, int64) {
	t.Helper()
	var n, sum int64
	if err := st.DB.QueryRow("SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM orders WHERE workspace_id = $1", string(ws)).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	return n, sum
}

func TestExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := seed(t, st)
		x := must[*privacy.Export](t)(privacy.ContactExport(w.ctx, st.Client, w.alice.id))
		b := must[[]byte](t)(json.Marshal(x))
		doc := string(b)
		if got := found(doc, w.alice.strings); len(got) != len(w.alice.strings) {
			t.Errorf("export holds %d of alice's %d strings: %v", len(got), len(w.alice.strings), got)
		}
		if got := found(doc, append(w.bob.strings, w.eve.strings...)); len(got) > 0 {
			t.Errorf("export holds other people's data: %v", got)
		}
		if len(x.Activities) != w.alice.acts || len(x.Orders) != w.alice.orders || len(x.Leads) != 1 || len(x.Deals) != 1 {
			t.Errorf("activities %d orders %d leads %d deals %d", len(x.Activities), len(x.Orders), len(x.Leads), len(x.Deals))
		}
		if x.Organization == nil || x.Organization.Name != "Initech" || !reflect.DeepEqual(x.Tags, []string{"VIP"}) {
			t.Errorf("organization %+v tags %v", x.Organization, x.Tags)
		}
		if len(x.Segments) != 1 || x.Segments[0].Key != "gold" || len(x.Scores) != 1 || len(x.Scores[0].Explanation) != 1 {
			t.Errorf("segments %+v scores %+v", x.Segments, x.Scores)
		}
		if x.Contact.CustomFields["hobby"] != "FalconryAlpha" {
			t.Errorf("custom fields %v", x.Contact.CustomFields)
		}
		for _, e := range x.Timeline {
			if e.SubjectID != w.alice.id && e.SubjectType == ent.TypeContact {
				t.Errorf("timeline of another contact: %+v", e)
			}
		}
		if len(x.Timeline) < 1+1+w.alice.acts+1+1 {
			t.Errorf("timeline has %d entries", len(x.Timeline))
		}
		_, err := privacy.ContactExport(w.ctx, st.Client, w.eve.id)
		if errcode.Of(err) != errcode.NotFound {
			t.Errorf("another workspace's contact: %v, want NOT_FOUND", err)
		}
	})
}

func TestErase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := seed(t, st)
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: w.ws.ID, Role: tenancy.RoleAdmin, MemberID: "mem_eraser"})
		if got := found(dump(t, st), w.alice.strings); len(got) != len(w.alice.strings) {
			t.Fatalf("seeded strings not all found before erasing: %v", got)
		}
		n0, sum0 := orderTotals(t, st, w.ws.ID)
		acts0 := must[int](t)(st.Client.Activity.Query().Count(w.ctx))

		if _, err := privacy.Erase(w.ctx, st.Client, w.eve.id); errcode.Of(err) != errcode.NotFound {
			t.Errorf("erasing another workspace's contact: %v, want NOT_FOUND", err)
		}
		res := must[*privacy.Result](t)(privacy.Erase(ctx, st.Client, w.alice.id))
		if !res.Audited || res.Changed == 0 {
			t.Errorf("first erase: %+v", res)
		}
		after := dump(t, st)
		if got := found(after, w.alice.strings); len(got) > 0 {
			t.Errorf("erased strings still in the database: %v", got)
			for _, line := range strings.Split(after, "\n") {
				if len(found(line, got)) > 0 {
					t.Log(line)
				}
			}
		}
		if got := found(after, append(w.bob.strings, w.eve.strings...)); len(got) != len(w.bob.strings)+len(w.eve.strings) {
			t.Errorf("other people's data was touched: %d of %d strings left", len(got), len(w.bob.strings)+len(w.eve.strings))
		}
		if n, sum := orderTotals(t, st, w.ws.ID); n != n0 || sum != sum0 {
			t.Errorf("orders: %d totalling %d, were %d totalling %d", n, sum, n0, sum0)
		}
		if n := must[int](t)(st.Client.Activity.Query().Count(w.ctx)); n != acts0 {
			t.Errorf("%d activities, were %d", n, acts0)
		}
		acts := must[[]*ent.Activity](t)(st.Client.Activity.Query().Where(activity.ContactID(w.alice.id)).All(w.ctx))
		for _, a := range acts {
			if a.Kind != activity.KindCall || a.Direction == nil || *a.Direction != activity.DirectionOutbound || a.OccurredAt.IsZero() || a.Subject != privacy.Placeholder || a.Body != "" {
				t.Errorf("erased activity %+v", a)
			}
		}
		ct := must[*ent.Contact](t)(st.Client.Contact.Get(w.ctx, w.alice.id))
		if ct.LastName != privacy.Placeholder || ct.FirstName != "" || ct.Email != "" || ct.Phone != "" || len(ct.CustomFields) != 0 || ct.OrganizationID == nil {
			t.Errorf("erased contact %+v", ct)
		}
		audits := must[[]*ent.TimelineEvent](t)(st.Client.TimelineEvent.Query().Where(timelineevent.SubjectID(w.alice.id)).All(w.ctx))
		var audit *ent.TimelineEvent
		for _, e := range audits {
			if len(e.Changes) == 1 && e.Changes[0].Field == privacy.ErasedField {
				if audit != nil {
					t.Errorf("two erasure entries")
				}
				audit = e
			}
		}
		if audit == nil || audit.Actor != "member:mem_eraser" || audit.OccurredAt.IsZero() {
			t.Fatalf("erasure entry %+v", audit)
		}
		if b := must[[]byte](t)(json.Marshal(audit)); len(found(string(b), w.alice.strings)) > 0 {
			t.Errorf("erasure entry holds erased values: %s", b)
		}

		// Erasing again changes nothing.
		before := dump(t, st)
		res = must[*privacy.Result](t)(privacy.Erase(ctx, st.Client, w.alice.id))
		if res.Audited || res.Changed != 0 {
			t.Errorf("second erase: %+v", res)
		}
		if again := dump(t, st); again != before {
			t.Errorf("a second erase changed the database")
		}
	})
}
