package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	entstage "github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// Sizes of the workspace BenchmarkWebApp measures.
const (
	benchContacts      = 50_000
	benchOrganizations = 500
	benchDeals         = 1_000 // all open, in one pipeline
)

// interactiveScript runs in every document before the app's own script:
// when an element gets data-loaded="true" (the board and the lists set it
// once their DOM is built) it records performance.now(), the time since
// the navigation started, in window.__loadedAt, and after the next frame
// (style, layout and paint of that DOM) in window.__interactiveAt.
const interactiveScript = `new MutationObserver((records, o) => {
	for (const r of records) {
		if (r.target.dataset && r.target.dataset.loaded === "true") {
			o.disconnect();
			window.__loadedAt = performance.now();
			requestAnimationFrame(() => setTimeout(() => { window.__interactiveAt = performance.now(); }, 0));
			return;
		}
	}
}).observe(document, {subtree: true, attributes: true, attributeFilter: ["data-loaded"]});`

// BenchmarkWebApp measures the web app in Chromium against `rapport serve`
// on SQLite, in a workspace seeded with 50,000 contacts and a
// pipeline of 1,000 open deals: board-ms is the time from navigating to
// /board/<pipeline> until the board's DOM is built and painted (its
// data-loaded marker set, and the next frame), contacts-ms the same for
// /contacts. Each iteration loads both pages afresh. The seeding (the
// store's bulk inserts, before the server starts) and the sign-up happen
// once, before the measured loop. Without Chromium it is skipped, unless
// RAPPORT_REQUIRE_BROWSER=1.
func BenchmarkWebApp(b *testing.B) {
	chromium(b)
	db := storetest.URL(b, "sqlite")
	t0 := time.Now()
	pipeline := seedWebBench(b, db)
	b.Logf("seeded the workspace with %d contacts, %d organizations and %d deals in %v", benchContacts, benchOrganizations, benchDeals, time.Since(t0).Round(time.Millisecond))
	s := startServer(b, db)
	untilReady(b, s.url)

	br := newBrowser(b)
	ctx := br.ctx
	invite, err := run(b, "member", "invite", "--db", db, "--workspace", "bench", "--email", "bench@example.com", "--role", "member", "--base-url", s.url)
	if err != nil {
		b.Fatalf("member invite: %v", err)
	}
	br.do(b, "sign up",
		chromedp.Navigate(strings.TrimSpace(invite)), visible("#name"),
		typeIn("#name", "Bench Mark"), typeIn("#password", "a good long password"),
		click(`#signup button[type=submit]`), atPath("/board"),
		until(`document.querySelector('#board')?.dataset.loaded === 'true'`))
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: interactiveScript}); err != nil {
		b.Fatal(err)
	}

	// load navigates to path and answers the times (ms since the
	// navigation started) until the DOM was built and until it was painted.
	load := func(path string) (loaded, interactive float64) {
		b.Helper()
		br.do(b, "load "+path, chromedp.Navigate(s.url+path), atPath(path), until(`window.__interactiveAt !== undefined`))
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[window.__loadedAt, window.__interactiveAt]`))
		if err != nil || len(v) != 2 {
			b.Fatalf("timings of %s: %v %v", path, v, err)
		}
		return v[0], v[1]
	}
	board := "/board/" + pipeline
	check := func() {
		b.Helper()
		// The board shows every deal of the pipeline in its open columns.
		load(board)
		counts, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[...document.querySelectorAll('#board .column .count')].map(c => parseInt(c.textContent, 10))`))
		if err != nil {
			b.Fatal(err)
		}
		sum := 0
		for _, c := range counts {
			sum += c
		}
		if sum != benchDeals || len(counts) != 7 {
			b.Fatalf("the board counts %v deals in %d columns, want %d in 7", sum, len(counts), benchDeals)
		}
		// The contacts list shows its first page of all contacts.
		load("/contacts")
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#list-count')?.textContent ?? ''`))
		if err != nil {
			b.Fatal(err)
		}
		first, total, ok := strings.Cut(got, " of ")
		n, _ := strconv.Atoi(total)
		if !ok || first == "0" || n < benchContacts {
			b.Fatalf("the contacts list shows %q, want a page of at least %d", got, benchContacts)
		}
	}
	check() // also warms the server's and the browser's caches
	// Where a board load spends its time, for the log: the navigation's
	// phases and each request, in ms since the navigation started.
	load(board)
	phases, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		dom: Math.round(performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0),
		marks: performance.getEntriesByType('mark').map(e => [e.name, Math.round(e.startTime)]),
		requests: performance.getEntriesByType('resource').map(e => [new URL(e.name).pathname, Math.round(e.startTime), Math.round(e.responseEnd)]),
		loaded: Math.round(window.__loadedAt), interactive: Math.round(window.__interactiveAt)})`))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("a board load: %s", phases)

	var boardMS, boardDOM, contactsMS, contactsDOM float64
	n := 0
	for b.Loop() {
		dom, ms := load(board)
		boardMS += ms
		boardDOM += dom
		dom, ms = load("/contacts")
		contactsMS += ms
		contactsDOM += dom
		n++
	}
	b.ReportMetric(boardMS/float64(n), "board-ms")
	b.ReportMetric(boardDOM/float64(n), "board-dom-ms")
	b.ReportMetric(contactsMS/float64(n), "contacts-ms")
	b.ReportMetric(contactsDOM/float64(n), "contacts-dom-ms")
}

// untilReady polls url's /readyz until the server answers ready (its
// plugins loaded), so that their start does not share the measured time.
func untilReady(b *testing.B, url string) {
	b.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		res, err := http.Get(url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("not ready within two minutes: %v", err)
		}
	}
}

// seedWebBench creates the workspace "bench" in the database db with the
// benchmark's organizations, contacts and a pipeline of open deals,
// written with the store's bulk inserts in one transaction, and returns
// the pipeline's ID. It runs before the server starts.
func seedWebBench(b *testing.B, db string) string {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := run(b, "--db", db, "workspace", "create", "bench", "--name", "Bench"); err != nil {
		b.Fatalf("workspace create: %v", err)
	}
	ws, err := st.Client.Workspace.Query().Where(workspace.Slug("bench")).Only(tenancy.System(tenancy.NewContext(ctx, nil)))
	if err != nil {
		b.Fatal(err)
	}
	// As a restore writes, without timeline entries and events, which the
	// pages measured do not read and the automation worker would work
	// through while they are measured; the links checked once per record
	// linked, as an import does.
	ctx = tenancy.Untrailed(tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}))
	ctx, trail := schema.Batched(ctx)
	tx, err := st.Client.Tx(ctx)
	if err != nil {
		b.Fatal(err)
	}
	pipeline, err := seedWebBenchTx(ctx, tx.Client())
	if err == nil {
		err = trail.Flush(ctx, tx.Client())
	}
	if err != nil {
		_ = tx.Rollback()
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return string(pipeline)
}

func seedWebBenchTx(ctx context.Context, c *ent.Client) (pulid.ID, error) {
	const batch = 500 // rows an insert holds
	industries := []string{"Retail", "Software", "Energy", "Health"}
	var orgs []pulid.ID
	for lo := 0; lo < benchOrganizations; lo += batch {
		var bs []*ent.OrganizationCreate
		for i := lo; i < min(lo+batch, benchOrganizations); i++ {
			bs = append(bs, c.Organization.Create().SetName(fmt.Sprintf("Bench Org %04d", i)).
				SetDomain(fmt.Sprintf("org%04d.example.com", i)).SetIndustry(industries[i%len(industries)]))
		}
		saved, err := c.Organization.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return "", err
		}
		for _, o := range saved {
			orgs = append(orgs, o.ID)
		}
	}
	first := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Niklaus"}
	last := []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Wirth", "Ritchie", "Hamilton"}
	titles := []string{"CEO", "CTO", "Buyer", "Engineer", "Analyst"}
	var contacts []pulid.ID
	for lo := 0; lo < benchContacts; lo += batch {
		var bs []*ent.ContactCreate
		for i := lo; i < min(lo+batch, benchContacts); i++ {
			bs = append(bs, c.Contact.Create().SetFirstName(first[i%len(first)]).
				SetLastName(fmt.Sprintf("%s %05d", last[(i/7)%len(last)], i)).
				SetEmail(fmt.Sprintf("contact%05d@example.com", i)).
				SetTitle(titles[i%len(titles)]).
				SetOrganizationID(orgs[i%len(orgs)]))
		}
		saved, err := c.Contact.CreateBulk(bs...).Save(ctx)
		if err != nil {
			return "", err
		}
		for _, s := range saved {
			if len(contacts) < benchDeals {
				contacts = append(contacts, s.ID)
			}
		}
	}
	p, err := c.Pipeline.Create().SetName("Bench pipeline").Save(ctx)
	if err != nil {
		return "", err
	}
	kinds := []entstage.Kind{entstage.KindOpen, entstage.KindOpen, entstage.KindOpen, entstage.KindOpen, entstage.KindOpen, entstage.KindWon, entstage.KindLost}
	names := []string{"Qualified", "Discovery", "Proposal", "Negotiation", "Commit", "Won", "Lost"}
	probabilities := []float64{0.1, 0.2, 0.4, 0.6, 0.8, 1, 0}
	var ss []*ent.StageCreate
	for i := range names {
		ss = append(ss, c.Stage.Create().SetName(names[i]).SetPosition(i).SetProbability(probabilities[i]).SetKind(kinds[i]).SetPipelineID(p.ID))
	}
	stages, err := c.Stage.CreateBulk(ss...).Save(ctx)
	if err != nil {
		return "", err
	}
	var ds []*ent.DealCreate
	for i := 0; i < benchDeals; i++ {
		ds = append(ds, c.Deal.Create().SetName(fmt.Sprintf("Bench deal %04d", i)).
			SetAmount(crm.Money((1000+(i*7919)%250_000)*100)).
			SetPipelineID(p.ID).SetStageID(stages[i%5].ID).
			SetContactID(contacts[i]).SetOrganizationID(orgs[i%len(orgs)]))
	}
	for lo := 0; lo < len(ds); lo += batch {
		if err := c.Deal.CreateBulk(ds[lo:min(lo+batch, len(ds))]...).Exec(ctx); err != nil {
			return "", err
		}
	}
	return p.ID, nil
}

// TestWebBoardKeyboard moves a deal with the keyboard: the right arrow
// on a focused card moves it to the next stage, where it keeps the focus,
// and the left arrow moves it back; the API sees both moves.
func TestWebBoardKeyboard(t *testing.T) {
	t.Parallel()
	chromium(t)
	db := storetest.URL(t, "sqlite")
	s := startServer(t, db, "--demo")
	b := signedIn(t, s, db, "kim@example.com", "Kim Keys", "member")
	type pick struct {
		Deal string `json:"deal"`
		From string `json:"from"`
		To   string `json:"to"`
	}
	p := eval[pick](t, b, `(() => {
		const cols = [...document.querySelectorAll('#board .column')];
		const card = cols[0].querySelector('.card[data-deal]');
		return {deal: card?.dataset.deal ?? '', from: cols[0].dataset.stage, to: cols[1].dataset.stage};
	})()`)
	if p.Deal == "" {
		t.Fatal("the board's first column has no card")
	}
	in := func(stage string) string {
		return fmt.Sprintf(`document.activeElement?.dataset.deal === %q && !!document.querySelector('[data-stage=%q] [data-deal=%q]')`, p.Deal, stage, p.Deal)
	}
	stageOf := func() any {
		_, out := s.query(t, s.token, fmt.Sprintf(`{ node(id: %q) { ... on Deal { stageID } } }`, p.Deal))
		return dig(out, "data", "node", "stageID")
	}
	b.do(t, "focus and press right", js(fmt.Sprintf(`document.querySelector('[data-deal=%q]').focus()`, p.Deal)),
		chromedp.KeyEvent(kb.ArrowRight), until(in(p.To)), until(`/Moved/.test(document.querySelector('#board-announce').textContent)`))
	if got := stageOf(); got != p.To {
		t.Errorf("after the right arrow the deal is in %v, want %s", got, p.To)
	}
	b.do(t, "press left", chromedp.KeyEvent(kb.ArrowLeft), until(in(p.From)),
		until(fmt.Sprintf(`!document.querySelector('[data-stage=%q] [data-deal=%q]')`, p.To, p.Deal)))
	for deadline := time.Now().Add(10 * time.Second); stageOf() != p.From; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the left arrow the deal is in %v, want %s", stageOf(), p.From)
		}
	}
	b.screenshot(t, "board-keyboard")
	b.assertClean(t, s.url)
}
