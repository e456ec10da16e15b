package extension_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/customfield"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// declaredWorld is a workspace filled from a seeded random source, and
// every raw row of it kept in memory, so that expected values can be
// computed by plain loops over the rows, independently of the SQL the
// host runs.
type declaredWorld struct {
	now        time.Time
	orgs       []*ent.Organization
	contacts   []*ent.Contact
	leads      []*ent.Lead
	activities []*ent.Activity
	orders     []*ent.Order
	vip        map[pulid.ID]bool     // contacts tagged "VIP"
	segs       map[pulid.ID][]string // contacts' open segment keys
}

func buildDeclaredWorld(t *testing.T, ctx context.Context, c *ent.Client) *declaredWorld {
	rng := rand.New(rand.NewPCG(7, 11))
	w := &declaredWorld{now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), vip: map[pulid.ID]bool{}, segs: map[pulid.ID][]string{}}
	// Whole seconds: PostgreSQL keeps microseconds, SQLite nanoseconds.
	at := func(maxDays int) time.Time {
		return w.now.Add(-time.Duration(rng.IntN(maxDays*86400)) * time.Second)
	}
	for _, d := range []struct{ entity, key, typ string }{
		{"lead", "budget", "number"}, {"lead", "signed", "date"}, {"lead", "tier", "select"},
		{"contact", "region", "text"}, {"organization", "tier", "select"},
	} {
		cf := c.CustomField.Create().SetEntity(customfield.Entity(d.entity)).SetKey(d.key).SetLabel(d.key).SetType(customfield.Type(d.typ))
		if d.typ == "select" {
			cf.SetOptions([]string{"gold", "silver"})
		}
		must[*ent.CustomField](t)(cf.Save(ctx))
	}
	industries := []string{"retail", "software", "", "energy"}
	for i := 0; i < 12; i++ {
		o := c.Organization.Create().SetName(fmt.Sprintf("Org %d", i)).SetIndustry(industries[i%4])
		if i%3 != 0 {
			o.SetEmployees(10 * (i + 1))
		}
		if i%2 == 0 {
			o.SetCustomFields(map[string]any{"tier": []string{"gold", "silver"}[i%4/2]})
		}
		w.orgs = append(w.orgs, must[*ent.Organization](t)(o.Save(ctx)))
	}
	vip := must[*ent.Tag](t)(c.Tag.Create().SetName("VIP").Save(ctx))
	other := must[*ent.Tag](t)(c.Tag.Create().SetName("vipx").Save(ctx))
	gold := must[*ent.Segment](t)(c.Segment.Create().SetKey("gold").SetName("Gold").Save(ctx))
	bronze := must[*ent.Segment](t)(c.Segment.Create().SetKey("bronze").SetName("Bronze").Save(ctx))
	for i := 0; i < 40; i++ {
		cc := c.Contact.Create().SetLastName(fmt.Sprintf("C%d", i))
		if i%5 != 0 {
			cc.SetOrganizationID(w.orgs[i%len(w.orgs)].ID)
		}
		if i%3 != 0 {
			cc.SetCustomFields(map[string]any{"region": []string{"north", "south"}[i%2]})
		}
		switch i % 4 {
		case 0:
			cc.AddTagIDs(vip.ID)
		case 1:
			cc.AddTagIDs(other.ID)
		}
		ct := must[*ent.Contact](t)(cc.Save(ctx))
		w.vip[ct.ID] = i%4 == 0
		w.contacts = append(w.contacts, ct)
		// Memberships: gold open; bronze ended (it must not count).
		if i%3 == 0 {
			must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(gold.ID).
				SetSubjectType(segmentmembership.SubjectTypeContact).SetSubjectID(ct.ID).Save(ctx))
			w.segs[ct.ID] = append(w.segs[ct.ID], "gold")
		}
		if i%2 == 0 {
			must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(bronze.ID).
				SetSubjectType(segmentmembership.SubjectTypeContact).SetSubjectID(ct.ID).
				SetEndedAt(w.now.Add(-time.Hour)).Save(ctx))
		}
	}
	for i := 0; i < 60; i++ {
		l := c.Lead.Create().SetTitle(fmt.Sprintf("L%d", i))
		if i%4 != 0 {
			l.SetOrganizationID(w.orgs[i%len(w.orgs)].ID)
		}
		if i%3 != 0 {
			l.SetContactID(w.contacts[i%len(w.contacts)].ID)
		}
		cf := map[string]any{}
		if i%2 == 0 {
			cf["budget"] = float64(rng.IntN(100000)) / 100
		}
		if i%5 == 0 {
			cf["signed"] = w.now.AddDate(0, 0, -i).Format(time.DateOnly)
		}
		l.SetCustomFields(cf)
		w.leads = append(w.leads, must[*ent.Lead](t)(l.Save(ctx)))
	}
	kinds := []activity.Kind{activity.KindCall, activity.KindEmail, activity.KindMeeting}
	for i := 0; i < 400; i++ {
		a := c.Activity.Create().SetSubject("a").SetKind(kinds[rng.IntN(3)]).SetOccurredAt(at(90))
		if rng.IntN(2) == 0 {
			a.SetDirection(activity.DirectionInbound)
		} else if rng.IntN(2) == 0 {
			a.SetDirection(activity.DirectionOutbound)
		}
		if rng.IntN(10) == 0 {
			// Scheduled: in the future, outside every window.
			a.SetOccurredAt(w.now.Add(time.Duration(1+rng.IntN(86400*5)) * time.Second))
		}
		if rng.IntN(2) == 0 {
			a.SetLeadID(w.leads[rng.IntN(len(w.leads))].ID)
		} else {
			a.SetContactID(w.contacts[rng.IntN(len(w.contacts))].ID)
		}
		w.activities = append(w.activities, must[*ent.Activity](t)(a.Save(ctx)))
	}
	for i := 0; i < 200; i++ {
		amount := crm.Money(rng.IntN(500000))
		o := c.Order.Create().SetAmount(amount).SetCost(crm.Money(rng.IntN(int(amount) + 1))).SetOrderedAt(at(730)).
			SetContactID(w.contacts[rng.IntN(len(w.contacts))].ID)
		w.orders = append(w.orders, must[*ent.Order](t)(o.Save(ctx)))
	}
	return w
}

