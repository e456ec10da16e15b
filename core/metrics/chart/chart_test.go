package chart_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	pngdecode "image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/chart"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func f(v float64) *float64 { return &v }

func month(m time.Month) metrics.Span {
	s := time.Date(2025, m, 1, 0, 0, 0, 0, time.UTC)
	return metrics.Span{Label: s.Format("2006-01"), Start: s, End: s.AddDate(0, 1, 0)}
}

// figures are one of each chart, drawn from hand-made metrics (with null
// rates, which break the lines).
func figures(t *testing.T) map[chart.Kind]*chart.Figure {
	series := []metrics.CustomerPeriod{
		{Span: month(1)},
		{Span: month(2), ChurnRate: f(0.1), RetentionRate: f(0.9), NetRevenueRetention: f(1.05), RevenueChurnRate: f(0.2)},
		{Span: month(3), ChurnRate: f(0.2), RetentionRate: f(0.8)},
	}
	cohorts := &metrics.CohortMatrix{Period: metrics.Month, ActiveWindow: 1, Cohorts: []metrics.Cohort{
		{Span: month(1), Size: 4, Cells: []metrics.CohortCell{{Offset: 0, Active: 4, Rate: f(1)}, {Offset: 1, Active: 2, Rate: f(0.5)}}},
		{Span: month(2), Size: 0, Cells: []metrics.CohortCell{{Offset: 0}}},
	}}
	funnels := []metrics.Funnel{
		{Pipeline: "Sales", Deals: 8, Steps: []metrics.FunnelStep{{Stage: "S1", Reached: 8}, {Stage: "S2", Reached: 5, Conversion: f(5.0 / 8)}, {Stage: "Won", Reached: 3, Conversion: f(0.6)}}},
		{Pipeline: "Partners", Deals: 1, Steps: []metrics.FunnelStep{{Stage: "P1", Reached: 1}, {Stage: "Won", Reached: 1, Conversion: f(1)}}},
		{Pipeline: "Empty", Steps: []metrics.FunnelStep{}},
	}
	forecast := &metrics.Forecast{Period: metrics.Month, Periods: []metrics.ForecastPeriod{
		{Span: month(4), ForecastBucket: metrics.ForecastBucket{Deals: 1, Amount: 500000, Weighted: 150000}},
		{Span: month(5)},
	}}
	avg := crm.Money(15500)
	clv := &metrics.CLV{HistoricalAverage: &avg, Top: []metrics.CustomerValue{{Name: "D", Margin: 30000}, {ID: "org_x", Margin: 23000}}}
	out := map[chart.Kind]*chart.Figure{}
	for kind, draw := range map[chart.Kind]func() (*chart.Figure, error){
		chart.Churn:      func() (*chart.Figure, error) { return chart.ChurnFigure(series) },
		chart.Retention:  func() (*chart.Figure, error) { return chart.RetentionFigure(series) },
		chart.Cohorts:    func() (*chart.Figure, error) { return chart.CohortFigure(cohorts) },
		chart.Conversion: func() (*chart.Figure, error) { return chart.ConversionFigure(funnels) },
		chart.Forecast:   func() (*chart.Figure, error) { return chart.ForecastFigure(forecast) },
		chart.CLV:        func() (*chart.Figure, error) { return chart.CLVFigure(clv) },
	} {
		fig, err := draw()
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		out[kind] = fig
	}
	return out
}

