package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/automation/automationtest"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/sales"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const secret = "0123456789abcdef-secret"

// workspace is a test workspace with a pipeline.
type workspace struct {
	ctx    context.Context
	id     pulid.ID
	stages map[string]pulid.ID
}

type fixture struct {
	st     *store.Store
	client *ent.Client
	a, b   workspace
	reg    *prometheus.Registry
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	if err := Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, client: st.Client, reg: prometheus.NewRegistry()}
	f.a = newWorkspace(t, st.Client, "alpha")
	f.b = newWorkspace(t, st.Client, "beta")
	return f
}

func newWorkspace(t *testing.T, client *ent.Client, slug string) workspace {
	t.Helper()
	ws, err := access.CreateWorkspace(context.Background(), client, slug, "")
	if err != nil {
		t.Fatal(err)
	}
	w := workspace{ctx: workspaceCtx(context.Background(), ws.ID), id: ws.ID, stages: map[string]pulid.ID{}}
	p := client.Pipeline.Create().SetName("Sales").SetIsDefault(true).SaveX(w.ctx)
	for i, name := range []string{"Qualified", "Proposal", "Won"} {
		kind := stage.KindOpen
		if name == "Won" {
			kind = stage.KindWon
		}
		s := client.Stage.Create().SetName(name).SetPosition(i).SetKind(kind).SetPipelineID(p.ID).SaveX(w.ctx)
		w.stages[name] = s.ID
	}
	return w
}

// engine starts an engine with fast test timings, stopped when the test
// ends.
func (f *fixture) engine(t *testing.T, tweak func(*Config)) *Engine {
	t.Helper()
	cfg := Config{
		Store: f.st, Registerer: f.reg, PollInterval: 50 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond, RetryFor: time.Hour,
		WebhookTimeout: 2 * time.Second, ScanInterval: time.Hour,
		// The test receivers listen on loopback, which is refused unless
		// allowed.
		OutboundAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	return e
}

func (w workspace) automation(t *testing.T, client *ent.Client, in Input) *ent.Automation {
	t.Helper()
	a, err := Create(w.ctx, client, in)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (w workspace) deal(t *testing.T, client *ent.Client, name, stageName string, amount float64) *ent.Deal {
	t.Helper()
	m, err := crm.FromFloat(amount)
	if err != nil {
		t.Fatal(err)
	}
	return client.Deal.Create().SetName(name).SetStageID(w.stages[stageName]).SetAmount(m).SaveX(w.ctx)
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func runs(t *testing.T, client *ent.Client, preds ...func(*ent.AutomationRunQuery)) []*ent.AutomationRun {
	t.Helper()
	q := client.AutomationRun.Query().Order(automationrun.ByFiredAt(), automationrun.ByID())
	for _, p := range preds {
		p(q)
	}
	rs, err := q.All(tenancy.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func finished(rs []*ent.AutomationRun, n int) bool {
	if len(rs) != n {
		return false
	}
	for _, r := range rs {
		if r.Status != automationrun.StatusSucceeded && r.Status != automationrun.StatusFailed {
			return false
		}
	}
	return true
}

func webhookAutomation(url string) Input {
	return Input{
		Name:  "big proposals",
		Event: "deal.stage_changed",
		Condition: map[string]any{"and": []any{
			map[string]any{"field": "deal.stage", "op": "eq", "value": "Proposal"},
			map[string]any{"field": "deal.amount", "op": "gte", "value": 10000},
		}},
		Actions: []map[string]any{{"type": "webhook", "url": url, "secret": secret}},
	}
}

func TestWebhookOnStageChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		recv := automationtest.NewWebhookReceiver(t, secret)
		f.a.automation(t, f.client, webhookAutomation(recv.URL))
		e := f.engine(t, nil)

		big := f.a.deal(t, f.client, "Big", "Qualified", 12000)
		small := f.a.deal(t, f.client, "Small", "Qualified", 5000)
		other := f.b.deal(t, f.client, "Other workspace", "Qualified", 50000)
		for _, mv := range []struct {
			w  workspace
			id pulid.ID
		}{{f.a, big.ID}, {f.a, small.ID}, {f.b, other.ID}} {
			if _, err := sales.MoveDeal(mv.w.ctx, f.client, mv.id, mv.w.stages["Proposal"]); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "the run to finish", func() bool { return finished(runs(t, f.client), 1) })
		r := runs(t, f.client)[0]
		if r.Status != automationrun.StatusSucceeded || r.SubjectID != big.ID || r.Trigger != "deal.stage_changed" {
			t.Fatalf("run %+v", r)
		}
		hooks := recv.Hooks()
		if len(hooks) != 1 {
			t.Fatalf("got %d webhooks, want 1", len(hooks))
		}
		h := hooks[0]
		if !h.SignatureOK || h.Event != "deal.stage_changed" {
			t.Errorf("hook %+v", h)
		}
		var p Payload
		if err := json.Unmarshal(h.Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Subject.ID != string(big.ID) || p.Record["deal"]["stage"] != "Proposal" || p.ID != h.Delivery || p.WorkspaceID != string(f.a.id) {
			t.Errorf("payload %s", h.Body)
		}
		ds := f.client.Delivery.Query().AllX(f.a.ctx)
		if len(ds) != 1 || ds[0].Status != delivery.StatusDelivered || ds[0].Attempts != 1 || ds[0].ResponseStatus == nil || *ds[0].ResponseStatus != 204 {
			t.Errorf("delivery log %+v", ds)
		}
		// Every event is dispatched once; dispatching again fires nothing.
		if _, err := e.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(runs(t, f.client)); n != 1 {
			t.Errorf("%d runs after a second dispatch", n)
		}
		if got := counter(t, f.reg, "rapport_automation_runs_total", "status", "succeeded"); got != 1 {
			t.Errorf("succeeded runs counted %v", got)
		}
		if got := counter(t, f.reg, "rapport_automation_deliveries_total", "result", "delivered"); got != 1 {
			t.Errorf("deliveries counted %v", got)
		}
		_ = e
	})
}

// counter sums the samples of a counter whose label has the value.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestWebhookRetriedUntilReceiverIsBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		recv := automationtest.NewWebhookReceiver(t, secret)
		recv.Down()
		f.a.automation(t, f.client, webhookAutomation(recv.URL))
		f.engine(t, nil)
		d := f.a.deal(t, f.client, "Big", "Qualified", 20000)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Proposal"]); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a failed attempt", func() bool {
			ds := f.client.Delivery.Query().AllX(f.a.ctx)
			return len(ds) == 1 && ds[0].Attempts >= 2 && ds[0].LastError != ""
		})
		recv.Up(t)
		eventually(t, "the run to succeed", func() bool { return finished(runs(t, f.client), 1) })
		r := runs(t, f.client)[0]
		if r.Status != automationrun.StatusSucceeded || r.Steps[0].Attempts < 2 {
			t.Fatalf("run %+v", r)
		}
		if hooks := recv.Hooks(); len(hooks) != 1 || !hooks[0].SignatureOK {
			t.Fatalf("hooks %+v", hooks)
		}
		ds := f.client.Delivery.Query().OnlyX(f.a.ctx)
		if ds.Status != delivery.StatusDelivered || ds.Attempts < 3 {
			t.Errorf("delivery %+v", ds)
		}
	})
}

