package extension_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/order"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestCustomerAttributes checks the customer figures the CRM models read
// on a workspace worked by hand. Now is 1 June 2026, noon.
//
//	organization O (100 employees), segments zeta and alpha
//	contact A of O (Ann Lee), contact B on its own
//	orders: O 1,000 − cost 400, 100 days ago; O 500 − 100, 10 days ago;
//	        O and A 300 − 100, 5 days ago; B 200 − 50, 30 days ago
//	open deals of O: 10,000 at probability 0.4; 20,000 in a stage of
//	        probability 0.2 (no own probability); a won deal of O 99,000
//	activities: A inbound call 40 days ago, outbound email 20 days ago,
//	        inbound email 2 days ago; O meeting 3 days ago
//
// So O: margin 600 + 400 + 200 = 1,200, first order 100 days, last 5,
// open pipeline 30,000 at mean probability (0.4 + 0.2) / 2 = 0.3, one
// meeting 3 days ago (span 0), segment alpha (the first key). A: margin
// 200 (the order naming it), 5 and 5 days; a call (inbound), two emails
// (one inbound), last 2 days ago, span 38 days; organization O. B: margin
// 150, 30 and 30 days, no activity (days since missing, counts 0).
func TestCustomerAttributes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws := must[*ent.Workspace](t)(access.CreateWorkspace(ctx, st.Client, "attrs", "Attrs"))
		ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
		money := func(units int) crm.Money { return crm.Money(units * 100) }
		o := must[*ent.Organization](t)(c.Organization.Create().SetName("O").SetEmployees(100).Save(ctx))
		a := must[*ent.Contact](t)(c.Contact.Create().SetFirstName("Ann").SetLastName("Lee").SetEmail("ann@o.test").SetOrganizationID(o.ID).Save(ctx))
		b := must[*ent.Contact](t)(c.Contact.Create().SetLastName("Bell").Save(ctx))
		for _, x := range []struct {
			org, con   *pulid.ID
			amt, cost  int
			daysBefore int
		}{{&o.ID, nil, 1000, 400, 100}, {&o.ID, nil, 500, 100, 10}, {&o.ID, &a.ID, 300, 100, 5}, {nil, &b.ID, 200, 50, 30}} {
			must[*ent.Order](t)(c.Order.Create().SetNillableOrganizationID(x.org).SetNillableContactID(x.con).
				SetAmount(money(x.amt)).SetCost(money(x.cost)).SetOrderedAt(ago(x.daysBefore)).Save(ctx))
		}
		pl := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Sales").Save(ctx))
		open := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(pl.ID).SetName("Open").SetPosition(0).SetProbability(0.2).Save(ctx))
		won := must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(pl.ID).SetName("Won").SetPosition(1).SetProbability(1).SetKind("won").Save(ctx))
		must[*ent.Deal](t)(c.Deal.Create().SetName("d1").SetPipelineID(pl.ID).SetStageID(open.ID).SetOrganizationID(o.ID).SetAmount(money(10000)).SetProbability(0.4).Save(ctx))
		must[*ent.Deal](t)(c.Deal.Create().SetName("d2").SetPipelineID(pl.ID).SetStageID(open.ID).SetOrganizationID(o.ID).SetAmount(money(20000)).Save(ctx))
		must[*ent.Deal](t)(c.Deal.Create().SetName("d3").SetPipelineID(pl.ID).SetStageID(won.ID).SetOrganizationID(o.ID).SetAmount(money(99000)).Save(ctx))
		for _, x := range []struct {
			con  *pulid.ID
			org  *pulid.ID
			kind activity.Kind
			dir  activity.Direction
			days int
		}{{&a.ID, nil, activity.KindCall, activity.DirectionInbound, 40}, {&a.ID, nil, activity.KindEmail, activity.DirectionOutbound, 20},
			{&a.ID, nil, activity.KindEmail, activity.DirectionInbound, 2}, {nil, &o.ID, activity.KindMeeting, "", 3}} {
			cr := c.Activity.Create().SetKind(x.kind).SetSubject("x").SetOccurredAt(ago(x.days)).SetNillableContactID(x.con).SetNillableOrganizationID(x.org)
			if x.dir != "" {
				cr.SetDirection(x.dir)
			}
			must[*ent.Activity](t)(cr.Save(ctx))
		}
		for _, key := range []string{"zeta", "alpha"} {
			s := must[*ent.Segment](t)(c.Segment.Create().SetKey(key).SetName(key).Save(ctx))
			must[*ent.SegmentMembership](t)(c.SegmentMembership.Create().SetSegmentID(s.ID).SetSubjectType("organization").SetSubjectID(o.ID).Save(ctx))
		}

		orgBatch, err := extension.BuildBatch(ctx, c, "organization", []pulid.ID{o.ID}, []string{"order_margin", "days_since_first_order",
			"days_since_last_order", "open_pipeline", "open_probability", "meeting_count", "days_since_last_activity", "activity_span_days", "segment"}, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]float64{"order_margin": 1200, "days_since_first_order": 100, "days_since_last_order": 5, "open_pipeline": 30000,
			"open_probability": 0.3, "meeting_count": 1, "days_since_last_activity": 3, "activity_span_days": 0}
		for name, w := range want {
			if got := orgBatch.Numbers(name)[0]; math.Abs(got-w) > 1e-9 {
				t.Errorf("O %s = %v, want %v", name, got, w)
			}
		}
		if s, _ := orgBatch.Column("segment").Text(0); s != "alpha" {
			t.Errorf("O segment %q, want alpha", s)
		}
		attrs := []string{"id", "order_margin", "days_since_first_order", "days_since_last_order", "call_count", "inbound_call_count", "email_count",
			"inbound_email_count", "meeting_count", "days_since_last_activity", "activity_span_days", "first_name", "organization_id", "segment"}
		cb, err := extension.BuildBatch(ctx, c, "contact", []pulid.ID{a.ID, b.ID}, attrs, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := cb.Validate(); err != nil {
			t.Fatal(err)
		}
		nan := math.NaN()
		for name, w := range map[string][2]float64{
			"order_margin": {200, 150}, "days_since_first_order": {5, 30}, "days_since_last_order": {5, 30},
			"call_count": {1, 0}, "inbound_call_count": {1, 0}, "email_count": {2, 0}, "inbound_email_count": {1, 0}, "meeting_count": {0, 0},
			"days_since_last_activity": {2, nan}, "activity_span_days": {38, nan},
		} {
			got := cb.Numbers(name)
			for i := range w {
				if !(math.Abs(got[i]-w[i]) < 1e-9 || math.IsNaN(got[i]) && math.IsNaN(w[i])) {
					t.Errorf("contact %d %s = %v, want %v", i, name, got[i], w[i])
				}
			}
		}
		if s, _ := cb.Column("first_name").Text(0); s != "Ann" {
			t.Errorf("first_name %q", s)
		}
		if s, _ := cb.Column("organization_id").Text(0); s != string(o.ID) {
			t.Errorf("organization_id %q, want %s", s, o.ID)
		}
		if _, ok := cb.Column("organization_id").Text(1); ok {
			t.Error("B has no organization")
		}
		if _, ok := cb.Column("segment").Text(0); ok {
			t.Error("A is in no segment")
		}
	})
}