func TestFiguresRender(t *testing.T) {
	for kind, fig := range figures(t) {
		var svg, png bytes.Buffer
		if err := fig.WriteTo(&svg, chart.SVG); err != nil {
			t.Fatalf("%s svg: %v", kind, err)
		}
		if !strings.Contains(svg.String(), "<svg") {
			t.Errorf("%s: not an SVG", kind)
		}
		if err := fig.WriteTo(&png, chart.PNG); err != nil {
			t.Fatalf("%s png: %v", kind, err)
		}
		if !bytes.HasPrefix(png.Bytes(), []byte("\x89PNG")) {
			t.Errorf("%s: not a PNG", kind)
		}
	}
	// Empty inputs draw empty charts rather than fail.
	for _, draw := range []func() (*chart.Figure, error){
		func() (*chart.Figure, error) { return chart.CohortFigure(&metrics.CohortMatrix{}) },
		func() (*chart.Figure, error) { return chart.ConversionFigure(nil) },
		func() (*chart.Figure, error) { return chart.CLVFigure(&metrics.CLV{}) },
		func() (*chart.Figure, error) { return chart.ChurnFigure(nil) },
	} {
		fig, err := draw()
		if err != nil {
			t.Fatal(err)
		}
		if err := fig.WriteTo(&bytes.Buffer{}, chart.SVG); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHandler(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	ctx := context.Background()
	ws, err := access.CreateWorkspace(ctx, st.Client, "charts", "")
	if err != nil {
		t.Fatal(err)
	}
	vctx := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	admin := tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	org := st.Client.Organization.Create().SetName("O").SaveX(admin)
	for _, m := range []time.Month{1, 2, 4} {
		st.Client.Order.Create().SetOrganizationID(org.ID).SetAmount(10000).SetOrderedAt(time.Date(2025, m, 3, 0, 0, 0, 0, time.UTC)).SaveX(admin)
	}
	h := chart.Handler(metrics.New(st))
	withViewer := http.StripPrefix("/charts", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(vctx))
	}))
	for _, c := range []struct {
		target string
		status int
		ctype  string
	}{
		{"/charts/churn.svg?from=2025-01&to=2025-06", 200, "image/svg+xml"},
		{"/charts/retention.png?from=2025-01&to=2025-06&period=quarter", 200, "image/png"},
		{"/charts/cohorts.svg?from=2025&to=2025", 200, "image/svg+xml"},
		{"/charts/clv.svg?from=2025-01&to=2025-06", 200, "image/svg+xml"},
		{"/charts/conversion.svg?from=2025-01&to=2025-06", 200, "image/svg+xml"},
		{"/charts/forecast.svg", 200, "image/svg+xml"},
		{"/charts/churn", 200, "image/svg+xml"},
		{"/charts/nope.svg", 404, "application/json"},
		{"/charts/churn.gif", 400, "application/json"},
		{"/charts/churn.svg?from=2025-06&to=2025-01", 400, "application/json"},
		{"/charts/churn.svg?from=yesterday", 400, "application/json"},
		{"/charts/churn.svg?segment=Not%20a%20key", 400, "application/json"},
		{"/charts/churn.svg?window=x", 400, "application/json"},
	} {
		rec := httptest.NewRecorder()
		withViewer.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.target, nil))
		if rec.Code != c.status || rec.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %s, want %d %s: %s", c.target, rec.Code, rec.Header().Get("Content-Type"), c.status, c.ctype, rec.Body.String())
		}
		if c.status != 200 {
			var body struct {
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions["code"] == nil {
				t.Errorf("%s: error body %s", c.target, rec.Body.String())
			}
		}
	}
	// Without a viewer: 401.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/charts/churn.svg", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("no viewer: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/charts/churn.svg", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// svgPath is a stroked or filled path of an SVG drawn by gonum: its
// vertices and its style.
type svgPath struct {
	xs, ys []float64
	style  string
}

var (
	pathRE   = regexp.MustCompile(`<path d="([^"]*)"\s*style="([^"]*)"`)
	vertexRE = regexp.MustCompile(`[ML](-?[0-9.e+-]+),(-?[0-9.e+-]+)`)
)