// TestWebhookToInternalAddressRefused: without the operator's allow-list,
// a webhook to a loopback, private or metadata address, or to a name that
// resolves to one, fails at once, permanently, and reaches nothing.
func TestWebhookToInternalAddressRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		recv := automationtest.NewWebhookReceiver(t, secret)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(recv.URL, "/hook"), "http://"))
		urls := []string{recv.URL, "http://localhost:" + port + "/hook", "http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data/"}
		for i, u := range urls {
			in := webhookAutomation(u)
			in.Name = fmt.Sprintf("hook %d", i)
			f.a.automation(t, f.client, in)
		}
		f.engine(t, func(c *Config) { c.OutboundAllow = nil })
		d := f.a.deal(t, f.client, "Big", "Qualified", 20000)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Proposal"]); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the runs to fail", func() bool { return finished(runs(t, f.client), len(urls)) })
		for _, r := range runs(t, f.client) {
			if r.Status != automationrun.StatusFailed || !strings.Contains(r.Error, "destination not allowed") {
				t.Errorf("run status %s error %q", r.Status, r.Error)
			}
		}
		for _, dl := range f.client.Delivery.Query().AllX(f.a.ctx) {
			if dl.Status != delivery.StatusFailed || dl.Attempts != 1 {
				t.Errorf("delivery %s: status %s after %d attempts, want failed after 1", dl.Target, dl.Status, dl.Attempts)
			}
		}
		if n := len(recv.Hooks()); n != 0 {
			t.Errorf("receiver got %d webhooks", n)
		}
	})
}