// bundled loads the repository's bundled plugins (their committed
// modules).
func bundled(t *testing.T) *extension.Registry {
	return extensiontest.Registry(t, filepath.Join(extensiontest.Root(), "plugins"))
}

// TestReportsOnDemo runs the four models' reports on the demo workspace:
// each is well-formed and non-trivial (every section has figures), and
// figures are checked against counts taken from the raw records. A
// second, empty workspace gets empty reports: no data crosses.
func TestReportsOnDemo(t *testing.T) {
	if raceDetector {
		t.Skip("seeds the demo on both databases; the ordinary test run covers it")
	}
	reg := bundled(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		res, err := demo.Seed(context.Background(), st.Client, demo.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: res.Workspace.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		// Independent counts: customers are organizations and contacts
		// without one; buyers those with an order naming them.
		orgs := c.Organization.Query().CountX(ctx)
		loose := c.Contact.Query().Where(contact.OrganizationIDIsNil()).CountX(ctx)
		contacts := c.Contact.Query().CountX(ctx)
		orgBuyers := len(c.Order.Query().Where(order.OrganizationIDNotNil()).GroupBy(order.FieldOrganizationID).StringsX(ctx))
		var looseBuyers int
		for _, id := range c.Order.Query().Where(order.ContactIDNotNil()).GroupBy(order.FieldContactID).StringsX(ctx) {
			if c.Contact.Query().Where(contact.ID(pulid.ID(id)), contact.OrganizationIDIsNil()).ExistX(ctx) {
				looseBuyers++
			}
		}
		if _, err := reg.RecordAnswers(ctx, c, "qci", allAnswers(t, reg, 4)); err != nil {
			t.Fatal(err)
		}
		params := []byte(`{"from": "2025-11-01", "to": "2026-11-01"}`)
		kpis := map[string]map[string]float64{}
		for _, name := range []string{"idic", "qci", "fiveprocess", "valuechain"} {
			rep, p, err := reg.RunReport(ctx, c, extension.ReportOptions{Plugin: name, Params: params, Now: now})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p.Manifest.Name != name {
				t.Fatalf("ran %s for %s", p.Ref(), name)
			}
			if err := extension.CheckReport(rep); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			kpis[name] = map[string]float64{}
			for _, s := range rep.Sections {
				rows := 0
				for _, tb := range s.Tables {
					rows += len(tb.Rows)
				}
				points := 0
				for _, sr := range s.Series {
					points += len(sr.Values)
				}
				nonzero := false
				for _, k := range s.KPIs {
					kpis[name][s.Key+"."+k.Key] = k.Value
					nonzero = nonzero || k.Value != 0
				}
				if !nonzero || rows+points == 0 {
					t.Errorf("%s: section %q is empty (KPIs %+v, %d rows, %d points)", name, s.Key, s.KPIs, rows, points)
				}
			}
		}
		for _, x := range []struct {
			kpi  string
			want float64
		}{
			{"valuechain.lifecycle.customers", float64(orgBuyers + looseBuyers)},
			{"valuechain.portfolio.customers_placed", float64(orgBuyers + looseBuyers)},
			{"idic.identify.contacts", float64(contacts)},
			{"idic.differentiate.customers", float64(orgs + loose)},
			{"fiveprocess.strategy.customers", float64(orgs + loose)},
			{"fiveprocess.information.contacts", float64(contacts)},
		} {
			var plugin, key string
			for i := range x.kpi {
				if x.kpi[i] == '.' {
					plugin, key = x.kpi[:i], x.kpi[i+1:]
					break
				}
			}
			if got := kpis[plugin][key]; got != x.want {
				t.Errorf("%s = %v, want %v (counted from the records)", x.kpi, got, x.want)
			}
		}
		// IDIC's tiers and QCI's enquiries answered, from the raw orders
		// and activities: the customers' margin of the 365 days before now
		// (most valuable at 50,000 or more, below zero under 0), and
		// their latest inbound and outbound activity (an enquiry at most
		// 90 days old, answered by an outbound one as recent or more,
		// overdue when older than 24 hours without one).
		customers := map[pulid.ID]bool{}
		for _, o := range c.Organization.Query().IDsX(ctx) {
			customers[o] = true
		}
		for _, ct := range c.Contact.Query().Where(contact.OrganizationIDIsNil()).IDsX(ctx) {
			customers[ct] = true
		}
		customerOf := func(org, ct *pulid.ID) []pulid.ID {
			var out []pulid.ID
			for _, id := range []*pulid.ID{org, ct} {
				if id != nil && customers[*id] {
					out = append(out, *id)
				}
			}
			return out
		}
		margin := map[pulid.ID]float64{}
		for _, o := range c.Order.Query().AllX(ctx) {
			if o.OrderedAt.After(now) || !o.OrderedAt.After(now.AddDate(0, 0, -365)) {
				continue
			}
			for _, id := range customerOf(o.OrganizationID, o.ContactID) {
				margin[id] += float64(o.Amount-o.Cost) / 100
			}
		}
		var valuable, belowZero float64
		for id := range customers {
			switch m := margin[id]; {
			case m < 0:
				belowZero++
			case m >= 50000:
				valuable++
			}
		}
		lastIn, lastOut := map[pulid.ID]time.Time{}, map[pulid.ID]time.Time{}
		for _, a := range c.Activity.Query().Where(activity.DirectionNotNil(), activity.OccurredAtLTE(now)).AllX(ctx) {
			last := lastOut
			if *a.Direction == activity.DirectionInbound {
				last = lastIn
			}
			for _, id := range customerOf(a.OrganizationID, a.ContactID) {
				if a.OccurredAt.After(last[id]) {
					last[id] = a.OccurredAt
				}
			}
		}
		var answered, overdue float64
		for id, in := range lastIn {
			switch {
			case in.Before(now.AddDate(0, 0, -90)):
			case !lastOut[id].Before(in):
				answered++
			case now.Sub(in) >= 24*time.Hour:
				overdue++
			}
		}
		if answered+overdue == 0 || valuable == 0 {
			t.Fatalf("the demo has no enquiry answered or overdue (%v, %v) or no most valuable customer (%v): the checks below check nothing", answered, overdue, valuable)
		}
		for _, x := range []struct {
			kpi  string
			got  float64
			want float64
		}{
			{"idic differentiate.most_valuable", kpis["idic"]["differentiate.most_valuable"], valuable},
			{"idic differentiate.below_zero", kpis["idic"]["differentiate.below_zero"], belowZero},
			{"qci kpis.enquiries_answered", kpis["qci"]["kpis.enquiries_answered"], 100 * answered / (answered + overdue)},
		} {
			if math.Abs(x.got-x.want) > 1e-9 {
				t.Errorf("%s = %v, want %v (counted from the records)", x.kpi, x.got, x.want)
			}
		}
		t.Logf("demo: %v most valuable, %v below zero; enquiries %v answered, %v overdue", valuable, belowZero, answered, overdue)

		// Every question answered: full coverage, 30 of 30.
		if kpis["qci"]["coverage.coverage"] != 100 || kpis["qci"]["coverage.answered"] != 30 {
			t.Errorf("qci coverage: %v", kpis["qci"])
		}

		// Another workspace: its own empty data only.
		ws2 := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), c, "other", "Other"))
		ctx2 := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws2.ID, Role: tenancy.RoleAdmin})
		rep, _, err := reg.RunReport(ctx2, c, extension.ReportOptions{Plugin: "valuechain", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range rep.Sections {
			for _, k := range s.KPIs {
				if k.Value != 0 {
					t.Errorf("empty workspace: %s.%s = %v", s.Key, k.Key, k.Value)
				}
			}
		}
	})
}