func svgPaths(t *testing.T, svg string) []svgPath {
	t.Helper()
	var out []svgPath
	for _, m := range pathRE.FindAllStringSubmatch(svg, -1) {
		var p svgPath
		for _, v := range vertexRE.FindAllStringSubmatch(m[1], -1) {
			x, err1 := strconv.ParseFloat(v[1], 64)
			y, err2 := strconv.ParseFloat(v[2], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("path %q", m[1])
			}
			p.xs, p.ys = append(p.xs, x), append(p.ys, y)
		}
		p.style = strings.ToLower(m[2])
		out = append(out, p)
	}
	return out
}

func (p svgPath) dashed() bool      { return strings.Contains(p.style, "stroke-dasharray:") }
func (p svgPath) has(s string) bool { return strings.Contains(p.style, s) }
func (p svgPath) minX() float64     { return slices.Min(p.xs) }
func (p svgPath) maxX() float64     { return slices.Max(p.xs) }
func (p svgPath) midX() float64     { return (p.minX() + p.maxX()) / 2 }
func (p svgPath) midY() float64     { return (slices.Min(p.ys) + slices.Max(p.ys)) / 2 }

// partialMarks are the dashed paths other than the legend's thumbnail
// (drawn gray, #808080, in the legend's row at the top).
func partialMarks(t *testing.T, svg string, stroke string) []svgPath {
	t.Helper()
	var out []svgPath
	for _, p := range svgPaths(t, svg) {
		if p.dashed() && p.has("stroke:"+stroke) {
			out = append(out, p)
		}
	}
	return out
}

