package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/automation"
	"github.com/rapportcrm/rapport/core/automation/automationtest"
	"github.com/rapportcrm/rapport/core/store/storetest"
)

const testSecret = "process-test-secret-0123456789"

// gql posts a query with variables and fails the test on any error.
func (s *server) gql(t *testing.T, token, q string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Data   map[string]any
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("%s: %v %v", q, err, out.Errors)
	}
	return out.Data
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAutomationDeliveryAcrossCrash runs the server as a process: moving
// a deal to a stage fires a signed webhook exactly once; a receiver down
// for 30 s gets the event once it is back; and a server killed with
// SIGKILL while deliveries are in flight delivers every pending event,
// none twice, after a restart.
func TestAutomationDeliveryAcrossCrash(t *testing.T) {
	// Mostly waits: on the receiver's downtime, retries and restarts.
	t.Parallel()
	down := 30 * time.Second
	if testing.Short() {
		down = 3 * time.Second
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			db := storetest.URL(t, dialect)
			if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
				t.Fatal(err)
			}
			token, err := run(t, "--db", db, "token", "create", "--workspace", "acme", "--role", "admin")
			if err != nil {
				t.Fatal(err)
			}
			token = strings.TrimSpace(token)
			smtp := automationtest.NewSMTPReceiver(t)
			flags := []string{"--retry-base", "200ms", "--retry-max", "2s", "--automation-poll", "100ms",
				"--webhook-timeout", "4s", "--job-timeout", "5s", "--job-rescue-after", "7s",
				"--smtp-addr", smtp.Addr, "--smtp-from", "crm@example.com", "--outbound-allow", "127.0.0.0/8"}
			recv := automationtest.NewWebhookReceiver(t, testSecret)
			recv.Down()
			s := startServer(t, db, flags...)

			p := s.gql(t, token, `mutation { createPipeline(input: {name: "Sales", isDefault: true}) { id } }`, nil)
			pid := p["createPipeline"].(map[string]any)["id"].(string)
			stages := map[string]string{}
			for i, name := range []string{"Qualified", "Proposal", "Won"} {
				kind := "open"
				if name == "Won" {
					kind = "won"
				}
				d := s.gql(t, token, `mutation($in: CreateStageInput!) { createStage(input: $in) { id } }`, map[string]any{"in": map[string]any{
					"name": name, "position": i, "pipelineID": pid, "kind": kind}})
				stages[name] = d["createStage"].(map[string]any)["id"].(string)
			}
			file := filepath.Join(t.TempDir(), "automation.json")
			spec := fmt.Sprintf(`{"name": "Proposals", "event": "deal.stage_changed",
				"condition": {"and": [{"field": "deal.stage", "op": "eq", "value": "Proposal"}, {"field": "deal.amount", "op": "gte", "value": 10000}]},
				"actions": [{"type": "webhook", "url": %q, "secret": %q}]}`, recv.URL, testSecret)
			if err := os.WriteFile(file, []byte(spec), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := run(t, "--db", db, "automation", "create", "--workspace", "acme", "--file", file); err != nil || !strings.HasPrefix(out, "aut_") {
				t.Fatalf("automation create: %q %v", out, err)
			}
			const buyers = 30
			var contacts []any
			for i := range buyers {
				contacts = append(contacts, map[string]any{"firstName": fmt.Sprintf("Buyer%02d", i), "lastName": "Doe",
					"title": "Buyer", "email": fmt.Sprintf("buyer%02d@example.com", i)})
			}
			s.gql(t, token, `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": contacts})
			mail := `{"name": "Announce wins", "event": "deal.stage_changed",
				"condition": {"field": "deal.stage", "op": "eq", "value": "Won"},
				"actions": [{"type": "send_email", "recipients": {"field": "contact.title", "op": "eq", "value": "Buyer"},
					"subject": "We won {{deal.name}}, {{contact.first_name}}", "body": "Dear {{contact.first_name}} {{contact.last_name}}"}]}`
			if _, err := run(t, "--db", db, "automation", "create", "--workspace", "acme", "--file", writeFile(t, mail)); err != nil {
				t.Fatal(err)
			}
			moveDeal := func(name string, amount int) string {
				d := s.gql(t, token, `mutation($in: CreateDealInput!) { createDeal(input: $in) { id } }`, map[string]any{"in": map[string]any{
					"name": name, "amount": fmt.Sprint(amount), "pipelineID": pid, "stageID": stages["Qualified"]}})
				id := d["createDeal"].(map[string]any)["id"].(string)
				s.gql(t, token, `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{"id": id, "s": stages["Proposal"]})
				return id
			}

			// 1. The receiver is down for a while; the event arrives after.
			first := moveDeal("First", 20000)
			moveDeal("Too small", 500)
			downSince := time.Now()
			waitFor(t, 2*time.Minute, "failed attempts while the receiver is down", func() bool {
				out, err := run(t, "--db", db, "automation", "deliveries", "--workspace", "acme", "-o", "json")
				return err == nil && strings.Contains(out, "destination unreachable") && time.Since(downSince) >= down
			})
			recv.Up(t)
			waitFor(t, 2*time.Minute, "the delayed webhook", func() bool { return len(recv.Hooks()) == 1 })

			// 2. Deliveries are in flight (the receiver holds them) when the
			// server is killed; a new server delivers them all, once.
			recv.Hang()
			smtp.HoldAfter(buyers / 3)
			want := map[string]bool{first: true}
			for i := range 8 {
				want[moveDeal(fmt.Sprintf("Deal %d", i), 15000+i)] = true
			}
			won := moveDeal("Won deal", 1)
			s.gql(t, token, `mutation($id: ID!, $s: ID!) { moveDeal(id: $id, stageID: $s) { id } }`, map[string]any{"id": won, "s": stages["Won"]})
			waitFor(t, 2*time.Minute, "deliveries in flight", func() bool {
				return recv.InFlight() >= 1 && smtp.InFlight() == 1 && len(smtp.Messages()) == buyers/3
			})
			if err := s.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = s.cmd.Wait()
			// The held requests end with their dead sender: none was
			// answered, so none counts as received.
			waitFor(t, time.Minute, "the held requests to end", func() bool { return recv.InFlight() == 0 })
			recv.Release()
			smtp.Release() // the held message's sender is gone: it never sends its data
			s = startServer(t, db, flags...)
			waitFor(t, 3*time.Minute, "every webhook after the restart", func() bool { return len(recv.Hooks()) >= len(want) })
			waitFor(t, 3*time.Minute, "every email after the restart", func() bool { return len(smtp.Messages()) >= buyers })
			perRecipient := map[string]int{}
			for _, m := range smtp.Messages() {
				perRecipient[m.To]++
				var n int
				if _, err := fmt.Sscanf(m.To, "buyer%02d@example.com", &n); err != nil || m.Subject != fmt.Sprintf("We won Won deal, Buyer%02d", n) {
					t.Errorf("message %+v", m)
				}
			}
			if len(perRecipient) != buyers {
				t.Errorf("%d recipients, want %d", len(perRecipient), buyers)
			}
			for to, n := range perRecipient {
				if n != 1 {
					t.Errorf("%s got %d messages", to, n)
				}
			}

			seen := map[string]bool{}
			bySubject := map[string]int{}
			for _, h := range recv.Hooks() {
				if !h.SignatureOK || h.Event != "deal.stage_changed" {
					t.Errorf("hook %+v", h)
				}
				if seen[h.Delivery] {
					t.Errorf("delivery %s received twice", h.Delivery)
				}
				seen[h.Delivery] = true
				var p automation.Payload
				if err := json.Unmarshal(h.Body, &p); err != nil {
					t.Fatal(err)
				}
				bySubject[p.Subject.ID]++
			}
			for id := range want {
				if bySubject[id] != 1 {
					t.Errorf("deal %s: %d webhooks", id, bySubject[id])
				}
			}
			if len(bySubject) != len(want) {
				t.Errorf("webhooks for %d deals, want %d", len(bySubject), len(want))
			}
			waitFor(t, time.Minute, "every run to succeed", func() bool {
				d := s.gql(t, token, `{ automationRuns(where: {status: succeeded}) { totalCount } }`, nil)
				return d["automationRuns"].(map[string]any)["totalCount"].(float64) == float64(len(want)+1)
			})
			res, err := http.Get(s.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			metrics, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(metrics), `rapport_automation_runs_total{status="succeeded"}`) {
				t.Error("/metrics lacks rapport_automation_runs_total")
			}
			out, err := run(t, "--db", db, "automation", "runs", "--workspace", "acme", "--status", "succeeded", "-o", "csv")
			if err != nil || strings.Count(out, "deal.stage_changed") != len(want)+1 {
				t.Errorf("automation runs: %v\n%s", err, out)
			}
			s.stop(t)
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "file.json")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAutomationCommands(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.URL(t, dialect)
			if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
				t.Fatal(err)
			}
			if _, err := run(t, "--db", db, "workspace", "create", "other"); err != nil {
				t.Fatal(err)
			}
			bad := writeFile(t, `{"name": "x", "event": "contact.created", "actions": [{"type": "create_activity", "subject": "Call {{contact.nickname}}"}]}`)
			_, err := run(t, "--db", db, "automation", "create", "-w", "acme", "-f", bad)
			if err == nil || !strings.Contains(err.Error(), "input.actions.0.subject") || !strings.Contains(err.Error(), "contact.nickname") {
				t.Fatalf("bad template: %v", err)
			}
			good := writeFile(t, fmt.Sprintf(`{"name": "Hook", "event": "contact.created", "actions": [{"type": "webhook", "url": "https://example.com/h", "secret": %q}]}`, testSecret))
			id, err := run(t, "--db", db, "automation", "create", "-w", "acme", "-f", good)
			if err != nil {
				t.Fatal(err)
			}
			id = strings.TrimSpace(id)
			list := func(ws string) []map[string]any {
				out, err := run(t, "--db", db, "automation", "list", "-w", ws, "-o", "json")
				if err != nil {
					t.Fatal(err)
				}
				var rows []map[string]any
				if err := json.Unmarshal([]byte(out), &rows); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				return rows
			}
			rows := list("acme")
			if len(rows) != 1 || rows[0]["id"] != id || rows[0]["enabled"] != true || strings.Contains(toJSON(rows[0]["actions"]), testSecret) {
				t.Fatalf("list %v", rows)
			}
			if rows := list("other"); len(rows) != 0 {
				t.Errorf("other workspace lists %v", rows)
			}
			if _, err := run(t, "--db", db, "automation", "disable", "-w", "other", id); err == nil {
				t.Error("other workspace disabled acme's automation")
			}
			if _, err := run(t, "--db", db, "automation", "disable", "-w", "acme", id); err != nil {
				t.Fatal(err)
			}
			if rows := list("acme"); rows[0]["enabled"] != false {
				t.Errorf("after disable %v", rows)
			}
			if _, err := run(t, "--db", db, "automation", "delete", "-w", "acme", id); err != nil {
				t.Fatal(err)
			}
			if rows := list("acme"); len(rows) != 0 {
				t.Errorf("after delete %v", rows)
			}
			out, err := run(t, "--db", db, "automation", "runs", "-w", "acme", "-o", "csv")
			if err != nil || strings.TrimSpace(out) != "id,automation,trigger,subject,status,attempts,steps,fired_at,error" {
				t.Errorf("runs %q %v", out, err)
			}

			// A cron schedule: listed with its next tick.
			badZone := writeFile(t, `{"name": "x", "schedule": {"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Atlantis"},
				"actions": [{"type": "create_activity", "subject": "Follow up"}]}`)
			if _, err := run(t, "--db", db, "automation", "create", "-w", "acme", "-f", badZone); err == nil ||
				!strings.Contains(err.Error(), "input.schedule.timezone") || !strings.Contains(err.Error(), "Europe/Atlantis") {
				t.Errorf("unknown zone: %v", err)
			}
			weekly := writeFile(t, `{"name": "Weekly", "schedule": {"subject": "deal", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"},
				"actions": [{"type": "create_activity", "subject": "Follow up"}]}`)
			if _, err := run(t, "--db", db, "automation", "create", "-w", "acme", "-f", weekly); err != nil {
				t.Fatal(err)
			}
			rows = list("acme")
			if len(rows) != 1 || !strings.Contains(fmt.Sprint(rows[0]["trigger"]), `"cron":"0 9 * * 1"`) || !strings.Contains(fmt.Sprint(rows[0]["trigger"]), `"timezone":"Europe/Berlin"`) {
				t.Fatalf("list %v", rows)
			}
			nextRun, _ := rows[0]["next_run"].(string)
			next, err := time.Parse(time.RFC3339, nextRun)
			berlin, _ := time.LoadLocation("Europe/Berlin")
			if in := next.In(berlin); err != nil || in.Weekday() != time.Monday || in.Hour() != 9 || !next.After(time.Now()) {
				t.Errorf("next_run %q (%v in Berlin) %v", rows[0]["next_run"], in, err)
			}
		})
	}
}

