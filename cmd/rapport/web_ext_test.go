package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestWebExtensions drives the plugin and automation pages in Chromium
// against `rapport serve --demo`: the plugin list and a plugin's page, a
// binding's form generated from the manifest's config schema (a value the
// server refuses shows next to its field, the fixed one is stored), a
// background scoring run followed to its end, two scorers compared on a
// sample (a scatter point per subject, a confusion matrix that counts
// them all), an automation turned off and on again, and a viewer who
// can do none of it.
func TestWebExtensions(t *testing.T) {
	t.Parallel()
	chromium(t)
	db := storetest.URL(t, "sqlite")
	caps := []string{"--workspace-plugin-max-memory", "64", "--workspace-plugin-max-timeout", "10s"}
	s := startServer(t, db, append([]string{"--demo"}, caps...)...)
	q := func(query string) map[string]any {
		t.Helper()
		status, out := s.query(t, s.token, query)
		if status != 200 || out["errors"] != nil {
			t.Fatalf("%s: %d %v", query, status, out)
		}
		return out
	}

	// A second contact scorer: the bundled IDIC model under another name,
	// scoring with other defaults, installed into the demo workspace.
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("..", "..", "plugins", "idic", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(src, &m); err != nil {
		t.Fatal(err)
	}
	m["name"], m["version"], m["points"] = "idic-tuned", "1.0.0", []string{"score"}
	m["description"] = "IDIC with a higher value per employee, to compare before switching."
	delete(m, "segments")
	delete(m, "records")
	props := m["config_schema"].(map[string]any)["properties"].(map[string]any)
	props["value_per_employee"].(map[string]any)["default"] = 400
	props["most_growable_potential"].(map[string]any)["default"] = 20000
	props["most_valuable_actual"].(map[string]any)["default"] = 200000
	plugin := filepath.Join(dir, "idic-tuned")
	if err := os.MkdirAll(plugin, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.MarshalIndent(m, "", "  ")
	wasm, err := os.ReadFile(filepath.Join("..", "..", "plugins", "idic", "plugin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugin, "plugin.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugin, "plugin.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "plugin", "pack", plugin, "--dir", dir); err != nil {
		t.Fatalf("plugin pack: %v", err)
	}
	if out, err := run(t, append([]string{"--db", db, "plugin", "install", filepath.Join(dir, "idic-tuned-1.0.0.rpk"), "--workspace", "demo"}, caps...)...); err != nil {
		t.Fatalf("plugin install: %q %v", out, err)
	}

	// An automation that fires on a new contact and calls a webhook, and a
	// contact that fires it.
	out := q(`mutation { createAutomation(input: {name: "Welcome webhook", event: "contact.created",
		actions: [{type: "webhook", url: "https://hooks.example.invalid/welcome", secret: "a signing secret of some length"}]}) { id enabled } }`)
	automation := dig(out, "data", "createAutomation", "id").(string)
	q(`mutation { createContact(input: {firstName: "Walter", lastName: "Welcome", email: "walter@example.com"}) { id } }`)

	base := s.url
	b := signedIn(t, s, db, "ada@example.com", "Ada Admin", "admin")

	// The plugins: the bundled ones and the one installed, each with its kind and state.
	b.do(t, "plugins", click(`nav a[href="/plugins"]`), atPath("/plugins"), until(`document.querySelector('#plugins')?.dataset.loaded === 'true'`))
	rows := eval[[]string](t, b, `[...document.querySelectorAll('#plugins tbody tr')].map(r => r.dataset.plugin + ' ' + r.querySelector('.kind').textContent + ' ' + r.querySelector('.status').textContent)`)
	joined := strings.Join(rows, "\n")
	for _, want := range []string{"idic@1.1.0 score, segment, report healthy", "idic-tuned@1.0.0 score ", "valuechain@1.0.0 segment, report healthy"} {
		if !strings.Contains(joined, want) {
			t.Errorf("plugin list lacks %q:\n%s", want, joined)
		}
	}
	if bad := eval[[]string](t, b, `[...document.querySelectorAll('#plugins .badge.bad')].map(e => e.closest('tr').dataset.plugin + ': ' + e.textContent)`); len(bad) > 0 {
		t.Errorf("plugins shown as failing: %v", bad)
	}
	b.screenshot(t, "plugins")
	b.do(t, "plugin page", click(`[data-plugin="idic@1.1.0"] a`), atPath("/plugins/idic%401.1.0"), until(`!!document.querySelector('#plugin-bindings')`))
	if got := eval[int](t, b, `document.querySelectorAll('#plugin-bindings tbody tr').length`); got < 3 {
		t.Errorf("idic's page lists %d bindings, want its score and segment bindings", got)
	}
	b.screenshot(t, "plugin-idic")

	// The contact scorer's binding: a refused value, then a good one.
	b.do(t, "bindings", chromedp.Navigate(base+"/plugins/bindings"), until(`document.querySelector('#bindings')?.dataset.loaded === 'true'`))
	b.screenshot(t, "bindings")
	field := "#cfg-email_confidence"
	b.do(t, "binding form", click(`[data-binding="score/contact"] a[href="/plugins/bindings/score/contact"]`), atPath("/plugins/bindings/score/contact"),
		visible(field), js(`document.querySelector('#cfg-email_confidence').value = ''`), typeIn(field, "2"), click("#binding-save"),
		until(`document.querySelector('#cfg-email_confidence-error').textContent.length > 0`))
	if got := text(t, b, field+"-error"); !strings.Contains(got, "1") {
		t.Errorf("field error %q does not name the maximum", got)
	}
	if !eval[bool](t, b, `document.querySelector('#cfg-email_confidence').getAttribute('aria-invalid') === 'true' && document.querySelector('#binding-saved').hidden`) {
		t.Error("the refused field is not marked, or the form says it saved")
	}
	b.screenshot(t, "binding-field-error")
	b.do(t, "fix the value", js(`document.querySelector('#cfg-email_confidence').value = ''`), typeIn(field, "0.9"),
		js(`document.querySelector('#cfg-max_group').value = ''`), typeIn("#cfg-max_group", "25"), click("#binding-save"),
		until(`!document.querySelector('#binding-saved').hidden`))
	if got := text(t, b, field+"-error"); got != "" {
		t.Errorf("after the fix the field still shows %q", got)
	}
	out = q(`{ extensionBindings { point subjectType plugin config } }`)
	var bindings []struct {
		Point, Plugin string
		SubjectType   *string
		Config        map[string]any
	}
	decode(t, out, &bindings, "data", "extensionBindings")
	stored := false
	for _, bd := range bindings {
		if bd.Point == "score" && bd.SubjectType != nil && *bd.SubjectType == "contact" {
			stored = bd.Plugin == "idic" && bd.Config["email_confidence"] == 0.9 && bd.Config["max_group"] == 25.0
			if !stored {
				t.Errorf("stored binding %+v", bd)
			}
		}
	}
	if !stored {
		t.Errorf("no contact scorer binding in %v", out)
	}
	b.screenshot(t, "binding-saved")

	// A background scoring run of the contacts, followed to its end.
	b.do(t, "runs", click(`.tabs a[href="/plugins/runs"]`), atPath("/plugins/runs"), until(`document.querySelector('#runs')?.dataset.loaded === 'true'`),
		click("#start-score-contact"), until(`!!document.querySelector('#runs tbody tr[data-run]')`))
	first := eval[string](t, b, `document.querySelector('#runs tbody tr[data-run]').dataset.run`)
	b.do(t, "the run ends", until(fmt.Sprintf(`document.querySelector('#runs tr[data-run=%q]')?.dataset.status === 'succeeded'`, first)))
	done := eval[string](t, b, fmt.Sprintf(`document.querySelector('#runs tr[data-run=%q]').dataset.done`, first))
	total := eval[string](t, b, fmt.Sprintf(`document.querySelector('#runs tr[data-run=%q]').dataset.total`, first))
	if n, _ := strconv.Atoi(total); n == 0 || done != total {
		t.Errorf("the run did %s of %s", done, total)
	}
	if got := text(t, b, fmt.Sprintf(`#runs tr[data-run=%q] .progress-text`, first)); got != done+" / "+total {
		t.Errorf("progress shows %q", got)
	}
	out = q(`{ contacts { totalCount } workRuns(first: 1, orderBy: {field: CREATED_AT, direction: DESC}) { edges { node { id kind subjectType status done total } } } }`)
	if dig(out, "data", "workRuns", "edges", 0, "node", "id") != first || dig(out, "data", "workRuns", "edges", 0, "node", "status") != "succeeded" ||
		fmt.Sprint(dig(out, "data", "workRuns", "edges", 0, "node", "total")) != total || fmt.Sprint(dig(out, "data", "contacts", "totalCount")) != total {
		t.Errorf("the API's run: %v (page: %s of %s)", out, done, total)
	}
	if !eval[bool](t, b, `document.querySelector('#runs').dataset.live === '0'`) {
		t.Error("the page still refreshes after the run ended")
	}
	b.screenshot(t, "runs")
	contacts := int(dig(out, "data", "contacts", "totalCount").(float64))

	// The two contact scorers side by side on a sample of 60.
	const sample = 60
	b.do(t, "compare", chromedp.Navigate(base+fmt.Sprintf("/plugins/compare?point=score&subject=contact&a=idic%%401.1.0&b=idic-tuned%%401.0.0&sample=%d", sample)),
		until(`document.querySelector('#compare-result')?.dataset.loaded === 'true'`))
	want := min(sample, contacts)
	points := eval[int](t, b, `document.querySelectorAll('#scatter circle').length`)
	subjects := text(t, b, "#cmp-subjects .fact-value")
	cells := eval[int](t, b, `[...document.querySelectorAll('#confusion td.cell')].reduce((n, td) => n + Number(td.dataset.count), 0)`)
	diag := eval[int](t, b, `[...document.querySelectorAll('#confusion td.cell.diag')].reduce((n, td) => n + Number(td.dataset.count), 0)`)
	agree := eval[string](t, b, `document.querySelector('#agreement').dataset.agree`)
	if points != want || subjects != strconv.Itoa(want) || cells != want || text(t, b, "#confusion-total") != strconv.Itoa(want) || agree != strconv.Itoa(diag) {
		t.Errorf("compare: %d points, %s subjects, cells sum to %d (total %s), agreement %s of diagonal %d; want %d", points, subjects, cells, text(t, b, "#confusion-total"), agree, diag, want)
	}
	if !strings.Contains(text(t, b, "#agreement"), fmt.Sprintf("%.1f %%", 100*float64(diag)/float64(want))) {
		t.Errorf("agreement reads %q", text(t, b, "#agreement"))
	}
	b.screenshot(t, "compare")

	// The automation: turned off and on again from its row.
	toggle := fmt.Sprintf(`input.switch[data-automation=%q]`, automation)
	enabled := func() bool {
		t.Helper()
		out := q(fmt.Sprintf(`{ node(id: %q) { ... on Automation { enabled } } }`, automation))
		return dig(out, "data", "node", "enabled") == true
	}
	b.do(t, "automations", click(`nav a[href="/automations"]`), atPath("/automations"), until(`document.querySelector('#automations')?.dataset.loaded === 'true'`),
		click(toggle), until(fmt.Sprintf(`!document.querySelector(%q).checked && !document.querySelector(%q).disabled`, toggle, toggle)))
	if enabled() {
		t.Error("the automation is still enabled after the switch turned it off")
	}
	b.screenshot(t, "automations-disabled")
	b.do(t, "enable again", click(toggle), until(fmt.Sprintf(`document.querySelector(%q).checked && !document.querySelector(%q).disabled`, toggle, toggle)))
	if !enabled() {
		t.Error("the automation is disabled after the switch turned it on")
	}
	if !eval[bool](t, b, `document.querySelector('#automations-error').hidden`) {
		t.Errorf("the automations page shows %q", text(t, b, "#automations-error"))
	}
	// Its page: the run the contact fired and the webhook delivery it made
	// (the queue's workers get to it within seconds, or after a retry's
	// backoff on a busy machine).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out = q(fmt.Sprintf(`{ automationRuns(where: {automationID: %q}) { totalCount } deliveries(where: {automationID: %q}) { totalCount } }`, automation, automation))
		if dig(out, "data", "automationRuns", "totalCount") != 0.0 && dig(out, "data", "deliveries", "totalCount") != 0.0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the automation did not run: %v", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.do(t, "automation page", click(fmt.Sprintf(`tr[data-automation=%q] a`, automation)), atPath("/automations/"+automation),
		until(`!!document.querySelector('#automation-runs') && !!document.querySelector('#deliveries')`))
	if got := text(t, b, "#deliveries tbody tr .target"); got != "https://hooks.example.invalid/welcome" {
		t.Errorf("delivery target %q", got)
	}
	if got := text(t, b, "#automation-runs tbody tr td:nth-child(2)"); got != "contact.created" {
		t.Errorf("run trigger %q", got)
	}
	b.screenshot(t, "automation")
	b.assertClean(t, base)

	// A viewer sees the same pages without a way to change them.
	v := signedIn(t, s, db, "val@example.com", "Val Viewer", "viewer")
	v.do(t, "viewer automations", chromedp.Navigate(base+"/automations"), until(`document.querySelector('#automations')?.dataset.loaded === 'true'`))
	if n := eval[int](t, v, `document.querySelectorAll('input.switch').length`); n != 0 || !eval[bool](t, v, fmt.Sprintf(`!!document.querySelector('.toggle-readonly[data-automation=%q]') && !!document.querySelector('#automations-readonly')`, automation)) {
		t.Errorf("a viewer sees %d switches", n)
	}
	v.screenshot(t, "viewer-automations")
	v.do(t, "viewer binding", chromedp.Navigate(base+"/plugins/bindings/score/contact"), visible("#binding-readonly"))
	if !eval[bool](t, v, `!document.querySelector('#binding-save') && document.querySelector('#cfg-email_confidence').readOnly && document.querySelector('#binding-plugin').disabled`) {
		t.Error("a viewer can edit the binding")
	}
	if got := eval[string](t, v, `document.querySelector('#cfg-email_confidence').value`); got != "0.9" {
		t.Errorf("the viewer's form shows %q, not the stored 0.9", got)
	}
	v.screenshot(t, "viewer-binding")
	v.do(t, "viewer runs", chromedp.Navigate(base+"/plugins/runs"), until(`document.querySelector('#runs')?.dataset.loaded === 'true'`), visible("#runs-readonly"))
	if n := eval[int](t, v, `document.querySelectorAll('#run-starts button').length`); n != 0 {
		t.Errorf("a viewer sees %d start buttons", n)
	}
	v.assertClean(t, base)
	t.Logf("screenshots in %s and %s", b.shots, v.shots)
}