func TestWebhookFailsAfterRetryWindow(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*automationtest.WebhookReceiver)
		want  string
	}{
		{"answers 500", func(r *automationtest.WebhookReceiver) { r.SetFail(true) }, "500"},
		{"down", func(r *automationtest.WebhookReceiver) { r.Down() }, "destination unreachable"},
		{"slow", func(r *automationtest.WebhookReceiver) { r.Hang() }, "did not answer in time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				f := newFixture(t, st)
				recv := automationtest.NewWebhookReceiver(t, secret)
				defer recv.Release()
				tt.setup(recv)
				f.a.automation(t, f.client, webhookAutomation(recv.URL))
				f.engine(t, func(c *Config) {
					c.RetryFor = 1500 * time.Millisecond
					c.WebhookTimeout = 300 * time.Millisecond
				})
				d := f.a.deal(t, f.client, "Big", "Qualified", 20000)
				if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Proposal"]); err != nil {
					t.Fatal(err)
				}
				eventually(t, "the run to fail", func() bool { return finished(runs(t, f.client), 1) })
				r := runs(t, f.client)[0]
				if r.Status != automationrun.StatusFailed || !strings.Contains(r.Error, tt.want) || r.Steps[0].Status != stepFailed {
					t.Fatalf("run status %s error %q steps %+v", r.Status, r.Error, r.Steps)
				}
				dl := f.client.Delivery.Query().OnlyX(f.a.ctx)
				if dl.Status != delivery.StatusFailed || dl.Attempts < 2 || !strings.Contains(dl.LastError, tt.want) {
					t.Errorf("delivery %+v", dl)
				}
				// Nothing of the connection's details reaches the tenant.
				for _, leak := range []string{"connection refused", "dial tcp", "i/o timeout"} {
					if strings.Contains(dl.LastError, leak) || strings.Contains(r.Error, leak) {
						t.Errorf("error shows %q: %s / %s", leak, dl.LastError, r.Error)
					}
				}
			})
		})
	}
}

func TestWorkspaceIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		recv := automationtest.NewWebhookReceiver(t, secret)
		f.a.automation(t, f.client, Input{Name: "new contacts", Event: "contact.created",
			Actions: []map[string]any{{"type": "webhook", "url": recv.URL, "secret": secret}}})
		e := f.engine(t, nil)
		f.client.Contact.Create().SetLastName("Beta").SaveX(f.b.ctx)
		f.client.Contact.Create().SetLastName("Alpha").SaveX(f.a.ctx)
		eventually(t, "the run", func() bool { return finished(runs(t, f.client), 1) })
		if _, err := e.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		rs := runs(t, f.client)
		if len(rs) != 1 || rs[0].WorkspaceID != f.a.id {
			t.Fatalf("runs %+v", rs)
		}
		var p Payload
		hooks := recv.Hooks()
		if len(hooks) != 1 || json.Unmarshal(hooks[0].Body, &p) != nil || p.Record["contact"]["last_name"] != "Alpha" {
			t.Fatalf("hooks %+v", hooks)
		}
		// B sees none of A's automations, runs or deliveries.
		if n := f.client.Automation.Query().CountX(f.b.ctx); n != 0 {
			t.Errorf("B sees %d automations", n)
		}
		if n := f.client.AutomationRun.Query().CountX(f.b.ctx); n != 0 {
			t.Errorf("B sees %d runs", n)
		}
		if n := f.client.Delivery.Query().CountX(f.b.ctx); n != 0 {
			t.Errorf("B sees %d deliveries", n)
		}
		if n := f.client.AutomationRun.Query().CountX(f.a.ctx); n != 1 {
			t.Errorf("A sees %d runs", n)
		}
	})
}

func TestEventsAreWrittenWithTheirChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := f.a.ctx
		f.client.Event.Delete().ExecX(tenancy.System(context.Background())) // the fixture's pipelines and stages
		types := func() []string {
			evs := f.client.Event.Query().Order(event.ByOccurredAt(), event.ByID()).AllX(ctx)
			out := make([]string, len(evs))
			for i, e := range evs {
				out[i] = e.Type
			}
			sort.Strings(out) // events of one write share their time
			return out
		}
		// A rolled back change leaves no event.
		tx, err := f.client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tx.Contact.Create().SetLastName("Ghost").SaveX(ctx)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if got := types(); len(got) != 0 {
			t.Fatalf("events after rollback: %v", got)
		}
		c := f.client.Contact.Create().SetLastName("Lovelace").SaveX(ctx)
		f.client.Contact.UpdateOne(c).SetFirstName("Ada").ExecX(ctx)
		d := f.a.deal(t, f.client, "D", "Qualified", 100)
		if _, err := sales.MoveDeal(ctx, f.client, d.ID, f.a.stages["Proposal"]); err != nil {
			t.Fatal(err)
		}
		l := f.client.Lead.Create().SetTitle("Lead").SaveX(ctx)
		ltx, _ := f.client.Tx(ctx)
		if _, err := sales.ConvertLead(ctx, ltx.Client(), l.ID, sales.Conversion{}); err != nil {
			t.Fatal(err)
		}
		if err := ltx.Commit(); err != nil {
			t.Fatal(err)
		}
		f.client.Score.Create().SetSubjectType("lead").SetSubjectID(l.ID).SetPlugin("p").SetPluginVersion("1").SetValue(0.5).ExecX(ctx)
		f.client.Contact.DeleteOne(c).ExecX(ctx)
		want := []string{"contact.created", "contact.updated", "deal.created", "deal.updated", "deal.stage_changed",
			"lead.created", "deal.created", "lead.updated", "lead.converted", "lead.score_changed", "contact.deleted"}
		sort.Strings(want)
		if got := types(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("events\\n got %v\\nwant %v", got, want)
		}
		ev := f.client.Event.Query().Where(event.Type("deal.stage_changed")).OnlyX(ctx)
		if ev.SubjectID != d.ID || ev.Actor != "workspace:"+string(f.a.id) || ev.Depth != 0 {
			t.Errorf("stage event %+v", ev)
		}
		var stageChange bool
		for _, c := range ev.Changes {
			if c.Field == errcode.FieldName("stage_id") && fmt.Sprint(c.Before) == string(f.a.stages["Qualified"]) && fmt.Sprint(c.After) == string(f.a.stages["Proposal"]) {
				stageChange = true
			}
		}
		if !stageChange {
			t.Errorf("stage event changes %+v", ev.Changes)
		}
		// B sees none of A's events.
		if n := f.client.Event.Query().CountX(f.b.ctx); n != 0 {
			t.Errorf("B sees %d events", n)
		}
	})
}

