package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// checkDemoSegments runs on a server started with --demo over db: the
// demo's segments are the bundled segmenters' output, their sizes match
// what `rapport plugin invoke` answers for the same subjects, a second
// run moves nobody, and giving a prospect its first order moves exactly
// that contact, once, firing an automation on segment.entered once.
func checkDemoSegments(t *testing.T, s *server, db string) {
	t.Helper()
	q := func(query string) map[string]any {
		t.Helper()
		status, out := s.query(t, s.token, query)
		if status != 200 || out["errors"] != nil {
			t.Fatalf("%s: %d %v", query, status, out)
		}
		return out["data"].(map[string]any)
	}
	var runs []string
	for _, e := range get(q(`{ segmentRuns(orderBy: {field: PLUGIN}) { edges { node { plugin subjectType trigger status failedBatches } } } }`), "segmentRuns", "edges").([]any) {
		n := get(e, "node")
		runs = append(runs, fmt.Sprintf("%s/%s/%s/%s/%v", get(n, "plugin"), get(n, "subjectType"), get(n, "trigger"), get(n, "status"), get(n, "failedBatches")))
	}
	sort.Strings(runs)
	if want := "idic@1.1.0/organization/demo/succeeded/0 valuechain@1.0.0/contact/demo/succeeded/0 valuechain@1.0.0/organization/demo/succeeded/0"; strings.Join(runs, " ") != want {
		t.Fatalf("demo segment runs:\n got %s\nwant %s", strings.Join(runs, " "), want)
	}
	// Stored sizes of the value chain's contact segments, by key.
	sizes := func() map[string]int {
		out := map[string]int{}
		for _, e := range get(q(`{ segments(first: 100) { edges { node { key managed binding { plugin subjectType } size(subjectType: contact) } } } }`), "segments", "edges").([]any) {
			n := get(e, "node")
			if get(n, "managed") != true {
				t.Fatalf("a hand-made segment in the demo: %v", n)
			}
			if get(n, "binding", "plugin") == "valuechain" && get(n, "binding", "subjectType") == "contact" {
				out[get(n, "key").(string)] = int(get(n, "size").(float64))
			}
		}
		return out
	}
	stored := sizes()
	// The same subjects through the plugin by hand.
	batch, err := run(t, "plugin", "batch", "--db", db, "-w", "demo", "--subject", "contact", "--plugin", "valuechain", "--point", "segment")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "batch.json")
	if err := os.WriteFile(file, []byte(batch), 0o644); err != nil {
		t.Fatal(err)
	}
	answer, err := run(t, "plugin", "invoke", filepath.Join("..", "..", "plugins", "valuechain"), "--point", "segment", "--input", file)
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]string
	if err := json.Unmarshal([]byte(answer), &keys); err != nil {
		t.Fatal(err)
	}
	invoked := map[string]int{}
	for _, ks := range keys {
		for _, k := range ks {
			invoked[k]++
		}
	}
	if fmt.Sprint(invoked) != fmt.Sprint(stored) || len(keys) < 500 {
		t.Fatalf("stored sizes %v, invoke answers %v over %d contacts", stored, invoked, len(keys))
	}

	// Nothing changed: the next run moves nobody.
	var out []map[string]any
	got, err := run(t, "segment", "--db", db, "-w", "demo", "--subject", "contact", "--plugin", "valuechain", "-o", "json")
	if err := json.Unmarshal([]byte(got), &out); err != nil || len(out) != 1 || out[0]["entered"] != 0.0 || out[0]["left"] != 0.0 || out[0]["stayed"] != float64(len(keys)) {
		t.Fatalf("second run: %v %s", err, got)
	}

	// A prospect's first order makes it a first-time customer.
	if stored["prospect"] == 0 {
		t.Fatal("the demo has no prospect to move")
	}
	prospect := get(q(`{ contacts(first: 1, where: {inSegment: "prospect"}, orderBy: [{field: LAST_NAME}]) { edges { node { id } } } }`), "contacts", "edges", 0, "node", "id").(string)
	auto := get(q(`mutation { createAutomation(input: {name: "Welcome", event: "segment.entered",
		condition: {field: "segment.key", op: "eq", value: "first_time"},
		actions: [{type: "create_activity", subject: "Welcome {{contact.first_name}} ({{segment.name}})"}]}) { id } }`), "createAutomation", "id").(string)
	q(fmt.Sprintf(`mutation { createOrder(input: {number: "SEG-1", amount: "120.00", currency: "USD", orderedAt: "%s", contactID: "%s"}) { id } }`,
		time.Now().UTC().Add(-24*time.Hour).Format(time.RFC3339), prospect))
	got, err = run(t, "segment", "--db", db, "-w", "demo", "--subject", "contact", "--plugin", "valuechain", "-o", "json")
	if err := json.Unmarshal([]byte(got), &out); err != nil || len(out) != 1 || out[0]["entered"] != 1.0 || out[0]["left"] != 1.0 {
		t.Fatalf("run after the order: %v %s", err, got)
	}
	after := sizes()
	if after["prospect"] != stored["prospect"]-1 || after["first_time"] != stored["first_time"]+1 {
		t.Fatalf("sizes before %v, after %v", stored, after)
	}
	if segs := get(q(fmt.Sprintf(`{ node(id: "%s") { ... on Contact { segments { key source } } } }`, prospect)), "node", "segments"); fmt.Sprint(segs) != "[map[key:first_time source:valuechain@1.0.0]]" {
		t.Fatalf("the contact's segments: %v", segs)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		d := q(fmt.Sprintf(`{ automationRuns(where: {automationID: "%s"}) { totalCount edges { node { status subjectID } } } }`, auto))
		if get(d, "automationRuns", "totalCount").(float64) == 1 && get(d, "automationRuns", "edges", 0, "node", "status") == "succeeded" {
			if get(d, "automationRuns", "edges", 0, "node", "subjectID") != prospect {
				t.Fatalf("the automation ran for %v", d)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the automation on segment.entered did not run once: %v", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // a second run would show by now
	if n := get(q(fmt.Sprintf(`{ automationRuns(where: {automationID: "%s"}) { totalCount } }`, auto)), "automationRuns", "totalCount"); n != 1.0 {
		t.Fatalf("%v runs of the automation, want 1", n)
	}
	runsOut, err := run(t, "segment", "runs", "--db", db, "-w", "demo", "--subject", "contact", "-o", "csv")
	if err != nil || strings.Count(runsOut, "\n") != 4 || !strings.Contains(runsOut, ",cli,succeeded,") {
		t.Fatalf("segment runs: %v\n%s", err, runsOut)
	}
}

// get walks a decoded JSON value by keys and indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

// TestSegmentKilled kills `rapport segment` with SIGKILL in the middle of
// a run over 20,000 contacts (twenty batches) and checks what it left: the batches it
// committed, each whole (every membership with its event, the run's counts
// matching), none of the rest, no duplicate membership; then a new run
// takes the dead run's lock over at once and completes the segmentation.
func TestSegmentKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 contacts")
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) { segmentKilled(t, storetest.URL(t, dialect)) })
	}
}