// allAnswers answers every question of the qci questionnaire with v.
func allAnswers(t *testing.T, reg *extension.Registry, v int) []extension.Answer {
	t.Helper()
	p, err := reg.Latest("qci")
	if err != nil {
		t.Fatal(err)
	}
	qs, err := p.QuestionSet()
	if err != nil || qs == nil {
		t.Fatalf("question set: %v", err)
	}
	out := make([]extension.Answer, len(qs.Questions))
	for i, q := range qs.Questions {
		out[i] = extension.Answer{Question: q.Key, Answer: v}
	}
	return out
}

// TestRecordAnswers: answers are checked against the plugin's question
// set and scale, all or none, replace earlier ones, and stay in their
// workspace.
func TestRecordAnswers(t *testing.T) {
	reg := bundled(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := st.Client
		ws := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), c, "qa", "QA"))
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		good := allAnswers(t, reg, 2)[:2]
		for _, x := range []struct {
			answers []extension.Answer
			field   string
		}{
			{[]extension.Answer{good[0], {Question: "no.such_question", Answer: 1}}, "answers.1.question"},
			{[]extension.Answer{{Question: good[0].Question, Answer: 5}}, "answers.0.answer"},
			{[]extension.Answer{{Question: good[0].Question, Answer: -1}}, "answers.0.answer"},
		} {
			_, err := reg.RecordAnswers(ctx, c, "qci", x.answers)
			if errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != x.field {
				t.Errorf("%+v: err %v (code %s, field %q), want %s on %s", x.answers, err, errcode.Of(err), errcode.FieldOf(err), errcode.BadUserInput, x.field)
			}
		}
		if n := c.AssessmentAnswer.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d answers stored by refused calls", n)
		}
		if _, err := reg.RecordAnswers(ctx, c, "valuechain", good); errcode.Of(err) != errcode.BadUserInput {
			t.Errorf("a plugin without a questionnaire: %v", err)
		}
		if _, err := reg.RecordAnswers(ctx, c, "qci", good); err != nil {
			t.Fatal(err)
		}
		again := []extension.Answer{{Question: good[0].Question, Answer: 4, Note: "after the review"}}
		if _, err := reg.RecordAnswers(ctx, c, "qci", again); err != nil {
			t.Fatal(err)
		}
		all := c.AssessmentAnswer.Query().AllX(ctx)
		sort.Slice(all, func(i, j int) bool { return all[i].Question < all[j].Question })
		if len(all) != 2 {
			t.Fatalf("%d answers, want 2", len(all))
		}
		for _, a := range all {
			if a.Question == good[0].Question && (a.Answer != 4 || a.Note != "after the review") {
				t.Errorf("not replaced: %+v", a)
			}
		}
		ws2 := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), c, "qb", "QB"))
		ctx2 := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws2.ID, Role: tenancy.RoleAdmin})
		if n := c.AssessmentAnswer.Query().CountX(ctx2); n != 0 {
			t.Errorf("another workspace sees %d answers", n)
		}
	})
}