// lookups the world's records by ID.
func (w *declaredWorld) org(id *pulid.ID) *ent.Organization {
	if id == nil {
		return nil
	}
	for _, o := range w.orgs {
		if o.ID == *id {
			return o
		}
	}
	return nil
}

func (w *declaredWorld) contact(id *pulid.ID) *ent.Contact {
	if id == nil {
		return nil
	}
	for _, c := range w.contacts {
		if c.ID == *id {
			return c
		}
	}
	return nil
}

// column finds a batch's column by name.
func column(t *testing.T, b sdk.Batch, name string) sdk.Column {
	t.Helper()
	for _, c := range b.Columns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no column %q in %v", name, columnNames(b))
	return sdk.Column{}
}

func columnNames(b sdk.Batch) []string {
	var out []string
	for _, c := range b.Columns {
		out = append(out, c.Name)
	}
	return out
}

// expectNumber compares subject i's value with want (NaN: missing).
func expectNumber(t *testing.T, col sdk.Column, i int, want float64, what string) {
	t.Helper()
	got := col.Numbers[i]
	if math.IsNaN(want) != math.IsNaN(got) || !math.IsNaN(want) && math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s: %s = %v, want %v", what, col.Name, got, want)
	}
}

func expectText(t *testing.T, col sdk.Column, i int, want string, what string) {
	t.Helper()
	got, ok := col.Text(i)
	if !ok {
		got = ""
	}
	if got != want {
		t.Errorf("%s: %s = %q, want %q", what, col.Name, got, want)
	}
}

var nan = math.NaN()

// TestDeclaredInputs builds batches of leads and contacts from declared
// inputs — custom fields, fields of related records, tags, segments and
// aggregates with filters and windows — and checks every value against a
// computation from the raw rows: money to the cent, times to the second.
// It also counts the statements a batch takes: the same at 10 subjects
// and at every subject.
func TestDeclaredInputs(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			var statements atomic.Int64
			st := storetest.Open(t, d, store.WithDriver(func(drv dialect.Driver) dialect.Driver {
				return dialect.DebugWithContext(drv, func(context.Context, ...any) { statements.Add(1) })
			}))
			ctx := context.Background()
			ws := must[*ent.Workspace](t)(access.CreateWorkspace(ctx, st.Client, "declared", "Declared"))
			ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			w := buildDeclaredWorld(t, ctx, st.Client)
			testDeclaredLeads(t, ctx, st.Client, w, &statements)
			testDeclaredContacts(t, ctx, st.Client, w, &statements)
		})
	}
}

