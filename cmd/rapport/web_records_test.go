package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestWebRecords drives the record screens in Chromium against `rapport
// serve --demo`: the contacts list searched, filtered on a custom field
// and paged, kept in the URL; a record page with its fields, timeline and
// score bars; logging a call; the create form showing the server's field
// error; converting a lead; markup in a name shown as text; and another
// workspace's record not found.
func TestWebRecords(t *testing.T) {
	t.Parallel()
	chromium(t)
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.URL(t, dialect)
			s := startServer(t, db, "--demo")
			testWebRecords(t, s, db)
		})
	}
}

func testWebRecords(t *testing.T, s *server, db string) {
	api := func(token, q string) map[string]any {
		t.Helper()
		status, out := s.query(t, token, q)
		if status != 200 || out["errors"] != nil {
			t.Fatalf("%s: %d %v", q, status, out)
		}
		return out
	}
	// The data: a custom field, three contacts to find, a lead to convert,
	// a contact whose name is markup, and another workspace's contact.
	api(s.token, `mutation { plan: createCustomField(input: {entity: contact, key: "plan", label: "Plan", type: select, options: ["gold", "silver"]}) { id }
		seats: createCustomField(input: {entity: contact, key: "seats", label: "Seats", type: number}) { id }
		renewal: createCustomField(input: {entity: contact, key: "renewal", label: "Renewal", type: date}) { id } }`)
	out := api(s.token, `mutation {
		ann: createContact(input: {firstName: "Ann", lastName: "Quokka", email: "ann@quokka.example", customFields: {plan: "gold", seats: 10, renewal: "2027-03-01"}}) { id }
		ben: createContact(input: {firstName: "Ben", lastName: "Quokka", customFields: {plan: "silver", seats: 3}}) { id }
		cal: createContact(input: {firstName: "Cal", lastName: "Quokka", customFields: {plan: "gold", seats: 7}}) { id } }`)
	ann := dig(out, "data", "ann", "id").(string)
	const evil = `<script>window.__xss=1</script><img src=x onerror=window.__xss=2>`
	out = api(s.token, fmt.Sprintf(`mutation { evil: createContact(input: {firstName: %q, lastName: "Xss"}) { id }
		lead: createLead(input: {title: "Browser lead", firstName: "Lee", lastName: "Lead", company: "Leadco", estimatedValue: 5000}) { id } }`, evil))
	evilID := dig(out, "data", "evil", "id").(string)
	lead := dig(out, "data", "lead", "id").(string)
	out = api(s.token, `{ scores(first: 1, where: {subjectType: contact, valueGT: 0}, orderBy: [{field: VALUE, direction: DESC}]) { edges { node { subjectID explanation { name } } } } }`)
	scored, _ := dig(out, "data", "scores", "edges", 0, "node", "subjectID").(string)
	if scored == "" || dig(out, "data", "scores", "edges", 0, "node", "explanation", 0, "name") == nil {
		t.Fatalf("the demo has no contact scored with an explanation: %v", out)
	}
	if _, err := run(t, "--db", db, "workspace", "create", "elsewhere", "--name", "Elsewhere"); err != nil {
		t.Fatal(err)
	}
	tok, err := run(t, "--db", db, "token", "create", "--workspace", "elsewhere", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	out = api(strings.TrimSpace(tok), `mutation { createContact(input: {firstName: "Not", lastName: "Yours"}) { id } }`)
	foreign := dig(out, "data", "createContact", "id").(string)

	b := signedIn(t, s, db, "rita@example.com", "Rita Records", "member")
	base := s.url
	listReady := `document.querySelector('#list')?.dataset.loaded === 'true'`
	rows := func() []string {
		t.Helper()
		return eval[[]string](t, b, `[...document.querySelectorAll('#list tbody a.row-link')].map(a => a.textContent)`)
	}

	// The list, a page at a time.
	b.do(t, "contacts", click(`nav a[href="/contacts"]`), atPath("/contacts"), until(listReady))
	count := text(t, b, "#list-count")
	m := regexp.MustCompile(`^100 of (\d+)$`).FindStringSubmatch(count)
	if m == nil {
		t.Fatalf("contacts list count %q", count)
	}
	total, _ := strconv.Atoi(m[1])
	if total <= 100 {
		t.Fatalf("only %d contacts: cannot page", total)
	}
	first := rows()
	b.screenshot(t, "contacts-list")
	b.do(t, "next page", click("#list-next"), until(`location.search.includes('after=')`), until(listReady),
		until(`document.querySelector('#list-range').textContent.startsWith('101–')`))
	if second := rows(); len(second) == 0 || second[0] == first[0] {
		t.Errorf("the second page starts with %v, the first with %q", second, first[0])
	}
	if got := text(t, b, "#list-range"); got != fmt.Sprintf("101–%d of %d", min(200, total), total) {
		t.Errorf("second page range %q", got)
	}
	b.do(t, "previous page", click("#list-prev"), until(listReady), until(`document.querySelector('#list-range').textContent.startsWith('1–')`))
	if again := rows(); len(again) != len(first) || again[0] != first[0] {
		t.Errorf("back on the first page: %v", again)
	}

	// Search, then a custom field filter: both in the URL, kept on reload.
	b.do(t, "search", typeIn("#list-search", "Quokka"), click("#filter-apply"),
		until(`location.search.includes('q=Quokka')`), until(listReady))
	if got := strings.Join(rows(), ","); got != "Ann Quokka,Ben Quokka,Cal Quokka" {
		t.Errorf("search shows %q", got)
	}
	if got := text(t, b, "#list-count"); got != "3 of 3" {
		t.Errorf("search count %q", got)
	}
	setSelect := func(sel, v string) step {
		return js(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change')); return s.value })()`, sel, v))
	}
	b.do(t, "custom field filter", setSelect("#filter-cf-key", "plan"), until(`document.querySelector('#filter-cf-value')?.tagName === 'SELECT'`),
		setSelect("#filter-cf-value", "gold"), click("#filter-apply"), until(`location.search.includes('cf=plan')`), until(listReady))
	if got := strings.Join(rows(), ","); got != "Ann Quokka,Cal Quokka" {
		t.Errorf("plan = gold shows %q", got)
	}
	b.do(t, "reload the filtered list", chromedp.Reload(), until(listReady))
	if got := strings.Join(rows(), ","); got != "Ann Quokka,Cal Quokka" ||
		eval[string](t, b, `document.querySelector('#list-search').value + '/' + document.querySelector('#filter-cf-key').value + '/' + document.querySelector('#filter-cf-value').value`) != "Quokka/plan/gold" {
		t.Errorf("after a reload the list shows %q", got)
	}
	b.screenshot(t, "contacts-filtered")
	b.do(t, "number filter", setSelect("#filter-cf-key", "seats"), until(`document.querySelector('#filter-cf-value')?.type === 'number'`),
		setSelect("#filter-cf-op", "LT"), typeIn("#filter-cf-value", "5"), click("#filter-apply"),
		until(`location.search.includes('cf=seats')`), until(listReady))
	if got := strings.Join(rows(), ","); got != "Ben Quokka" {
		t.Errorf("seats < 5 shows %q", got)
	}
	b.do(t, "back", js(`history.back()`), until(`location.search.includes('cf=plan')`), until(listReady))
	if got := strings.Join(rows(), ","); got != "Ann Quokka,Cal Quokka" {
		t.Errorf("back shows %q", got)
	}
	b.do(t, "sort", click(`#list th button[data-sort="EMAIL"]`), until(`location.search.includes('sort=EMAIL')`), until(listReady))

	// A record page: fields, custom fields by type, timeline; log a call.
	recordReady := `document.querySelector('#record-fields')?.dataset.loaded === 'true' && document.querySelector('#timeline')?.dataset.loaded === 'true'`
	b.do(t, "open a record", js(`[...document.querySelectorAll('#list a.row-link')].find(a => a.textContent === 'Ann Quokka').click()`), atPath("/contacts/"+ann), until(recordReady))
	if got := text(t, b, "#record-title"); got != "Ann Quokka" {
		t.Errorf("record title %q", got)
	}
	for sel, want := range map[string]string{
		`#record-fields`:                      "ann@quokka.example",
		`[data-field="customFields.plan"]`:    "gold",
		`[data-field="customFields.seats"]`:   "10",
		`[data-field="customFields.renewal"]`: "Mar 1, 2027",
		`#timeline`:                           "Created",
	} {
		if got := text(t, b, sel); !strings.Contains(got, want) {
			t.Errorf("%s shows %q, want %q in it", sel, got, want)
		}
	}
	b.do(t, "log a call", setSelect("#log-kind", "call"), typeIn("#log-subject", "Discussed the renewal"), typeIn("#log-body", "Wants two more seats."),
		click("#log-submit"), until(`[...document.querySelectorAll('#timeline li[data-kind="call"]')].some(li => li.textContent.includes('Discussed the renewal'))`))
	if got := text(t, b, "#timeline li:first-child .tl-title"); got != "Call (outbound): Discussed the renewal" {
		t.Errorf("newest timeline entry %q", got)
	}
	out = api(s.token, fmt.Sprintf(`{ activities(where: {contactID: %q, kind: call}) { edges { node { subject body direction } } } }`, ann))
	if dig(out, "data", "activities", "edges", 0, "node", "subject") != "Discussed the renewal" || dig(out, "data", "activities", "edges", 0, "node", "body") != "Wants two more seats." {
		t.Errorf("logged call: %v", out)
	}
	b.screenshot(t, "contact-record")

	// Scores: a bar per factor of the explanation.
	b.do(t, "scored record", chromedp.Navigate(base+"/contacts/"+scored), until(recordReady), until(`document.querySelectorAll('#scores .factor .bar').length > 0`))
	if !eval[bool](t, b, `[...document.querySelectorAll('#scores .factor .bar')].every(b => parseFloat(b.style.width) >= 0 && parseFloat(b.style.width) <= 100) &&
		[...document.querySelectorAll('#scores .factor .bar')].some(b => parseFloat(b.style.width) === 100)`) {
		t.Error("score bars are not scaled to the largest factor")
	}
	if !eval[bool](t, b, `document.querySelectorAll('#timeline li[data-type="score"]').length > 0`) {
		t.Error("the scored contact's timeline has no score")
	}
	b.screenshot(t, "scored-record")

	// The create form shows the server's error next to the field.
	b.do(t, "new contact", chromedp.Navigate(base+"/contacts"), until(listReady), click("#new-record"), atPath("/contacts/new"), visible("#field-lastName"),
		typeIn("#field-firstName", "Fay"), typeIn("#field-lastName", "Formfield"), typeIn("#field-email", "fay at example"),
		setSelect("#field-cf-plan", "silver"), click("#form-submit"), until(`document.querySelector('#field-email-error').textContent.length > 0`))
	if got := text(t, b, "#field-email-error"); got != "Is not a valid email address (like name@example.com)" {
		t.Errorf("email error %q", got)
	}
	if !eval[bool](t, b, `document.querySelector('#field-email').closest('[data-field]').contains(document.querySelector('#field-email-error')) && document.querySelector('#form-error').textContent === ''`) {
		t.Error("the email error is not next to the email field")
	}
	b.screenshot(t, "contact-form-error")
	b.do(t, "fix the email", js(`document.querySelector('#field-email').value = ''`), typeIn("#field-email", "fay@example.com"), click("#form-submit"),
		until(`/^\/contacts\/con/.test(location.pathname)`), until(recordReady))
	if got := text(t, b, "#record-title"); got != "Fay Formfield" {
		t.Errorf("created contact %q", got)
	}
	out = api(s.token, `{ contacts(where: {lastName: "Formfield"}) { edges { node { email customFields } } } }`)
	if dig(out, "data", "contacts", "edges", 0, "node", "email") != "fay@example.com" || dig(out, "data", "contacts", "edges", 0, "node", "customFields", "plan") != "silver" {
		t.Errorf("created contact: %v", out)
	}
	b.do(t, "edit", click("#edit-record"), until(`location.pathname.endsWith('/edit')`), visible("#field-title"),
		typeIn("#field-title", "Buyer"), click("#form-submit"), until(`!location.pathname.endsWith('/edit')`), until(recordReady))
	if !strings.Contains(text(t, b, "#record-fields"), "Buyer") {
		t.Error("the edited title does not show")
	}

	// An organization links its contacts and deals.
	b.do(t, "organizations", chromedp.Navigate(base+"/organizations"), until(listReady), click("#list a.row-link"),
		until(`location.pathname.startsWith('/organizations/org')`), until(recordReady))
	if !eval[bool](t, b, `!!document.querySelector('#related-contacts') && !!document.querySelector('#related-deals') && document.querySelector('#record-title').textContent.length > 0`) {
		t.Error("the organization page has no related contacts and deals")
	}

	// Converting a lead goes to its new deal.
	b.do(t, "lead", chromedp.Navigate(base+"/leads/"+lead), until(recordReady), click("#convert-lead"),
		until(`location.pathname.startsWith('/deals/')`), until(recordReady))
	if got := text(t, b, "#record-title"); got != "Browser lead" {
		t.Errorf("the converted deal is %q", got)
	}
	out = api(s.token, fmt.Sprintf(`{ node(id: %q) { ... on Lead { status deal { id } } } }`, lead))
	if dig(out, "data", "node", "status") != "converted" || eval[string](t, b, `location.pathname`) != "/deals/"+dig(out, "data", "node", "deal", "id").(string) {
		t.Errorf("converted lead: %v", out)
	}

	// Markup in a name is text, on the list and on the record page.
	b.do(t, "markup on the list", chromedp.Navigate(base+"/contacts?q=Xss"), until(listReady))
	if got := rows(); len(got) != 1 || got[0] != evil+" Xss" {
		t.Errorf("the list shows %q", got)
	}
	b.do(t, "markup on the record", click("#list a.row-link"), atPath("/contacts/"+evilID), until(recordReady))
	if got := text(t, b, "#record-title"); got != evil+" Xss" {
		t.Errorf("the record page shows %q", got)
	}
	if !eval[bool](t, b, `window.__xss === undefined && !document.querySelector('main img, main script')`) {
		t.Error("markup in a record ran or made elements")
	}

	// Another workspace's record, and one that does not exist.
	for _, id := range []string{foreign, "con_doesnotexist"} {
		b.do(t, "foreign record", chromedp.Navigate(base+"/contacts/"+id), visible("#not-found"))
		if got := text(t, b, "main h1"); got != "Not found" {
			t.Errorf("%s shows %q", id, got)
		}
	}
	b.do(t, "foreign edit", chromedp.Navigate(base+"/contacts/"+foreign+"/edit"), visible("#not-found"))

	b.assertClean(t, base)
	t.Logf("screenshots in %s", b.shots)
}