// TestWorkerProcess: an API server without workers and a separate worker
// process share the work through the database.
func TestWorkerProcess(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.URL(t, dialect)
			if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
				t.Fatal(err)
			}
			token, err := run(t, "--db", db, "token", "create", "--workspace", "acme", "--role", "admin")
			if err != nil {
				t.Fatal(err)
			}
			token = strings.TrimSpace(token)
			recv := automationtest.NewWebhookReceiver(t, testSecret)
			if _, err := run(t, "--db", db, "automation", "create", "-w", "acme", "-f", writeFile(t, fmt.Sprintf(
				`{"name": "Hook", "event": "contact.created", "actions": [{"type": "webhook", "url": %q, "secret": %q}]}`, recv.URL, testSecret))); err != nil {
				t.Fatal(err)
			}
			s := startServer(t, db, "--workers=false")
			s.gql(t, token, `mutation { createContact(input: {lastName: "Lovelace"}) { id } }`, nil)
			w := startWorker(t, db, "--automation-poll", "100ms", "--outbound-allow", "127.0.0.0/8")
			waitFor(t, 2*time.Minute, "the webhook", func() bool { return len(recv.Hooks()) == 1 })
			if h := recv.Hooks()[0]; !h.SignatureOK || h.Event != "contact.created" {
				t.Errorf("hook %+v", h)
			}
			w.stop(t)
			s.stop(t)
		})
	}
}

// startWorker runs `rapport worker` until the test ends.
func startWorker(t *testing.T, db string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"worker"}, args...)...)
	cmd.Env = append(os.Environ(), "RAPPORT_DB="+db)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if strings.Contains(lines.Text(), "automation workers running") {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("worker exited: %s", stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("worker did not start: %s", stderr.String())
	}
	return &server{cmd: cmd}
}
