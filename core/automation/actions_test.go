package automation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation/automationtest"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/sales"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestAssignOwnerAndCreateActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		m1 := f.client.Member.Create().SetName("Ann").SetEmail("ann@example.com").SaveX(f.a.ctx)
		m2 := f.client.Member.Create().SetName("Bob").SetEmail("bob@example.com").SaveX(f.a.ctx)
		f.a.automation(t, f.client, Input{Name: "route new deals", Event: "deal.created", Actions: []map[string]any{
			{"type": "assign_owner"},
			{"type": "create_activity", "subject": "Follow up on {{deal.name}} for {{deal.owner}}", "due_in_days": 3},
		}})
		f.engine(t, nil)
		var deals []*ent.Deal
		for i := range 4 {
			deals = append(deals, f.a.deal(t, f.client, fmt.Sprintf("Deal %d", i), "Qualified", 100))
		}
		eventually(t, "4 runs", func() bool { return finished(runs(t, f.client), 4) })
		owners := map[pulid.ID]int{}
		for _, d := range deals {
			d = f.client.Deal.GetX(f.a.ctx, d.ID)
			if d.OwnerID == nil {
				t.Fatalf("deal %s has no owner", d.Name)
			}
			owners[*d.OwnerID]++
			act := f.client.Activity.Query().Where(activity.DealID(d.ID)).OnlyX(f.a.ctx)
			owner := map[pulid.ID]string{m1.ID: "Ann", m2.ID: "Bob"}[*d.OwnerID]
			if act.Kind != activity.KindTask || act.Subject != "Follow up on "+d.Name+" for "+owner ||
				act.OwnerID == nil || *act.OwnerID != *d.OwnerID || act.DueAt == nil || time.Until(*act.DueAt) < 71*time.Hour {
				t.Errorf("activity %+v", act)
			}
		}
		if owners[m1.ID] != 2 || owners[m2.ID] != 2 {
			t.Errorf("round robin gave %v", owners)
		}
		for _, r := range runs(t, f.client) {
			if r.Status != automationrun.StatusSucceeded {
				t.Errorf("run %s: %s %s", r.ID, r.Status, r.Error)
			}
		}
		// The activity is attributed to the automation.
		ev := f.client.TimelineEvent.Query().Where().AllX(f.a.ctx)
		var byAutomation bool
		for _, e := range ev {
			if strings.HasPrefix(e.Actor, "automation:") {
				byAutomation = true
			}
		}
		if !byAutomation {
			t.Error("no timeline entry attributed to the automation")
		}
	})
}

// TestLoopIsStopped: an automation that reacts to deal updates by changing
// the deal's owner fires itself; the chain stops at MaxDepth with a failed
// run that names the loop.
func TestLoopIsStopped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.client.Member.Create().SetName("Ann").SetEmail("ann@example.com").ExecX(f.a.ctx)
		f.client.Member.Create().SetName("Bob").SetEmail("bob@example.com").ExecX(f.a.ctx)
		d := f.a.deal(t, f.client, "Loopy", "Qualified", 100)
		f.a.automation(t, f.client, Input{Name: "reassign on update", Event: "deal.updated",
			Actions: []map[string]any{{"type": "assign_owner"}}})
		f.engine(t, func(c *Config) { c.MaxDepth = 3 })
		f.client.Deal.UpdateOne(d).SetName("Loopy 2").ExecX(f.a.ctx)
		eventually(t, "the loop to be stopped", func() bool {
			rs := runs(t, f.client)
			return len(rs) == 4 && finished(rs, 4)
		})
		rs := runs(t, f.client)
		for i, r := range rs {
			if r.Depth != i {
				t.Errorf("run %d at depth %d", i, r.Depth)
			}
			want := automationrun.StatusSucceeded
			if i == 3 {
				want = automationrun.StatusFailed
			}
			if r.Status != want {
				t.Errorf("run %d: %s %s", i, r.Status, r.Error)
			}
		}
		if !strings.Contains(rs[3].Error, "automation loop") {
			t.Errorf("last run error %q", rs[3].Error)
		}
	})
}

func TestGroupEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		smtp := automationtest.NewSMTPReceiver(t)
		builders := make([]*ent.ContactCreate, 0, 101)
		for i := range 100 {
			builders = append(builders, f.client.Contact.Create().SetFirstName(fmt.Sprintf("First%03d", i)).
				SetLastName("Customer").SetTitle("Buyer").SetEmail(fmt.Sprintf("c%03d@example.com", i)))
		}
		builders = append(builders, f.client.Contact.Create().SetFirstName("Not").SetLastName("Buyer").SetTitle("CEO").SetEmail("ceo@example.com"))
		f.client.Contact.CreateBulk(builders...).ExecX(f.a.ctx)
		f.b.ctxContact(t, f.client, "b@example.com")
		f.a.automation(t, f.client, Input{Name: "announce wins", Event: "deal.stage_changed",
			Condition: map[string]any{"field": "deal.stage", "op": "eq", "value": "Won"},
			Actions: []map[string]any{{"type": "send_email",
				"recipients": map[string]any{"field": "contact.title", "op": "eq", "value": "Buyer"},
				"subject":    "Hello {{contact.first_name}}",
				"body":       "Dear {{contact.first_name}} {{contact.last_name}},\nwe closed {{deal.name}} ({{deal.amount}}).",
			}}})
		e := f.engine(t, func(c *Config) { c.SMTPAddr, c.SMTPFrom = smtp.Addr, "crm@example.com" })
		d := f.a.deal(t, f.client, "Mega", "Qualified", 1234.5)
		if _, err := sales.MoveDeal(f.a.ctx, f.client, d.ID, f.a.stages["Won"]); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the run", func() bool { return finished(runs(t, f.client), 1) })
		r := runs(t, f.client)[0]
		if r.Status != automationrun.StatusSucceeded {
			t.Fatalf("run %s: %s", r.Status, r.Error)
		}
		check := func() {
			t.Helper()
			msgs := smtp.Messages()
			if len(msgs) != 100 {
				t.Fatalf("%d messages, want 100", len(msgs))
			}
			seen := map[string]bool{}
			for _, m := range msgs {
				var n int
				if _, err := fmt.Sscanf(m.To, "c%03d@example.com", &n); err != nil {
					t.Fatalf("message to %q", m.To)
				}
				first := fmt.Sprintf("First%03d", n)
				if m.Subject != "Hello "+first || !strings.Contains(m.Body, "Dear "+first+" Customer,") ||
					!strings.Contains(m.Body, "we closed Mega (1234.50).") || m.From != "crm@example.com" {
					t.Errorf("message %+v", m)
				}
				if seen[m.To] || seen[m.MessageID] {
					t.Errorf("duplicate %s %s", m.To, m.MessageID)
				}
				seen[m.To], seen[m.MessageID] = true, true
			}
		}
		check()
		ds := f.client.Delivery.Query().Where(delivery.StatusEQ(delivery.StatusDelivered), delivery.KindEQ(delivery.KindEmail)).CountX(f.a.ctx)
		if ds != 100 {
			t.Errorf("%d deliveries logged", ds)
		}
		// A worker that dies after sending but before acknowledging the job
		// runs the action again: the deliveries table keeps every recipient
		// from a second message.
		sys := tenancy.System(context.Background())
		f.client.AutomationRun.UpdateOne(r).SetStatus(automationrun.StatusRunning).
			SetSteps(newSteps(r.Actions)).ExecX(sys)
		if err := e.work(context.Background(), runArgs{RunID: r.ID}); err != nil {
			t.Fatal(err)
		}
		check()
		// Half-done: 30 messages lost their record (as if the process died
		// before recording them); the retry sends exactly those.
		ids := f.client.Delivery.Query().Limit(30).IDsX(sys)
		f.client.Delivery.Update().Where(delivery.IDIn(ids...)).SetStatus(delivery.StatusPending).ExecX(sys)
		f.client.AutomationRun.UpdateOne(r).SetStatus(automationrun.StatusRunning).SetSteps(newSteps(r.Actions)).ExecX(sys)
		if err := e.work(context.Background(), runArgs{RunID: r.ID}); err != nil {
			t.Fatal(err)
		}
		if n := len(smtp.Messages()); n != 130 {
			t.Errorf("%d messages after resending 30", n)
		}
	})
}

func (w workspace) ctxContact(t *testing.T, client *ent.Client, email string) {
	t.Helper()
	client.Contact.Create().SetLastName("Other").SetTitle("Buyer").SetEmail(email).ExecX(w.ctx)
}

func TestGroupEmailOverLimitFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		smtp := automationtest.NewSMTPReceiver(t)
		builders := make([]*ent.ContactCreate, 0, 101)
		for i := range MaxRecipients + 1 {
			builders = append(builders, f.client.Contact.Create().SetLastName("C").SetEmail(fmt.Sprintf("c%d@example.com", i)))
		}
		f.client.Contact.CreateBulk(builders...).ExecX(f.a.ctx)
		f.a.automation(t, f.client, Input{Name: "too many", Event: "deal.created", Actions: []map[string]any{{"type": "send_email",
			"recipients": map[string]any{"field": "contact.last_name", "op": "eq", "value": "C"}, "subject": "x"}}})
		f.engine(t, func(c *Config) { c.SMTPAddr, c.SMTPFrom = smtp.Addr, "crm@example.com" })
		f.a.deal(t, f.client, "D", "Qualified", 1)
		eventually(t, "the run", func() bool { return finished(runs(t, f.client), 1) })
		if r := runs(t, f.client)[0]; r.Status != automationrun.StatusFailed || !strings.Contains(r.Error, "more than 100") {
			t.Errorf("run %s %q", r.Status, r.Error)
		}
		if n := len(smtp.Messages()); n != 0 {
			t.Errorf("%d messages sent", n)
		}
	})
}

type fakeScorer struct {
	mu    sync.Mutex
	calls []string
}

func (s *fakeScorer) ScoreRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.calls = append(s.calls, subjectType+":"+string(id)+":"+string(tenancy.FromContext(ctx).WorkspaceID))
	}
	return nil
}