func segmentKilled(t *testing.T, db string) {
	const n = 20_000
	if _, err := run(t, "--db", db, "workspace", "create", "bulk"); err != nil {
		t.Fatal(err)
	}
	fill(t, db, "bulk", n)
	cmd := exec.Command(binary, "segment", "--db", db, "-w", "bulk", "--subject", "contact", "--plugin", "valuechain", "--version", "1.0.0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	// Kill it once a few batches are in.
	st := openForTest(t, db)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if b := st.batches(t); b >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run stored no batch in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed := st.consistent(t)
	if killed.segmented == 0 || killed.segmented >= n || killed.segmented%1000 != 0 {
		t.Fatalf("the killed run segmented %d contacts, want a whole number of batches short of %d", killed.segmented, n)
	}
	// A new run takes over at once (the killed process is gone) and
	// finishes: everyone is in exactly one lifecycle stage.
	out, err := run(t, "segment", "--db", db, "-w", "bulk", "--subject", "contact", "--plugin", "valuechain", "-o", "json")
	var rows []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Fatalf("the run after the kill: %v %s", err, out)
	}
	r := rows[0]
	if r["status"] != "succeeded" || r["subjects"] != float64(n) || r["entered"] != float64(n-killed.segmented) || r["stayed"] != float64(killed.segmented) || r["left"] != 0.0 {
		t.Fatalf("the run after the kill: %v (the killed one stored %d)", r, killed.segmented)
	}
	final := st.consistent(t)
	if final.open != n {
		t.Fatalf("%d open memberships, want one per contact (%d)", final.open, n)
	}
}

// testStore reads and writes a workspace of a database under test.
type testStore struct {
	st  *store.Store
	ctx context.Context
}

func openForTest(t *testing.T, db string) *testStore {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &testStore{st: st, ctx: tenancy.System(context.Background())}
}

