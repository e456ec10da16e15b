package main

import (
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/rapportcrm/rapport/core/store/storetest"
)

// TestWebDashboards drives the dashboards and reports of the web app in
// Chromium against `rapport serve --demo`: the churn chart holds the API's
// figures for the same query, with the current period marked partial; a
// filter changes the query and the chart; a chart's CSV, SVG and PNG
// exports; every dashboard and report page; the value chain report's
// figures and tables; a report cell that is markup shown as text; a QCI
// answer recorded from the form.
func TestWebDashboards(t *testing.T) {
	t.Parallel()
	chromium(t)
	db := storetest.URL(t, "sqlite")
	s := startServer(t, db, "--demo")
	gq := func(q string) map[string]any {
		t.Helper()
		status, out := s.query(t, s.token, q)
		if status != 200 || out["errors"] != nil {
			t.Fatalf("%s: %d %v", q, status, out)
		}
		return out
	}

	// A lead whose source is markup: the five-process report lists lead
	// conversion per source.
	const evil = `<b>x</b><script>window.__xss=1</script><img src=x onerror=window.__xss=2>`
	gq(fmt.Sprintf(`mutation { createLead(input: {title: "Markup source", source: %q}) { id } }`, evil))

	b := signedIn(t, s, db, "mia@example.com", "Mia Wallace", "member")
	loaded := `document.querySelector('#dashboard')?.dataset.loaded === 'true'`

	// The churn dashboard over the last twelve months, this one included.
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to := month.AddDate(0, -11, 0), month.AddDate(0, 1, 0)
	path := fmt.Sprintf("/dashboards/churn?from=%s&to=%s", from.Format("2006-01"), month.Format("2006-01"))
	b.do(t, "churn dashboard", chromedp.Navigate(s.url+path), until(loaded), until(`!!document.querySelector('#chart-churn-rate .mark')`))
	if got, want := eval[string](t, b, `document.querySelector('#dashboard').dataset.from + ' ' + document.querySelector('#dashboard').dataset.to`),
		from.Format(time.RFC3339)+" "+to.Format(time.RFC3339); got != want {
		t.Fatalf("the dashboard asks for %s, want %s", got, want)
	}

	type point struct {
		Label   string
		Value   float64
		Partial bool
	}
	type period struct {
		Label     string
		Partial   bool
		ChurnRate *float64
	}
	marks := func() []point {
		return eval[[]point](t, b, `[...document.querySelectorAll('#chart-churn-rate .mark[data-series="Customer churn"]')].map(e => ({label: e.dataset.label, value: +e.dataset.value, partial: e.dataset.partial === 'true'}))`)
	}
	apiChurn := func(filter string) []period {
		if !strings.Contains(filter, "period:") {
			filter += ", period: MONTH"
		}
		out := gq(fmt.Sprintf(`{ metrics(range: {from: %q, to: %q}%s) { customers { label partial churnRate } } }`, from.Format(time.RFC3339), to.Format(time.RFC3339), filter))
		var ps []period
		decode(t, out, &ps, "data", "metrics", "customers")
		return ps
	}
	same := func(what string, got []point, want []period) {
		t.Helper()
		var w []point
		for _, p := range want {
			if p.ChurnRate != nil {
				w = append(w, point{p.Label, *p.ChurnRate, p.Partial})
			}
		}
		if len(got) != len(w) || len(w) == 0 {
			t.Fatalf("%s: chart has %d points %v, API %d %v", what, len(got), got, len(w), w)
		}
		for i := range w {
			if got[i].Label != w[i].Label || math.Abs(got[i].Value-w[i].Value) > 1e-9 || got[i].Partial != w[i].Partial {
				t.Errorf("%s: point %d is %+v, API %+v", what, i, got[i], w[i])
			}
		}
	}
	all := apiChurn("")
	if len(all) != 12 || !all[11].Partial || all[10].Partial || all[11].Label != month.Format("2006-01") {
		t.Fatalf("API periods %+v: want 12, the last (this month) partial", all)
	}
	before := marks()
	same("churn", before, all)
	if !eval[bool](t, b, fmt.Sprintf(`[...document.querySelectorAll('#chart-churn-rate .partial-label')].some(e => e.textContent === 'partial' && e.closest('[data-label]')?.dataset.label === %q)`, month.Format("2006-01"))) {
		t.Error("the current period is not labelled partial")
	}
	if !eval[bool](t, b, `!!document.querySelector('#chart-churn-rate .partial-line') && !!document.querySelector('#chart-churn-customers rect.bar[data-partial="true"]')`) {
		t.Error("the partial period is not drawn dashed (line) and hatched (bars)")
	}
	// Axis labels do not overlap one another.
	if n := eval[int](t, b, `(() => { const r = [...document.querySelectorAll('#chart-churn-rate .x-label')].map(e => e.getBoundingClientRect()); let n = 0;
		for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) if (r[i].left < r[j].right && r[j].left < r[i].right && r[i].top < r[j].bottom && r[j].top < r[i].bottom) n++; return n })()`); n != 0 {
		t.Errorf("%d x labels of the churn chart overlap", n)
	}
	b.screenshot(t, "dashboard-churn")

	// A filter is kept in the URL and changes the query and the chart.
	owner := eval[string](t, b, `[...document.querySelectorAll('#filter-owner option')].map(o => o.value).filter(v => v)[0] ?? ''`)
	if owner == "" {
		t.Fatal("the owner filter lists no member")
	}
	b.do(t, "filter by owner",
		js(fmt.Sprintf(`(() => { const s = document.querySelector('#filter-owner'); s.value = %q; s.dispatchEvent(new Event('change')); return true })()`, owner)),
		until(fmt.Sprintf(`new URLSearchParams(location.search).get('owner') === %q`, owner)), until(loaded),
		until(fmt.Sprintf(`document.querySelector('#filter-owner')?.value === %q`, owner)))
	if !strings.Contains(eval[string](t, b, `location.search`), "from="+from.Format("2006-01")) {
		t.Error("changing a filter lost the range")
	}
	after := marks()
	same("churn of one owner", after, apiChurn(fmt.Sprintf(`, filter: {ownerID: %q}`, owner)))
	if fmt.Sprint(after) == fmt.Sprint(before) {
		t.Error("the owner filter did not change the chart")
	}
	b.screenshot(t, "dashboard-churn-owner")

	// Quarters: the same range and owner, cut into quarters.
	b.do(t, "by quarter",
		js(`(() => { const s = document.querySelector('#filter-period'); s.value = 'QUARTER'; s.dispatchEvent(new Event('change')); return true })()`),
		until(`new URLSearchParams(location.search).get('period') === 'quarter'`),
		until(`document.querySelector('#dashboard')?.dataset.period === 'QUARTER' && `+loaded))
	same("churn of one owner by quarter", marks(), apiChurn(fmt.Sprintf(`, period: QUARTER, filter: {ownerID: %q}`, owner)))
	b.do(t, "back to months", js(`history.back(); true`), until(`!new URLSearchParams(location.search).has('period')`),
		until(`document.querySelector('#dashboard')?.dataset.period === 'MONTH' && `+loaded))
	same("churn of one owner, back by months", marks(), apiChurn(fmt.Sprintf(`, filter: {ownerID: %q}`, owner)))

	// Exports: the downloads' Blobs are kept by a hook on createObjectURL.
	b.do(t, "hook downloads", js(`(() => { window.__blobs = []; const o = URL.createObjectURL.bind(URL);
		URL.createObjectURL = (x) => { window.__blobs.push(x); return o(x) };
		HTMLAnchorElement.prototype.click = function () { window.__downloads = (window.__downloads || []).concat([this.download]) }; return true })()`))
	blob := func(what, button string) (string, string) {
		t.Helper()
		b.do(t, "export "+what, js(`window.__text = undefined; true`), click(button), until(`window.__blobs.length > 0`),
			js(`(() => { const x = window.__blobs.pop(); window.__type = x.type; x.arrayBuffer().then(a => { window.__text = String.fromCharCode(...new Uint8Array(a)) }); return true })()`),
			until(`window.__text !== undefined`))
		return eval[string](t, b, `window.__type`), eval[string](t, b, `window.__text`)
	}
	typ, body := blob("CSV", "#chart-churn-rate .export-csv")
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || typ != "text/csv" || len(rows) != 13 || strings.Join(rows[0], ",") != "label,Customer churn,Revenue churn,partial" {
		t.Fatalf("CSV export (%s, %v):\n%s", typ, err, body)
	}
	byLabel := map[string]point{}
	for _, p := range after {
		byLabel[p.Label] = p
	}
	for _, r := range rows[1:] {
		p, ok := byLabel[r[0]]
		v, err := strconv.ParseFloat(r[1], 64)
		if ok && (err != nil || math.Abs(v-p.Value) > 1e-9 || r[3] != strconv.FormatBool(p.Partial)) {
			t.Errorf("CSV row %v, chart %+v", r, p)
		}
	}
	if got := eval[string](t, b, `window.__downloads.at(-1)`); got != "churn-rate.csv" {
		t.Errorf("CSV downloads as %q", got)
	}
	typ, body = blob("SVG", "#chart-churn-rate .export-svg")
	var doc struct {
		XMLName xml.Name
		Circles []struct {
			Label string `xml:"data-label,attr"`
		} `xml:"g>circle"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil || typ != "image/svg+xml" || doc.XMLName.Local != "svg" || doc.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("SVG export (%s, %v): %.300s", typ, err, body)
	}
	if len(doc.Circles) < len(after) || !strings.Contains(body, ">partial</text>") {
		t.Errorf("SVG export has %d points (chart %d) or no partial label", len(doc.Circles), len(after))
	}
	typ, body = blob("PNG", "#chart-churn-rate .export-png")
	if typ != "image/png" || !strings.HasPrefix(body, "\u0089PNG\r\n") || len(body) < 2000 {
		t.Errorf("PNG export: %s, %d bytes", typ, len(body))
	}

	// Every dashboard, and the overview.
	for _, slug := range []string{"retention", "revenue-retention", "cohorts", "clv", "conversion", "win-rate", "forecast", "engagement", ""} {
		href := strings.TrimSuffix("/dashboards/"+slug, "/")
		b.do(t, "dashboard "+href, click(fmt.Sprintf(`.dash-tabs a[href=%q]`, href)), until(fmt.Sprintf(`location.pathname === %q`, href)),
			until(fmt.Sprintf(`document.querySelector('#dashboard')?.dataset.dashboard === %q`, map[bool]string{true: "overview", false: slug}[slug == ""])), until(loaded))
		if n := eval[int](t, b, `document.querySelectorAll('#dashboard svg.chart-svg').length`); n == 0 || eval[bool](t, b, `!!document.querySelector('#dashboard p.error')`) {
			t.Errorf("%s: %d charts, error %q", href, n, text(t, b, "#dashboard p.error"))
		}
		if n := eval[int](t, b, `document.querySelectorAll('#dashboard .mark').length`); n == 0 {
			t.Errorf("%s: no bar, point or cell drawn", href)
		}
		b.screenshot(t, "dashboard-"+map[bool]string{true: "overview", false: slug}[slug == ""])
	}
	if n := eval[int](t, b, `document.querySelectorAll('.overview-card svg').length`); n < 8 {
		t.Errorf("the overview shows %d charts", n)
	}

	// Reports: the plugins that make one.
	out := gq(`{ plugins { name points } }`)
	var plugins []struct {
		Name   string
		Points []string
	}
	decode(t, out, &plugins, "data", "plugins")
	var reporters []string
	for _, p := range plugins {
		for _, pt := range p.Points {
			if pt == "report" {
				reporters = append(reporters, p.Name)
			}
		}
	}
	b.do(t, "reports", click(`nav a[href="/reports"]`), atPath("/reports"), until(`document.querySelector('#report-list')?.dataset.loaded === 'true'`))
	if got := eval[[]string](t, b, `[...document.querySelectorAll('.report-card')].map(e => e.dataset.plugin)`); strings.Join(got, ",") != strings.Join(sorted(reporters), ",") {
		t.Errorf("reports list %v, plugins with reports %v", got, reporters)
	}
	b.screenshot(t, "reports")

	type report struct {
		Title    string
		Sections []struct {
			Key  string
			KPIs []struct {
				Key, Label, Unit string
				Value            float64
				Target           *float64
			}
			Tables []struct {
				Key     string
				Columns []string
				Rows    [][]string
			}
			Series []struct{ Name string }
		}
	}
	runReport := func(plugin string) report {
		var r report
		decode(t, gq(fmt.Sprintf(`{ runReport(plugin: %q) { title sections { key kpis { key label unit value target } tables { key columns rows } series { name } } } }`, plugin)), &r, "data", "runReport")
		return r
	}
	reportReady := `Number(document.querySelector('#report')?.dataset.loaded) >= 1`

	// The value chain report: its figures and tables as the API gives them.
	vc := runReport("valuechain")
	b.do(t, "value chain report", click(`.report-card[data-plugin="valuechain"] a`), atPath("/reports/valuechain"), until(reportReady))
	if got := text(t, b, "main h1"); got != vc.Title {
		t.Errorf("report titled %q, want %q", got, vc.Title)
	}
	for _, sec := range vc.Sections {
		for _, k := range sec.KPIs {
			if got := text(t, b, fmt.Sprintf(`[data-section=%q] [data-kpi=%q] .kpi-label`, sec.Key, k.Key)); got != k.Label {
				t.Errorf("KPI %s.%s shows %q, want %q", sec.Key, k.Key, got, k.Label)
			}
		}
		for _, tb := range sec.Tables {
			sel := fmt.Sprintf(`[data-section=%q] [data-table=%q] tbody tr`, sec.Key, tb.Key)
			n := eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
			if n != min(len(tb.Rows), 25) {
				t.Errorf("table %s.%s shows %d rows of %d", sec.Key, tb.Key, n, len(tb.Rows))
			}
			if len(tb.Rows) > 0 {
				if got := eval[[]string](t, b, fmt.Sprintf(`[...document.querySelector(%q).cells].map(c => c.textContent)`, sel)); strings.Join(got, "|") != strings.Join(tb.Rows[0], "|") {
					t.Errorf("table %s.%s first row %v, API %v", sec.Key, tb.Key, got, tb.Rows[0])
				}
			}
		}
	}
	if n := eval[int](t, b, `document.querySelectorAll('#report .chart svg .mark').length`); n == 0 {
		t.Error("the value chain report draws no series")
	}
	b.screenshot(t, "report-valuechain")

	// The five processes: KPIs against targets, and the markup lead source as text.
	fp := runReport("fiveprocess")
	b.do(t, "five-process report", click(`nav a[href="/reports"]`), atPath("/reports"), until(`document.querySelector('#report-list')?.dataset.loaded === 'true'`),
		click(`.report-card[data-plugin="fiveprocess"] a`), atPath("/reports/fiveprocess"), until(reportReady))
	checked := 0
	for _, sec := range fp.Sections {
		for _, tb := range sec.Tables {
			if tb.Key != "scorecard" {
				continue
			}
			for _, r := range tb.Rows {
				want := map[string]string{"met": "✓ met", "not met": "✗ not met", "no data": "no data"}[r[4]]
				if got := text(t, b, fmt.Sprintf(`[data-kpi=%q] .verdict`, r[0])); got != want {
					t.Errorf("KPI %s: %q, the scorecard says %q", r[0], got, r[4])
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Error("no KPI with a target checked")
	}
	if !eval[bool](t, b, fmt.Sprintf(`[...document.querySelectorAll('#report td')].some(td => td.textContent === %q)`, evil)) {
		t.Error("the lead source that is markup is not shown as text in a report table")
	}
	if !eval[bool](t, b, `window.__xss === undefined && !document.querySelector('#report td b, #report td script, #report td img')`) {
		t.Error("markup in a report cell ran or made elements")
	}
	b.screenshot(t, "report-fiveprocess")
	b.do(t, "IDIC report", chromedp.Navigate(s.url+"/reports/idic"), until(reportReady))
	b.screenshot(t, "report-idic")

	// QCI: answer a question in the form; the API has it and the report shows it.
	var qn struct {
		Scale     []string
		Questions []struct {
			Key    string
			Answer *struct{ Answer int }
		}
	}
	decode(t, gq(`{ questionnaire(plugin: "qci") { scale questions { key answer { answer } } } }`), &qn, "data", "questionnaire")
	if len(qn.Questions) == 0 || len(qn.Scale) < 2 {
		t.Fatalf("questionnaire %+v", qn)
	}
	q := qn.Questions[0]
	answer := 0
	if q.Answer != nil {
		answer = (q.Answer.Answer + 1) % len(qn.Scale)
	}
	b.do(t, "QCI report", chromedp.Navigate(s.url+"/reports/qci"), until(reportReady), visible("#questionnaire"))
	b.screenshot(t, "report-qci")
	b.do(t, "answer a question",
		js(fmt.Sprintf(`(() => { const s = document.querySelector('select[data-question=%q]'); s.value = %q; s.dispatchEvent(new Event('change')); return true })()`, q.Key, strconv.Itoa(answer))),
		click("#questionnaire-save"), until(`/Saved 1 answer/.test(document.querySelector('#questionnaire-status').textContent)`),
		until(`Number(document.querySelector('#report')?.dataset.loaded) >= 2`))
	var stored struct {
		Questions []struct {
			Key    string
			Answer *struct {
				Answer     int
				AnsweredBy string
			}
		}
	}
	decode(t, gq(`{ questionnaire(plugin: "qci") { questions { key answer { answer answeredBy } } } }`), &stored, "data", "questionnaire")
	for _, sq := range stored.Questions {
		if sq.Key == q.Key && (sq.Answer == nil || sq.Answer.Answer != answer || !strings.HasPrefix(sq.Answer.AnsweredBy, "member:")) {
			t.Errorf("question %s: stored %+v, want %d by a member", q.Key, sq.Answer, answer)
		}
	}
	want := fmt.Sprintf("%.2f", float64(answer))
	if got := eval[string](t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-table="questions"] tbody tr')].find(r => r.cells[0].textContent === %q)?.cells[3].textContent ?? ''`, q.Key)); got != want {
		t.Errorf("after answering, the report's questions table shows mean %q, want %q", got, want)
	}
	b.screenshot(t, "report-qci-answered")

	b.assertClean(t, s.url)
	t.Logf("screenshots in %s", b.shots)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