func TestRunPluginAndTimeTrigger(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		sc := &fakeScorer{}
		f.a.automation(t, f.client, Input{Name: "idle deals", Schedule: map[string]any{"subject": "deal", "idle_days": 14},
			Condition: map[string]any{"field": "deal.status", "op": "eq", "value": "open"},
			Actions:   []map[string]any{{"type": "run_plugin"}}})
		e := f.engine(t, func(c *Config) { c.Scorer = sc })
		idle := f.a.deal(t, f.client, "Idle", "Qualified", 1)
		won := f.a.deal(t, f.client, "Won", "Won", 1)
		f.b.deal(t, f.client, "Other", "Qualified", 1)
		_ = won
		n, err := e.Scan(context.Background(), time.Now().AddDate(0, 0, 15))
		if err != nil || n != 1 {
			t.Fatalf("Scan fired %d, %v", n, err)
		}
		if n, err := e.Scan(context.Background(), time.Now().AddDate(0, 0, 16)); err != nil || n != 0 {
			t.Fatalf("second Scan fired %d, %v", n, err)
		}
		if n, err := e.Scan(context.Background(), time.Now().AddDate(0, 0, 13)); err != nil || n != 0 {
			t.Fatalf("early Scan fired %d, %v", n, err)
		}
		eventually(t, "the run", func() bool { return finished(runs(t, f.client), 1) })
		r := runs(t, f.client)[0]
		if r.Status != automationrun.StatusSucceeded || r.SubjectID != idle.ID || r.Trigger != "schedule" {
			t.Fatalf("run %+v", r)
		}
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if len(sc.calls) != 1 || sc.calls[0] != "deal:"+string(idle.ID)+":"+string(f.a.id) {
			t.Errorf("scorer calls %v", sc.calls)
		}
	})
}

func TestRunPluginWithoutPluginsFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.a.automation(t, f.client, Input{Name: "rescore", Event: "lead.created", Actions: []map[string]any{{"type": "run_plugin"}}})
		f.engine(t, nil)
		f.client.Lead.Create().SetTitle("L").ExecX(f.a.ctx)
		eventually(t, "the run", func() bool { return finished(runs(t, f.client), 1) })
		if r := runs(t, f.client)[0]; r.Status != automationrun.StatusFailed || !strings.Contains(r.Error, "no plugins") {
			t.Errorf("run %s %q", r.Status, r.Error)
		}
	})
}

func TestRetryPolicy(t *testing.T) {
	p := retryPolicy{base: 10 * time.Second, max: time.Hour}
	tests := []struct {
		attempt int
		want    time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {9, 2560 * time.Second}, {10, time.Hour}, {100, time.Hour}}
	for _, tt := range tests {
		got := p.delay(tt.attempt)
		if got < tt.want*89/100 || got > tt.want*111/100 {
			t.Errorf("attempt %d: %v, want about %v", tt.attempt, got, tt.want)
		}
	}
	// Over 24 hours the defaults make a few dozen attempts, not thousands.
	d := retryPolicy{base: DefaultRetryBase, max: DefaultRetryMax}
	var total time.Duration
	n := 0
	for total < DefaultRetryFor {
		n++
		total += d.delay(n)
	}
	if n < 20 || n > 40 {
		t.Errorf("%d attempts in 24 h", n)
	}
}

func TestAssignOwnerByRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		big := f.client.Member.Create().SetName("Big deals").SetEmail("big@example.com").SaveX(f.a.ctx)
		small := f.client.Member.Create().SetName("Small deals").SetEmail("small@example.com").SaveX(f.a.ctx)
		f.a.automation(t, f.client, Input{Name: "route", Event: "deal.created", Actions: []map[string]any{{
			"type": "assign_owner", "strategy": "rule", "members": []any{string(small.ID)},
			"rules": []any{map[string]any{"when": map[string]any{"field": "deal.amount", "op": "gte", "value": 50000}, "member": string(big.ID)}},
		}}})
		if _, err := Create(f.a.ctx, f.client, Input{Name: "bad", Event: "deal.created", Actions: []map[string]any{{
			"type": "assign_owner", "strategy": "rule", "rules": []any{map[string]any{"when": map[string]any{"field": "deal.size", "op": "eq", "value": 1}, "member": string(big.ID)}},
		}}}); errcode.FieldOf(err) != "input.actions.0.rules.0.when.field" {
			t.Errorf("bad rule: %v", err)
		}
		f.engine(t, nil)
		d1 := f.a.deal(t, f.client, "Huge", "Qualified", 90000)
		d2 := f.a.deal(t, f.client, "Tiny", "Qualified", 10)
		eventually(t, "2 runs", func() bool { return finished(runs(t, f.client), 2) })
		if o := f.client.Deal.GetX(f.a.ctx, d1.ID).OwnerID; o == nil || *o != big.ID {
			t.Errorf("huge deal owner %v", o)
		}
		if o := f.client.Deal.GetX(f.a.ctx, d2.ID).OwnerID; o == nil || *o != small.ID {
			t.Errorf("tiny deal owner %v", o)
		}
	})
}
