package graph_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/automation/automationtest"
)

const createAutomation = `mutation($in: AutomationInput!) { createAutomation(input: $in) { id name enabled event condition actions } }`

const hookSecret = "graph-test-secret-0123456789"

func TestAutomationsOverGraphQL(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		recv := automationtest.NewWebhookReceiver(t, hookSecret)
		pid, stages := e.pipeline("a", "Sales")
		e.pipeline("b", "Sales")

		// A template naming an unknown field is refused at save time.
		bad := e.fail("a", createAutomation, map[string]any{"in": map[string]any{
			"name": "x", "event": "deal.stage_changed",
			"actions": []any{map[string]any{"type": "send_email", "to": "{{contact.email}}", "subject": "Hi", "body": "{{contact.nickname}}"}},
		}}, "BAD_USER_INPUT")
		if bad.field() != "input.actions.0.body" || !strings.Contains(bad.Message, "contact.nickname") {
			t.Errorf("error %+v", bad)
		}
		// Viewers cannot create automations.
		e.fail("aViewer", createAutomation, map[string]any{"in": map[string]any{
			"name": "x", "event": "deal.created", "actions": []any{map[string]any{"type": "webhook", "url": recv.URL, "secret": hookSecret}},
		}}, "FORBIDDEN")

		d := e.ok("a", createAutomation, map[string]any{"in": map[string]any{
			"name": "Proposals", "event": "deal.stage_changed",
			"condition": map[string]any{"and": []any{
				map[string]any{"field": "deal.stage", "op": "eq", "value": "Proposal"},
				map[string]any{"field": "deal.amount", "op": "gte", "value": 10000},
			}},
			"actions": []any{map[string]any{"type": "webhook", "url": recv.URL, "secret": hookSecret}},
		}})
		autID := str(d, "createAutomation", "id")
		if got := str(d, "createAutomation", "actions", 0, "secret"); got != "********" {
			t.Errorf("secret shown as %q", got)
		}
		if n := num(e.ok("b", `{ automations { totalCount } }`, nil), "automations", "totalCount"); n != 0 {
			t.Errorf("B sees %v automations", n)
		}
		if types := get(e.ok("a", `{ automationEventTypes }`, nil), "automationEventTypes").([]any); len(types) < 10 {
			t.Errorf("event types %v", types)
		}

		eng, err := automation.New(context.Background(), automation.Config{Store: e.st, PollInterval: 50 * time.Millisecond,
			OutboundAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		if err != nil {
			t.Fatal(err)
		}
		if err := automation.Migrate(context.Background(), e.st); err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = eng.Stop(context.Background()) })

		deal := str(e.ok("a", `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"name": "Big", "amount": "15000.00", "pipelineID": pid, "stageID": stages["Lead"]}}), "createDeal", "id")
		e.ok("a", `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{"id": deal, "s": stages["Proposal"]})

		const runsQuery = `{ automationRuns(where: {status: succeeded}) { totalCount edges { node {
			trigger subjectID status attempts actions automation { id } steps { type status attempts }
			deliveries { kind status attempts responseStatus target } } } } }`
		deadline := time.Now().Add(90 * time.Second)
		var runs map[string]any
		for {
			runs = e.ok("a", runsQuery, nil)
			if num(runs, "automationRuns", "totalCount") == 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		run := get(runs, "automationRuns", "edges", 0, "node")
		if str(run, "trigger") != "deal.stage_changed" || str(run, "subjectID") != deal || str(run, "automation", "id") != autID ||
			str(run, "steps", 0, "status") != "succeeded" || str(run, "deliveries", 0, "status") != "delivered" ||
			num(run, "deliveries", 0, "responseStatus") != 204 {
			t.Fatalf("run %v", run)
		}
		if got := str(run, "actions", 0, "secret"); got != "********" {
			t.Errorf("run shows secret %q", got)
		}
		if hooks := recv.Hooks(); len(hooks) != 1 || !hooks[0].SignatureOK {
			t.Errorf("hooks %+v", hooks)
		}
		if n := num(e.ok("a", `{ deliveries(where: {kind: webhook}) { totalCount } }`, nil), "deliveries", "totalCount"); n != 1 {
			t.Errorf("delivery log has %v", n)
		}
		if n := num(e.ok("b", `{ automationRuns { totalCount } deliveries { totalCount } }`, nil), "automationRuns", "totalCount"); n != 0 {
			t.Errorf("B sees %v runs", n)
		}

		// Update keeps a masked secret, disable, delete.
		u := e.ok("a", `mutation($id: ID!, $in: AutomationInput!) { updateAutomation(id: $id, input: $in) { name actions } }`, map[string]any{"id": autID, "in": map[string]any{
			"name": "Renamed", "event": "deal.stage_changed",
			"actions": []any{map[string]any{"type": "webhook", "url": recv.URL, "secret": "********"}},
		}})
		if str(u, "updateAutomation", "name") != "Renamed" {
			t.Errorf("update %v", u)
		}
		e.fail("b", `mutation($id: ID!) { setAutomationEnabled(id: $id, enabled: false) { id } }`, map[string]any{"id": autID}, "NOT_FOUND")
		if en := get(e.ok("a", `mutation($id: ID!) { setAutomationEnabled(id: $id, enabled: false) { enabled } }`, map[string]any{"id": autID}), "setAutomationEnabled", "enabled"); en != false {
			t.Errorf("enabled %v", en)
		}
		e.ok("a", `mutation($id: ID!) { deleteAutomation(id: $id) }`, map[string]any{"id": autID})
		if n := num(e.ok("a", `{ automations { totalCount } automationRuns { totalCount } }`, nil), "automationRuns", "totalCount"); n != 1 {
			t.Errorf("runs after delete: %v", n)
		}
	})
}