// TestBindChecksConfigAgainstSchema: a binding's configuration is checked
// against the plugin's whole config schema (nested objects, ranges,
// enums), with the offending path in the error, and nothing is stored.
func TestBindChecksConfigAgainstSchema(t *testing.T) {
	reg := bundled(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), st.Client, "cfg", "Cfg"))
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		for _, c := range []struct {
			config map[string]any
			field  string
		}{
			{map[string]any{"significance_weights": map[string]any{"pipeline": -1}}, "config.significance_weights.pipeline"},
			{map[string]any{"significance_threshold": 2}, "config.significance_threshold"},
			{map[string]any{"max_rows": 1.5}, "config.max_rows"},
			{map[string]any{"loyal_orders": "five"}, "config.loyal_orders"},
		} {
			_, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "contact", Plugin: "valuechain", Version: "1.0.0", Config: c.config})
			if errcode.Of(err) != errcode.BadUserInput || errcode.FieldOf(err) != c.field {
				t.Errorf("%v: %v (field %q), want %s", c.config, err, errcode.FieldOf(err), c.field)
			}
		}
		if n := st.Client.ExtensionBinding.Query().CountX(ctx); n != 0 {
			t.Errorf("%d bindings stored", n)
		}
		if _, err := reg.Bind(ctx, st.Client, extension.BindInput{Point: sdk.PointSegment, SubjectType: "contact", Plugin: "valuechain", Version: "1.0.0",
			Config: map[string]any{"significance_weights": map[string]any{"pipeline": 1, "size": 0, "recency": 0}}}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestShadowScore compares a plugin with itself on 90 organizations of
// different sizes, in batches of 40: identical answers give ρ = 1, no
// shift, full top-k overlap and no label change, and nothing is stored.
// (TestCompare works the statistics on other cases by hand.)
func TestShadowScore(t *testing.T) {
	reg := bundled(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws := must[*ent.Workspace](t)(access.CreateWorkspace(context.Background(), st.Client, "shadow", "Shadow"))
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		var creates []*ent.OrganizationCreate
		for i := 0; i < 90; i++ {
			creates = append(creates, st.Client.Organization.Create().SetName(fmt.Sprintf("Org %d", i)).SetEmployees(i*37%500))
		}
		must[[]*ent.Organization](t)(st.Client.Organization.CreateBulk(creates...).Save(ctx))
		cmp, err := reg.ShadowScore(ctx, st.Client, extension.ShadowOptions{Baseline: "idic", Candidate: "idic@1.1.0", SubjectType: "organization", BatchSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		orgs := st.Client.Organization.Query().CountX(ctx)
		if cmp.Subjects != orgs || cmp.RankCorrelation == nil || math.Abs(*cmp.RankCorrelation-1) > 1e-12 || cmp.MeanShift != 0 ||
			cmp.TopKOverlap != 1 || cmp.TopK != orgs/10 || cmp.LabelChangeCount != 0 {
			t.Errorf("self comparison: %+v", cmp)
		}
		if n := st.Client.Score.Query().CountX(ctx); n != 0 {
			t.Errorf("a shadow run stored %d scores", n)
		}
		if _, err := reg.ShadowScore(ctx, st.Client, extension.ShadowOptions{Baseline: "idic", Candidate: "qci", SubjectType: "organization"}); errcode.FieldOf(err) != "candidate" {
			t.Errorf("a report-only candidate: %v", err)
		}
	})
}