func TestSaveRefusesBadInput(t *testing.T) {
	hook := map[string]any{"type": "webhook", "url": "https://example.test/h", "secret": secret}
	tests := []struct {
		name  string
		in    Input
		field string
		msg   string
	}{
		{"no name", Input{Event: "deal.created", Actions: []map[string]any{hook}}, "input.name", "required"},
		{"unknown event", Input{Name: "x", Event: "deal.exploded", Actions: []map[string]any{hook}}, "input.event", "unknown event"},
		{"no trigger", Input{Name: "x", Actions: []map[string]any{hook}}, "input.event", "required"},
		{"no actions", Input{Name: "x", Event: "deal.created"}, "input.actions", "at least one"},
		{"unknown condition field", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{hook},
			Condition: map[string]any{"field": "deal.colour", "op": "eq", "value": "red"}}, "input.condition.field", "deal.colour"},
		{"bad op", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{hook},
			Condition: map[string]any{"field": "deal.name", "op": "like", "value": "x"}}, "input.condition.op", "like"},
		{"template unknown field", Input{Name: "x", Event: "deal.stage_changed", Actions: []map[string]any{
			{"type": "send_email", "to": "{{contact.email}}", "subject": "Hi {{contact.nickname}}", "body": "b"}}},
			"input.actions.0.subject", "contact.nickname"},
		{"template unknown entity", Input{Name: "x", Event: "contact.created", Actions: []map[string]any{
			{"type": "create_activity", "subject": "Call", "body": "{{deal.name}}"}}},
			"input.actions.0.body", "deal.name"},
		{"group email unknown recipient field", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{
			{"type": "send_email", "recipients": map[string]any{"field": "contact.age", "op": "gt", "value": 3}, "subject": "s"}}},
			"input.actions.0.recipients.field", "contact.age"},
		{"short secret", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{
			{"type": "webhook", "url": "https://example.test/h", "secret": "short"}}}, "input.actions.0.secret", "16"},
		{"bad url", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{
			{"type": "webhook", "url": "ftp://x", "secret": secret}}}, "input.actions.0.url", "http"},
		{"unknown action", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{{"type": "launch"}}}, "input.actions.0.type", "launch"},
		{"unknown action key", Input{Name: "x", Event: "deal.created", Actions: []map[string]any{
			{"type": "webhook", "url": "https://example.test/h", "secret": secret, "sekret": 1}}}, "input.actions.0", "sekret"},
		{"bad schedule", Input{Name: "x", Schedule: map[string]any{"subject": "deal", "idle_days": 0}, Actions: []map[string]any{hook}},
			"input.schedule.idle_days", "idle_days"},
		{"event and schedule", Input{Name: "x", Event: "deal.created", Schedule: map[string]any{"subject": "deal", "idle_days": 3},
			Actions: []map[string]any{hook}}, "input.schedule", "not both"},
		{"assign organization", Input{Name: "x", Event: "organization.created", Actions: []map[string]any{{"type": "assign_owner"}}},
			"input.actions.0.type", "no owner"},
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := Create(f.a.ctx, f.client, tt.in)
				e, ok := errcode.As(err)
				if !ok || e.Code != errcode.BadUserInput {
					t.Fatalf("Create = %v, want BAD_USER_INPUT", err)
				}
				if e.Field != tt.field || !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("field %q error %q, want field %q mentioning %q", e.Field, err, tt.field, tt.msg)
				}
			})
		}
		if n := f.client.Automation.Query().CountX(f.a.ctx); n != 0 {
			t.Errorf("%d automations stored", n)
		}
		a := f.a.automation(t, f.client, Input{Name: "ok", Event: "deal.created", Actions: []map[string]any{hook}})
		if _, err := Update(f.b.ctx, f.client, a.ID, Input{Name: "stolen", Event: "deal.created", Actions: []map[string]any{hook}}); errcode.Of(err) != errcode.NotFound {
			t.Errorf("B updating A's automation: %v", err)
		}
		if err := Delete(f.a.ctx, f.client, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := Delete(f.a.ctx, f.client, a.ID); errcode.Of(err) != errcode.NotFound {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

// TestConditionSeesTheRecordAsOfTheEvent: a deal moved twice before the
// events are dispatched fires the automation of each stage once.
func TestConditionSeesTheRecordAsOfTheEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		hook := []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:1/h", "secret": secret}}
		autos := map[string]*ent.Automation{}
		for _, s := range []string{"Proposal", "Won"} {
			autos[s] = f.a.automation(t, f.client, Input{Name: s, Event: "deal.stage_changed", Actions: hook,
				Condition: map[string]any{"field": "deal.stage", "op": "eq", "value": s}})
		}
		e, err := New(context.Background(), Config{Store: f.st})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Stop(context.Background()) })
		d := f.a.deal(t, f.client, "Twice", "Qualified", 1)
		for _, s := range []string{"Proposal", "Won"} {
			if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages[s]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		for s, a := range autos {
			if n := len(runs(t, f.client, func(q *ent.AutomationRunQuery) { q.Where(automationrun.AutomationID(a.ID)) })); n != 1 {
				t.Errorf("%s fired %d times", s, n)
			}
		}
	})
}

// TestNewAutomationIgnoresEarlierEvents: events waiting in the outbox when
// an automation is saved do not fire it; the next one does.
func TestNewAutomationIgnoresEarlierEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		e, err := New(context.Background(), Config{Store: f.st})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Stop(context.Background()) })
		d := f.a.deal(t, f.client, "Early", "Qualified", 1)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Proposal"]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // both stores keep microseconds
		a := f.a.automation(t, f.client, Input{Name: "any move", Event: "deal.stage_changed",
			Actions: []map[string]any{{"type": "webhook", "url": "http://127.0.0.1:1/h", "secret": secret}}})
		count := func() int {
			if _, err := e.Dispatch(context.Background()); err != nil {
				t.Fatal(err)
			}
			return len(runs(t, f.client, func(q *ent.AutomationRunQuery) { q.Where(automationrun.AutomationID(a.ID)) }))
		}
		if n := count(); n != 0 {
			t.Fatalf("a move made before the automation fired it %d times", n)
		}
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Won"]); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("the move after the automation fired it %d times, want 1", n)
		}
	})
}

func TestMoveToSameStageIsNoStageChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		d := f.a.deal(t, f.client, "Still", "Qualified", 1)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Qualified"]); err != nil {
			t.Fatal(err)
		}
		if n := f.client.Event.Query().Where(event.Type("deal.stage_changed")).CountX(f.a.ctx); n != 0 {
			t.Errorf("%d stage_changed events for a move to the same stage", n)
		}
	})
}