func render(t *testing.T, d drawn) string {
	t.Helper()
	fig, err := d.fig, d.err
	if err != nil {
		t.Fatal(err)
	}
	var svg, png bytes.Buffer
	if err := fig.WriteTo(&svg, chart.SVG); err != nil {
		t.Fatal(err)
	}
	if err := fig.WriteTo(&png, chart.PNG); err != nil {
		t.Fatal(err)
	}
	img, err := pngdecode.Decode(&png)
	if err != nil {
		t.Fatalf("png: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Fatalf("png is %v", b)
	}
	return svg.String()
}

// customerSeries is four months of rates, the last one partial when
// partial is set (its churn "so far" deliberately low).
func customerSeries(partial bool) []metrics.CustomerPeriod {
	last := month(4)
	last.Partial = partial
	return []metrics.CustomerPeriod{
		{Span: month(1), ChurnRate: f(0.1), RevenueChurnRate: f(0.12), RetentionRate: f(0.9), NetRevenueRetention: f(1.02)},
		{Span: month(2), ChurnRate: f(0.15), RevenueChurnRate: f(0.1), RetentionRate: f(0.85), NetRevenueRetention: f(0.98)},
		{Span: month(3), ChurnRate: f(0.12), RevenueChurnRate: f(0.14), RetentionRate: f(0.88), NetRevenueRetention: f(1.01)},
		{Span: last, ChurnRate: f(0.02), RevenueChurnRate: f(0.01), RetentionRate: f(0.98), NetRevenueRetention: f(0.4)},
	}
}

func TestPartialRateLines(t *testing.T) {
	for _, c := range []struct {
		kind chart.Kind
		draw func([]metrics.CustomerPeriod) (*chart.Figure, error)
	}{{chart.Churn, chart.ChurnFigure}, {chart.Retention, chart.RetentionFigure}} {
		t.Run(string(c.kind), func(t *testing.T) {
			whole := render(t, must(c.draw(customerSeries(false))))
			part := render(t, must(c.draw(customerSeries(true))))
			if strings.Contains(whole, "so far") || strings.Contains(whole, "period not over") || len(partialMarks(t, whole, "")) != 0 {
				t.Fatalf("finished periods are marked partial")
			}
			// The x of each period, from the line of finished periods
			// (blue, the first series; 4 points).
			var xs []float64
			for _, p := range svgPaths(t, whole) {
				if p.has("stroke:#1f77b4") && len(p.xs) == 4 {
					xs = p.xs
				}
			}
			if xs == nil {
				t.Fatal("no line of 4 points in the finished chart")
			}
			// Partial: each series' line stops at March, solid, and a
			// lighter dashed segment goes from March to April.
			for _, stroke := range []string{"#8fbbd9", "#ea9393"} { // the two series' colours, lightened
				marks := partialMarks(t, part, stroke)
				if len(marks) != 1 {
					t.Fatalf("%s: %d dashed marks, want 1", stroke, len(marks))
				}
				if m := marks[0]; len(m.xs) != 2 || m.xs[0] != xs[2] || m.xs[1] != xs[3] {
					t.Errorf("%s: dashed segment at x %v, want from %v to %v (March to April)", stroke, m.xs, xs[2], xs[3])
				}
			}
			for _, p := range svgPaths(t, part) {
				if p.has("stroke:#1f77b4") && !p.dashed() && len(p.xs) > 1 && p.maxX() > xs[2] && p.minX() <= xs[3] {
					t.Errorf("a solid line reaches into the partial period: %v", p.xs)
				}
			}
			if n := strings.Count(part, "so far"); n != 1 || !strings.Contains(part, ">2025-04 so far<") {
				t.Errorf("%d \"so far\" labels, want one on 2025-04", n)
			}
			if !strings.Contains(part, ">dashed: period not over<") || len(partialMarks(t, part, "#808080")) != 1 {
				t.Error("no legend note of the partial period")
			}
		})
	}
}

// drawn pairs a figure with its error for render.
type drawn struct {
	fig *chart.Figure
	err error
}

func must(f *chart.Figure, err error) drawn { return drawn{f, err} }

func TestPartialForecastBars(t *testing.T) {
	forecast := func(partial bool) *metrics.Forecast {
		may := month(5)
		may.Partial = partial
		return &metrics.Forecast{Period: metrics.Month, Periods: []metrics.ForecastPeriod{
			{Span: month(4), ForecastBucket: metrics.ForecastBucket{Deals: 2, Amount: 500000, Weighted: 150000}},
			{Span: may, ForecastBucket: metrics.ForecastBucket{Deals: 1, Amount: 300000, Weighted: 200000}},
			{Span: month(6), ForecastBucket: metrics.ForecastBucket{Deals: 1, Amount: 100000, Weighted: 50000}},
		}}
	}
	whole := render(t, must(chart.ForecastFigure(forecast(false))))
	if strings.Contains(whole, "so far") || len(partialMarks(t, whole, "")) != 0 {
		t.Fatal("finished periods are marked partial")
	}
	// The weighted bars of the finished chart, one per period, left to right.
	centres := barCentres(t, whole, "fill:#1f77b4")
	if len(centres) != 3 {
		t.Fatalf("%d weighted bars, want 3", len(centres))
	}
	// The period here is made partial in the middle of the range so that
	// the mark is told apart from both neighbours.
	part := render(t, must(chart.ForecastFigure(forecast(true))))
	marks := partialMarks(t, part, "#808080")
	var outlines []svgPath
	for _, m := range marks {
		if len(m.xs) >= 4 {
			outlines = append(outlines, m)
		}
	}
	// One outline around May's bars, and the legend's thumbnail.
	if len(outlines) != 1 || len(marks) != 2 {
		t.Fatalf("%d outlines, %d dashed marks; want 1 outline and the legend", len(outlines), len(marks))
	}
	if o := outlines[0]; o.minX() > centres[1] || o.maxX() < centres[1] || o.maxX() > centres[2] || o.minX() < centres[0] {
		t.Errorf("outline spans x %v–%v, want around May's bar at %v", o.minX(), o.maxX(), centres[1])
	}
	if c := barCentres(t, part, "fill:#1f77b4"); len(c) != 2 || c[0] != centres[0] || c[1] != centres[2] {
		t.Errorf("weighted bars in the full colour at %v, want April's and June's at %v, %v", c, centres[0], centres[2])
	}
	if c := barCentres(t, part, "fill:#8fbbd9"); len(c) != 1 || c[0] != centres[1] {
		t.Errorf("lighter weighted bars at %v, want May's at %v", c, centres[1])
	}
	if n := strings.Count(part, "so far"); n != 1 || !strings.Contains(part, ">2025-05 so far<") {
		t.Errorf("%d \"so far\" labels, want one on 2025-05", n)
	}
}

// barCentres are the x centres of the bars filled with style that stand
// on the lowest baseline (not the legend's thumbnails) and are not flat.
func barCentres(t *testing.T, svg, style string) []float64 {
	t.Helper()
	var bars []svgPath
	base := math.Inf(1)
	for _, p := range svgPaths(t, svg) {
		if p.has(style) && len(p.xs) >= 4 {
			bars = append(bars, p)
			base = min(base, slices.Min(p.ys))
		}
	}
	var out []float64
	for _, p := range bars {
		if slices.Min(p.ys) == base && slices.Max(p.ys)-base > 0.5 {
			out = append(out, p.midX())
		}
	}
	return out
}

func TestPartialCohortCells(t *testing.T) {
	matrix := func(partial bool) *metrics.CohortMatrix {
		mar := month(3)
		mar.Partial = partial
		return &metrics.CohortMatrix{Period: metrics.Month, ActiveWindow: 1, Cohorts: []metrics.Cohort{
			{Span: month(1), Size: 4, Cells: []metrics.CohortCell{{Offset: 0, Active: 4, Rate: f(1)}, {Offset: 1, Active: 2, Rate: f(0.5)}, {Offset: 2, Active: 1, Rate: f(0.25)}}},
			{Span: month(2), Size: 5, Cells: []metrics.CohortCell{{Offset: 0, Active: 5, Rate: f(1)}, {Offset: 1, Active: 3, Rate: f(0.6)}}},
			{Span: mar, Size: 2, Cells: []metrics.CohortCell{{Offset: 0, Active: 2, Rate: f(1)}}},
		}}
	}
	whole := render(t, must(chart.CohortFigure(matrix(false))))
	if strings.Contains(whole, "so far") || len(partialMarks(t, whole, "")) != 0 {
		t.Fatal("finished periods are marked partial")
	}
	part := render(t, must(chart.CohortFigure(matrix(true))))
	marks := partialMarks(t, part, "#ff7f0e")
	// March is the third cell of January's cohort, the second of
	// February's and the first of March's: from the top row's right to
	// the bottom row's left.
	if len(marks) != 3 {
		t.Fatalf("%d partial cells, want 3", len(marks))
	}
	slices.SortFunc(marks, func(a, b svgPath) int { return cmp.Compare(a.midX(), b.midX()) })
	for i := 1; i < len(marks); i++ {
		if !(marks[i].midX() > marks[i-1].midX() && marks[i].midY() > marks[i-1].midY()) {
			t.Errorf("partial cells not on the diagonal: %v then %v", marks[i-1], marks[i])
		}
	}
	if !strings.Contains(part, ">2025-03 so far (2)<") || strings.Count(part, "so far") != 1 {
		t.Error("March's cohort is not labelled so far")
	}
}

// TestPartialChurnPNG writes the churn chart with a partial last month
// for a look: go test -run TestPartialChurnPNG -args -png=churn.png
func TestPartialChurnPNG(t *testing.T) {
	fig, err := chart.ChurnFigure(customerSeries(true))
	if err != nil {
		t.Fatal(err)
	}
	out := *pngOut
	if out == "" {
		out = filepath.Join(t.TempDir(), "churn.png")
	}
	var buf bytes.Buffer
	if err := fig.WriteTo(&buf, chart.PNG); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pngdecode.Decode(&buf); err != nil {
		t.Fatal(err)
	}
}

var pngOut = flag.String("png", "", "write TestPartialChurnPNG's chart to this file")