func TestCronAutomationOverGraphQL(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		bad := e.fail("a", createAutomation, map[string]any{"in": map[string]any{
			"name": "x", "schedule": map[string]any{"subject": "deal", "cron": "* * * * *"},
			"actions": []any{map[string]any{"type": "create_activity", "subject": "Call"}},
		}}, "BAD_USER_INPUT")
		if bad.field() != "input.schedule.cron" || !strings.Contains(bad.Message, "5 minutes") {
			t.Errorf("error %+v", bad)
		}
		d := e.ok("a", `mutation($in: AutomationInput!) { createAutomation(input: $in) { id schedule nextRunAt } }`, map[string]any{"in": map[string]any{
			"name": "Weekly follow-up", "schedule": map[string]any{"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "idle_days": 14},
			"actions": []any{map[string]any{"type": "create_activity", "subject": "Follow up on {{deal.name}}"}},
		}})
		if str(d, "createAutomation", "schedule", "cron") != "0 9 * * 1" || str(d, "createAutomation", "schedule", "timezone") != "Europe/Berlin" {
			t.Errorf("schedule %v", get(d, "createAutomation", "schedule"))
		}
		next, err := time.Parse(time.RFC3339, str(d, "createAutomation", "nextRunAt"))
		berlin, _ := time.LoadLocation("Europe/Berlin")
		if err != nil || !next.After(time.Now()) || next.Sub(time.Now()) > 7*24*time.Hour {
			t.Fatalf("nextRunAt %v %v", next, err)
		}
		if in := next.In(berlin); in.Weekday() != time.Monday || in.Hour() != 9 || in.Minute() != 0 {
			t.Errorf("nextRunAt %v is not a Monday at 09:00 in Berlin", in)
		}
		id := str(d, "createAutomation", "id")
		off := e.ok("a", `mutation($id: ID!) { setAutomationEnabled(id: $id, enabled: false) { nextRunAt } }`, map[string]any{"id": id})
		if v := get(off, "setAutomationEnabled", "nextRunAt"); v != nil {
			t.Errorf("disabled automation's nextRunAt %v", v)
		}
	})
}