func testDeclaredLeads(t *testing.T, ctx context.Context, c *ent.Client, w *declaredWorld, statements *atomic.Int64) {
	decl := []string{
		"estimated_value", // a built-in beside declared inputs
		"custom.budget:number",
		"custom.signed:time",
		"custom.later:number", // defined after the plan: missing
		"organization.industry",
		"org_tier = organization.custom.tier:category",
		"contact.organization.employees",
		"calls = count(activities where kind = call within 30d)",
		"days_since_last(activities where direction = inbound)",
		"quiet = days_since_first(activities where direction != inbound and kind in (call, email))",
	}
	plan, err := extension.CompileInputs(ctx, c, "lead", decl)
	if err != nil {
		t.Fatal(err)
	}
	must[*ent.CustomField](t)(c.CustomField.Create().SetEntity("lead").SetKey("later").SetLabel("Later").SetType("number").Save(ctx))
	ids := make([]pulid.ID, len(w.leads))
	for i, l := range w.leads {
		ids[i] = l.ID
	}
	count := func(ids []pulid.ID) (sdk.Batch, int64) {
		before := statements.Load()
		b, err := plan.Build(ctx, c, ids, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return b, statements.Load() - before
	}
	small, nSmall := count(ids[:10])
	b, nAll := count(ids)
	if nSmall != nAll {
		t.Errorf("statements per batch: %d at 10 leads, %d at %d", nSmall, nAll, len(ids))
	}
	// One for the subjects (the built-ins load them, the declared fields
	// read the same records), one per relation chain (organization,
	// contact, contact.organization) and one per aggregate (3).
	if nAll != 7 {
		t.Errorf("statements per batch = %d, want 7", nAll)
	}
	if len(small.Columns) != len(decl) {
		t.Errorf("columns %v", columnNames(small))
	}
	day := 24 * time.Hour
	for i, l := range w.leads {
		what := "lead " + l.Title
		expectNumber(t, column(t, b, "estimated_value"), i, l.EstimatedValue.Float(), what)
		budget := nan
		if v, ok := l.CustomFields["budget"].(float64); ok {
			budget = v
		}
		expectNumber(t, column(t, b, "custom.budget"), i, budget, what)
		signed := nan
		if v, ok := l.CustomFields["signed"].(string); ok {
			tm, _ := time.Parse(time.DateOnly, v)
			signed = float64(tm.Unix())
		}
		expectNumber(t, column(t, b, "custom.signed"), i, signed, what)
		expectNumber(t, column(t, b, "custom.later"), i, nan, what)
		o := w.org(l.OrganizationID)
		industry, tier := "", ""
		if o != nil {
			industry = o.Industry
			tier, _ = o.CustomFields["tier"].(string)
		}
		expectText(t, column(t, b, "organization.industry"), i, industry, what)
		expectText(t, column(t, b, "org_tier"), i, tier, what)
		employees := nan
		if ct := w.contact(l.ContactID); ct != nil {
			if co := w.org(ct.OrganizationID); co != nil && co.Employees != nil {
				employees = float64(*co.Employees)
			}
		}
		expectNumber(t, column(t, b, "contact.organization.employees"), i, employees, what)
		calls, last, first := 0.0, time.Time{}, time.Time{}
		for _, a := range w.activities {
			if a.LeadID == nil || *a.LeadID != l.ID {
				continue
			}
			t := a.OccurredAt
			if a.Kind == activity.KindCall && t.After(w.now.Add(-30*day)) && !t.After(w.now) {
				calls++
			}
			inbound := a.Direction != nil && *a.Direction == activity.DirectionInbound
			if inbound && !t.After(w.now) && t.After(last) {
				last = t
			}
			if !inbound && (a.Kind == activity.KindCall || a.Kind == activity.KindEmail) && !t.After(w.now) && (first.IsZero() || t.Before(first)) {
				first = t
			}
		}
		expectNumber(t, column(t, b, "calls"), i, calls, what)
		since := func(t time.Time) float64 {
			if t.IsZero() {
				return nan
			}
			return w.now.Sub(t).Hours() / 24
		}
		expectNumber(t, column(t, b, "days_since_last(activities where direction = inbound)"), i, since(last), what)
		expectNumber(t, column(t, b, "quiet"), i, since(first), what)
	}
	// At 1,000 leads, linked like the first ones, the count is the same.
	more := make([]*ent.LeadCreate, 0, 1000-len(ids))
	for i := len(ids); i < 1000; i++ {
		more = append(more, c.Lead.Create().SetTitle(fmt.Sprintf("L%d", i)).
			SetOrganizationID(w.orgs[i%len(w.orgs)].ID).SetContactID(w.contacts[i%len(w.contacts)].ID))
	}
	for _, l := range must[[]*ent.Lead](t)(c.Lead.CreateBulk(more...).Save(ctx)) {
		ids = append(ids, l.ID)
	}
	if _, n := count(ids); n != nAll || len(ids) != 1000 {
		t.Errorf("statements per batch: %d at %d leads, %d at 1,000", nAll, len(w.leads), n)
	}
}

func testDeclaredContacts(t *testing.T, ctx context.Context, c *ent.Client, w *declaredWorld, statements *atomic.Int64) {
	decl := []string{
		"custom.region:category",
		"organization.industry",
		"spend = sum(orders.amount within 365d)",
		"margin = sum(orders.margin)",
		"big = mean(orders.amount where amount >= 2500)",
		"smallest = min(orders.amount)",
		"latest = max(orders.ordered_at)",
		"tag:vip",
		"segment",
		"segment:bronze",
		"segment:gold",
	}
	plan, err := extension.CompileInputs(ctx, c, "contact", decl)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]pulid.ID, len(w.contacts))
	for i, ct := range w.contacts {
		ids[i] = ct.ID
	}
	before := statements.Load()
	b, err := plan.Build(ctx, c, ids, w.now)
	if err != nil {
		t.Fatal(err)
	}
	n := statements.Load() - before
	// No built-in: the subjects once, organization, tags (2: the subjects
	// and their tags), segments (2: memberships, segments), and 5
	// aggregates.
	if n != 11 {
		t.Errorf("statements = %d, want 11", n)
	}
	// A subject the workspace does not hold is an error, built-ins or not.
	if _, err := plan.Build(ctx, c, append(ids[:3:3], pulid.ID("con_missing")), w.now); errcode.Of(err) != errcode.NotFound {
		t.Errorf("a missing subject: %v, want NOT_FOUND", err)
	}
	for i, ct := range w.contacts {
		what := "contact " + ct.LastName
		region, _ := ct.CustomFields["region"].(string)
		expectText(t, column(t, b, "custom.region"), i, region, what)
		industry := ""
		if o := w.org(ct.OrganizationID); o != nil {
			industry = o.Industry
		}
		expectText(t, column(t, b, "organization.industry"), i, industry, what)
		var spend, margin, bigSum crm.Money
		bigN, smallest, latest := 0, crm.Money(-1), time.Time{}
		for _, o := range w.orders {
			if o.ContactID == nil || *o.ContactID != ct.ID {
				continue
			}
			if o.OrderedAt.After(w.now.AddDate(0, 0, -365)) && !o.OrderedAt.After(w.now) {
				spend += o.Amount
			}
			margin += o.Amount - o.Cost
			if o.Amount >= 250000 {
				bigSum += o.Amount
				bigN++
			}
			if smallest < 0 || o.Amount < smallest {
				smallest = o.Amount
			}
			if o.OrderedAt.After(latest) {
				latest = o.OrderedAt
			}
		}
		expectNumber(t, column(t, b, "spend"), i, spend.Float(), what)
		expectNumber(t, column(t, b, "margin"), i, margin.Float(), what)
		big, low, last := nan, nan, nan
		if bigN > 0 {
			big = bigSum.Float() / float64(bigN)
		}
		if smallest >= 0 {
			low = smallest.Float()
			last = float64(latest.Unix())
		}
		expectNumber(t, column(t, b, "big"), i, big, what)
		expectNumber(t, column(t, b, "smallest"), i, low, what)
		expectNumber(t, column(t, b, "latest"), i, last, what)
		expectNumber(t, column(t, b, "tag:vip"), i, map[bool]float64{true: 1, false: 0}[w.vip[ct.ID]], what)
		keys := append([]string{}, w.segs[ct.ID]...)
		sort.Strings(keys)
		first := ""
		if len(keys) > 0 {
			first = keys[0]
		}
		expectText(t, column(t, b, "segment"), i, first, what)
		expectNumber(t, column(t, b, "segment:bronze"), i, 0, what) // ended
		expectNumber(t, column(t, b, "segment:gold"), i, map[bool]float64{true: 1, false: 0}[len(keys) > 0], what)
	}
}

