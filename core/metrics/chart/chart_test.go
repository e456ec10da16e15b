package chart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