// fill adds n contacts to the workspace, every 50th with an order.
func fill(t *testing.T, db, slug string, n int) {
	t.Helper()
	s := openForTest(t, db)
	ws, err := access.WorkspaceBySlug(s.ctx, s.st.Client, slug)
	if err != nil {
		t.Fatal(err)
	}
	ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	for lo := 0; lo < n; lo += 1000 {
		// As an import writes: a transaction per thousand, the trail
		// (timeline, events, rollups) gathered and written in bulk.
		tx, err := s.st.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c := tx.Client()
		ctx, trail := schema.Batched(ctx)
		bs := make([]*ent.ContactCreate, 0, 1000)
		for i := lo; i < min(lo+1000, n); i++ {
			bs = append(bs, c.Contact.Create().SetFirstName("C").SetLastName(fmt.Sprint(i)).SetEmail(fmt.Sprintf("c%d@example.test", i)))
		}
		cs, err := c.Contact.CreateBulk(bs...).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var os []*ent.OrderCreate
		for i, ct := range cs {
			if (lo+i)%50 == 0 {
				os = append(os, c.Order.Create().SetNumber(fmt.Sprint("O", lo+i)).SetAmount(crm.Money(10_000)).SetCurrency("USD").
					SetOrderedAt(time.Now().AddDate(0, -1, 0)).SetContactID(ct.ID))
			}
		}
		if err := c.Order.CreateBulk(os...).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := trail.Flush(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// batches is how many batches the newest segmentation run stored.
func (s *testStore) batches(t *testing.T) int {
	t.Helper()
	r, err := s.st.Client.SegmentRun.Query().Order(ent.Desc(segmentrun.FieldStartedAt)).First(s.ctx)
	if ent.IsNotFound(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return r.Batches
}

// runState is what consistent found of the first segmentation run.
type runState struct {
	segmented, open int
}

// consistent checks that every run's counts match the rows it left (its
// memberships, ended memberships and events, all or nothing per batch)
// and that no subject has two open memberships of one segment; it returns
// the first run's segmented count and the open memberships.
func (s *testStore) consistent(t *testing.T) runState {
	t.Helper()
	c := s.st.Client
	runs := c.SegmentRun.Query().Order(ent.Asc(segmentrun.FieldStartedAt)).AllX(s.ctx)
	if len(runs) == 0 {
		t.Fatal("no segmentation run")
	}
	entered, left := map[string]int{}, map[string]int{}
	for _, ev := range c.Event.Query().Where(event.TypeIn("segment.entered", "segment.left")).AllX(s.ctx) {
		for _, ch := range ev.Changes {
			if ch.Field == "run" {
				if ev.Type == "segment.entered" {
					entered[fmt.Sprint(ch.After)]++
				} else {
					left[fmt.Sprint(ch.After)]++
				}
			}
		}
	}
	for _, r := range runs {
		started := c.SegmentMembership.Query().Where(segmentmembership.RunID(r.ID)).CountX(s.ctx)
		ended := c.SegmentMembership.Query().Where(segmentmembership.EndedRunID(r.ID)).CountX(s.ctx)
		if started != r.Entered || entered[string(r.ID)] != r.Entered || ended != r.Left || left[string(r.ID)] != r.Left {
			t.Fatalf("run %s (%s): counts entered %d left %d; memberships started %d ended %d; events entered %d left %d",
				r.ID, r.Status, r.Entered, r.Left, started, ended, entered[string(r.ID)], left[string(r.ID)])
		}
		if r.Segmented != r.Entered+r.Stayed { // one lifecycle stage each
			t.Fatalf("run %s segmented %d, entered %d, stayed %d", r.ID, r.Segmented, r.Entered, r.Stayed)
		}
	}
	var dup []struct {
		SegmentID string `json:"segment_id"`
		SubjectID string `json:"subject_id"`
		Count     int    `json:"count"`
	}
	err := c.SegmentMembership.Query().Where(segmentmembership.EndedAtIsNil()).
		GroupBy(segmentmembership.FieldSegmentID, segmentmembership.FieldSubjectID).
		Aggregate(ent.Count()).Scan(s.ctx, &dup)
	if err != nil {
		t.Fatal(err)
	}
	open := 0
	for _, d := range dup {
		if d.Count != 1 {
			t.Fatalf("%d open memberships of %s in %s", d.Count, d.SubjectID, d.SegmentID)
		}
		open++
	}
	return runState{segmented: runs[0].Segmented, open: open}
}