// TestDeclaredInputsRefused: bad declarations are BAD_USER_INPUT at bind
// time, naming the input's index; a custom field of the workspace of the
// wrong kind is refused, one not defined is accepted.
func TestDeclaredInputsRefused(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	ws := must[*ent.Workspace](t)(access.CreateWorkspace(ctx, st.Client, "refused", "Refused"))
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	must[*ent.CustomField](t)(st.Client.CustomField.Create().SetEntity("lead").SetKey("budget").SetLabel("Budget").SetType("number").Save(ctx))
	for _, tt := range []struct {
		decl []string
		want string
	}{
		{[]string{"status", "budgett"}, `inputs.lead.1: no field "budgett" on lead; did you mean custom.budget?`},
		{[]string{"custom.budget:category"}, "inputs.lead.0: custom field \"budget\" of lead is of type number (sent as number), not category"},
		{[]string{"contact.organization.owner.name"}, "deeper than 2 relations"},
		{[]string{"sum(activities.kind)"}, "not a number"},
		{[]string{"count(activities within 1 month)"}, `window "1" is not a duration such as 30d`},
	} {
		_, err := extension.CompileInputs(ctx, st.Client, "lead", tt.decl)
		if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want BAD_USER_INPUT %q", tt.decl, err, tt.want)
		}
	}
	if _, err := extension.CompileInputs(ctx, st.Client, "lead", []string{"custom.someday:flag"}); err != nil {
		t.Errorf("a custom field not yet defined: %v", err)
	}
}
