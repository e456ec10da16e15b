// Package chart draws the built-in metrics as SVG or PNG images with
// gonum's plot: lines for churn and retention over time, a heat map for
// cohort retention, funnels for stage conversion, bars for the forecast
// and for lifetime value. The CLI (rapport metrics … --output svg|png)
// and the HTTP Handler (for dashboards) both draw through Draw.
package chart

import (
	"context"
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/metrics"
)

// Kind names a chart.
type Kind string

// The charts.
const (
	// Churn is the customer and revenue churn rates per period (lines).
	Churn Kind = "churn"
	// Retention is the customer retention rate and net revenue retention
	// per period (lines).
	Retention Kind = "retention"
	// Cohorts is the cohort retention matrix (heat map).
	Cohorts Kind = "cohorts"
	// Conversion is one funnel per pipeline.
	Conversion Kind = "conversion"
	// Forecast is the open and weighted pipeline by expected close period
	// (bars).
	Forecast Kind = "forecast"
	// CLV is the top customers by historical lifetime value (bars).
	CLV Kind = "clv"
)

// Kinds are every chart, in the order the CLI lists them.
var Kinds = []Kind{Churn, Retention, CLV, Conversion, Forecast, Cohorts}

// ParseKind reads a chart name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == strings.ToLower(s) {
			return k, nil
		}
	}
	return "", errcode.New(errcode.NotFound, "no chart %q: use churn, retention, clv, conversion, forecast or cohorts", s)
}

// Format is an image format.
type Format string

// The formats charts are drawn in.
const (
	SVG Format = "svg"
	PNG Format = "png"
)

// ParseFormat reads "svg" or "png".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case SVG, PNG:
		return f, nil
	}
	return "", errcode.Input("format", "unknown image format %q: use svg or png", s)
}

// ContentType is the format's media type.
func (f Format) ContentType() string {
	if f == PNG {
		return "image/png"
	}
	return "image/svg+xml"
}

// Size is the size of a drawn chart.
var (
	Width  = 8 * vg.Inch
	Height = 4.5 * vg.Inch
)

// Figure is a drawn chart: one plot, or several side by side (a funnel
// per pipeline).
type Figure struct {
	plots [][]*plot.Plot
}

// WriteTo writes the figure in the format.
func (f *Figure) WriteTo(w io.Writer, format Format) (err error) {
	defer func() {
		if p := recover(); p != nil { // the plotting library panics on some inputs
			err = fmt.Errorf("chart: drawing failed: %v", p)
		}
	}()
	rows := len(f.plots)
	height := Height
	if rows > 1 {
		height = Height * vg.Length(rows) / 1.5
	}
	c, err := draw.NewFormattedCanvas(Width, height, string(format))
	if err != nil {
		return err
	}
	dc := draw.New(c)
	if rows == 1 && len(f.plots[0]) == 1 {
		f.plots[0][0].Draw(dc)
	} else {
		cols := 0
		for _, r := range f.plots {
			cols = max(cols, len(r))
		}
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
			PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
		// Align needs a full grid; pad short rows with empty plots.
		grid := make([][]*plot.Plot, rows)
		for i, r := range f.plots {
			grid[i] = append([]*plot.Plot{}, r...)
			for len(grid[i]) < cols {
				empty := plot.New()
				empty.HideAxes()
				grid[i] = append(grid[i], empty)
			}
		}
		canvases := plot.Align(grid, tiles, dc)
		for i := range grid {
			for j := range grid[i] {
				grid[i][j].Draw(canvases[i][j])
			}
		}
	}
	_, err = c.WriteTo(w)
	return err
}

// Draw computes the metrics the chart of kind shows, for q in the
// context's workspace, and draws them.
func Draw(ctx context.Context, svc *metrics.Service, kind Kind, q metrics.Query) (fig *Figure, err error) {
	defer func() {
		if p := recover(); p != nil { // the plotting library panics on some inputs
			fig, err = nil, fmt.Errorf("chart: drawing %s failed: %v", kind, p)
		}
	}()
	switch kind {
	case Churn, Retention:
		series, err := svc.Customers(ctx, q)
		if err != nil {
			return nil, err
		}
		if kind == Churn {
			return ChurnFigure(series)
		}
		return RetentionFigure(series)
	case Cohorts:
		m, err := svc.Cohorts(ctx, q)
		if err != nil {
			return nil, err
		}
		return CohortFigure(m)
	case Conversion:
		f, err := svc.Conversion(ctx, q)
		if err != nil {
			return nil, err
		}
		return ConversionFigure(f)
	case Forecast:
		f, err := svc.Forecast(ctx, q)
		if err != nil {
			return nil, err
		}
		return ForecastFigure(f)
	case CLV:
		v, err := svc.CLV(ctx, q)
		if err != nil {
			return nil, err
		}
		return CLVFigure(v)
	}
	return nil, errcode.New(errcode.NotFound, "no chart %q", kind)
}

// palette of the lines and bars.
var colors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

func percent(r *float64) float64 {
	if r == nil {
		return math.NaN()
	}
	return *r * 100
}

// lines plots named series over period labels; NaN values break a line.
// A point whose period is partial (not over) is drawn as a lighter open
// circle reached by a lighter dashed segment, so a figure "so far" does
// not read as a drop or a spike.
func lines(title, yLabel string, spans []metrics.Span, series map[string][]float64, order []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	partial := func(x int) bool { return x < len(spans) && spans[x].Partial }
	for i, name := range order {
		vals := series[name]
		style := colors[i%len(colors)]
		first := true
		var run plotter.XYs
		flush := func() error {
			if len(run) == 0 {
				return nil
			}
			l, s, err := plotter.NewLinePoints(run)
			if err != nil {
				return err
			}
			l.Color, s.Color = style, style
			l.Width = vg.Points(1.5)
			p.Add(l, s)
			if first {
				p.Legend.Add(name, l)
				first = false
			}
			run = nil
			return nil
		}
		for x, v := range vals {
			if math.IsNaN(v) || partial(x) {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			if math.IsNaN(v) {
				continue
			}
			if !partial(x) {
				run = append(run, plotter.XY{X: float64(x), Y: v})
				continue
			}
			pt := plotter.XYs{{X: float64(x), Y: v}}
			if x > 0 && !math.IsNaN(vals[x-1]) {
				seg, err := plotter.NewLine(plotter.XYs{{X: float64(x - 1), Y: vals[x-1]}, pt[0]})
				if err != nil {
					return nil, err
				}
				seg.LineStyle = partialLine(style)
				p.Add(seg)
			}
			s, err := plotter.NewScatter(pt)
			if err != nil {
				return nil, err
			}
			s.GlyphStyle = draw.GlyphStyle{Color: lighter(style), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
			p.Add(s)
			if first {
				p.Legend.Add(name, &plotter.Line{LineStyle: draw.LineStyle{Color: style, Width: vg.Points(1.5)}})
				first = false
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if len(spans) > 0 {
		p.NominalX(periodLabels(spans)...)
		p.X.Min, p.X.Max = -0.5, float64(len(spans))-0.5
	}
	if anyPartial(spans) {
		p.Legend.Add(partialNote, partialThumb())
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
	return p, nil
}

// partialNote is the legend entry of the marks of unfinished periods.
const partialNote = "dashed: period not over"

// partialDashes is the dash pattern of partial marks.
var partialDashes = []vg.Length{vg.Points(4), vg.Points(3)}

// noteGray colours the legend's partial-period thumbnail.
var noteGray = color.RGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff}

// partialLine is the dashed, lighter line style of a partial segment.
func partialLine(c color.Color) draw.LineStyle {
	return draw.LineStyle{Color: lighter(c), Width: vg.Points(1.5), Dashes: partialDashes}
}

// partialThumb is the legend thumbnail of partialNote.
func partialThumb() plot.Thumbnailer {
	return &plotter.Line{LineStyle: draw.LineStyle{Color: noteGray, Width: vg.Points(1.5), Dashes: partialDashes}}
}

// lighter mixes c half-way to white.
func lighter(c color.Color) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8((v>>8 + 0xff) / 2) }
	return color.RGBA{R: mix(r), G: mix(g), B: mix(b), A: 0xff}
}

// anyPartial reports whether a period of spans is not over.
func anyPartial(spans []metrics.Span) bool {
	for _, s := range spans {
		if s.Partial {
			return true
		}
	}
	return false
}

// periodLabels are the thinned labels of spans, a partial period's always
// shown and followed by "so far".
func periodLabels(spans []metrics.Span) []string {
	labels := make([]string, len(spans))
	for i, s := range spans {
		labels[i] = s.Label
	}
	labels = thin(labels)
	for i, s := range spans {
		if s.Partial {
			labels[i] = soFar(s)
		}
	}
	return labels
}

// soFar is the span's label, followed by "so far" when it is partial.
func soFar(s metrics.Span) string {
	if s.Partial {
		return s.Label + " so far"
	}
	return s.Label
}

// hatched marks rectangles (in canvas coordinates, computed when drawn)
// as partial: thin diagonal hatching and a dashed outline.
type hatched struct {
	rects   func(x, y func(float64) vg.Length) []vg.Rectangle
	outline color.Color
}

// Plot draws the hatching and outlines.
func (h hatched) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	for _, r := range h.rects(x, y) {
		w, ht := r.Max.X-r.Min.X, r.Max.Y-r.Min.Y
		if w <= 0 || ht <= 0 {
			continue
		}
		hatch := draw.LineStyle{Color: color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0x99}, Width: vg.Points(0.75)} // white at 60%
		step := vg.Points(5)
		for k := -ht; k < w; k += step {
			// The line x = Min.X+k+t, y = Min.Y+t, clipped to the rectangle.
			t0, t1 := max(0, -k), min(ht, w-k)
			if t0 >= t1 {
				continue
			}
			c.StrokeLine2(hatch, r.Min.X+k+t0, r.Min.Y+t0, r.Min.X+k+t1, r.Min.Y+t1)
		}
		c.SetLineStyle(draw.LineStyle{Color: h.outline, Width: vg.Points(1), Dashes: partialDashes})
		var path vg.Path
		path.Move(r.Min)
		path.Line(vg.Point{X: r.Max.X, Y: r.Min.Y})
		path.Line(r.Max)
		path.Line(vg.Point{X: r.Min.X, Y: r.Max.Y})
		path.Close()
		c.Stroke(path)
	}
}

// thin keeps at most about 12 period labels readable by blanking the rest.
func thin(labels []string) []string {
	step := (len(labels) + 11) / 12
	if step <= 1 {
		return labels
	}
	out := make([]string, len(labels))
	for i, l := range labels {
		if i%step == 0 {
			out[i] = l
		}
	}
	return out
}

func one(p *plot.Plot) *Figure { return &Figure{plots: [][]*plot.Plot{{p}}} }

// ChurnFigure draws customer churn and revenue churn per period.
func ChurnFigure(series []metrics.CustomerPeriod) (*Figure, error) {
	spans := make([]metrics.Span, len(series))
	churn, revenue := make([]float64, len(series)), make([]float64, len(series))
	for i, s := range series {
		spans[i] = s.Span
		churn[i] = percent(s.ChurnRate)
		revenue[i] = percent(s.RevenueChurnRate)
	}
	p, err := lines("Churn", "% of the period's start", spans,
		map[string][]float64{"customer churn": churn, "revenue churn": revenue}, []string{"customer churn", "revenue churn"})
	if err != nil {
		return nil, err
	}
	return one(p), nil
}

// RetentionFigure draws customer retention and net revenue retention per
// period.
func RetentionFigure(series []metrics.CustomerPeriod) (*Figure, error) {
	spans := make([]metrics.Span, len(series))
	ret, nrr := make([]float64, len(series)), make([]float64, len(series))
	for i, s := range series {
		spans[i] = s.Span
		ret[i] = percent(s.RetentionRate)
		nrr[i] = percent(s.NetRevenueRetention)
	}
	p, err := lines("Retention", "%", spans,
		map[string][]float64{"customer retention": ret, "net revenue retention": nrr}, []string{"customer retention", "net revenue retention"})
	if err != nil {
		return nil, err
	}
	return one(p), nil
}

// cohortGrid is the cohort matrix as a heat map grid: columns are periods
// since the first, rows are cohorts (oldest on top).
type cohortGrid struct {
	m    *metrics.CohortMatrix
	cols int
}

func (g cohortGrid) Dims() (c, r int) { return g.cols, len(g.m.Cohorts) }
func (g cohortGrid) Z(c, r int) float64 {
	co := g.m.Cohorts[len(g.m.Cohorts)-1-r]
	if c >= len(co.Cells) {
		return math.NaN()
	}
	return percent(co.Cells[c].Rate)
}
func (g cohortGrid) X(c int) float64 { return float64(c) }
func (g cohortGrid) Y(r int) float64 { return float64(r) }
func (g cohortGrid) Min() float64    { return 0 }
func (g cohortGrid) Max() float64    { return 100 }

// CohortFigure draws the cohort matrix as a heat map of retention rates.
func CohortFigure(m *metrics.CohortMatrix) (*Figure, error) {
	p := plot.New()
	p.Title.Text = "Cohort retention (% of cohort active)"
	p.X.Label.Text = string(m.Period) + "s since first order"
	if len(m.Cohorts) == 0 {
		return one(p), nil
	}
	g := cohortGrid{m: m, cols: len(m.Cohorts[0].Cells)}
	blues, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		return nil, err
	}
	h := plotter.NewHeatMap(g, blues)
	h.NaN = color.Transparent
	pal := h.Palette.Colors()
	h.Underflow, h.Overflow = pal[0], pal[len(pal)-1]
	p.Add(h)
	var (
		xys        plotter.XYs
		labels     []string
		cellLabels plot.Plotter // drawn last, above any hatching
	)
	c, r := g.Dims()
	if c*r <= 400 { // write the rates in the cells while they fit
		for y := range r {
			for x := range c {
				if z := g.Z(x, y); !math.IsNaN(z) {
					xys = append(xys, plotter.XY{X: float64(x), Y: float64(y)})
					labels = append(labels, fmt.Sprintf("%.0f", z))
				}
			}
		}
		if len(xys) > 0 {
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
			if err != nil {
				return nil, err
			}
			for i := range l.TextStyle {
				l.TextStyle[i].Color = color.Black
				if z := g.Z(int(xys[i].X), int(xys[i].Y)); z >= 60 {
					l.TextStyle[i].Color = color.White
				}
				l.TextStyle[i].XAlign = -0.5
				l.TextStyle[i].YAlign = -0.5
				l.TextStyle[i].Font.Size = vg.Points(7)
			}
			cellLabels = l
		}
	}
	xl := make([]string, c)
	for i := range xl {
		xl[i] = fmt.Sprint(i)
	}
	yl := make([]string, r)
	for i := range yl {
		co := m.Cohorts[len(m.Cohorts)-1-i]
		yl[i] = fmt.Sprintf("%s (%d)", soFar(co.Span), co.Size)
	}
	var partial []plotter.XY // cells whose period is not over
	for y := range r {
		for x := range c {
			// Cohorts are one per period of the range, so the cell x of
			// cohort a is in the period of cohort a+x.
			a := len(m.Cohorts) - 1 - y
			if a+x < len(m.Cohorts) && m.Cohorts[a+x].Partial && x < len(m.Cohorts[a].Cells) {
				partial = append(partial, plotter.XY{X: float64(x), Y: float64(y)})
			}
		}
	}
	if len(partial) > 0 {
		p.Add(hatched{outline: color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, rects: func(tx, ty func(float64) vg.Length) []vg.Rectangle {
			out := make([]vg.Rectangle, len(partial))
			for i, c := range partial {
				out[i] = vg.Rectangle{Min: vg.Point{X: tx(c.X - 0.5), Y: ty(c.Y - 0.5)}, Max: vg.Point{X: tx(c.X + 0.5), Y: ty(c.Y + 0.5)}}
			}
			return out
		}})
		p.X.Label.Text += "; hatched, dashed: period not over"
	}
	if cellLabels != nil {
		p.Add(cellLabels)
	}
	p.NominalX(thin(xl)...)
	p.NominalY(yl...)
	// gonum skips cells that do not fit the canvas exactly; a hair of
	// margin keeps the edge cells.
	p.X.Min, p.X.Max = -0.51, float64(c)-0.49
	p.Y.Min, p.Y.Max = -0.51, float64(r)-0.49
	return one(p), nil
}

// ConversionFigure draws one funnel per pipeline: a centred bar per step,
// as wide as the deals that reached it, labelled with its conversion.
func ConversionFigure(funnels []metrics.Funnel) (*Figure, error) {
	if len(funnels) == 0 {
		p := plot.New()
		p.Title.Text = "Conversion: no pipelines"
		return one(p), nil
	}
	var row []*plot.Plot
	f := &Figure{}
	for _, fu := range funnels {
		p, err := funnel(fu)
		if err != nil {
			return nil, err
		}
		row = append(row, p)
		if len(row) == 2 {
			f.plots = append(f.plots, row)
			row = nil
		}
	}
	if len(row) > 0 {
		f.plots = append(f.plots, row)
	}
	return f, nil
}

func funnel(fu metrics.Funnel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: %d deals", fu.Pipeline, fu.Deals)
	n := len(fu.Steps)
	if n == 0 {
		return p, nil
	}
	widest := 0.0
	for _, s := range fu.Steps {
		widest = max(widest, float64(s.Reached))
	}
	// Steps top to bottom: the first step is drawn at the top.
	pad, val := make(plotter.Values, n), make(plotter.Values, n)
	names := make([]string, n)
	var (
		xys    plotter.XYs
		labels []string
	)
	for i, s := range fu.Steps {
		y := n - 1 - i
		pad[y] = (widest - float64(s.Reached)) / 2
		val[y] = float64(s.Reached)
		names[y] = s.Stage
		text := fmt.Sprintf("%d", s.Reached)
		if s.Conversion != nil {
			text += fmt.Sprintf(" (%.0f%%)", *s.Conversion*100)
		}
		xys = append(xys, plotter.XY{X: widest / 2, Y: float64(y)})
		labels = append(labels, text)
	}
	w := vg.Points(22)
	invisible, err := plotter.NewBarChart(pad, w)
	if err != nil {
		return nil, err
	}
	invisible.Horizontal = true
	invisible.Color = color.Transparent
	invisible.LineStyle.Width = 0
	bars, err := plotter.NewBarChart(val, w)
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = colors[0]
	bars.LineStyle.Width = 0
	bars.StackOn(invisible)
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Color = color.White
		l.TextStyle[i].XAlign = -0.5
		l.TextStyle[i].YAlign = -0.5
	}
	p.Add(invisible, bars, l)
	p.NominalY(names...)
	p.HideX()
	return p, nil
}

// ForecastFigure draws the open amount and the weighted forecast per
// expected close period.
func ForecastFigure(f *metrics.Forecast) (*Figure, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Forecast: %s weighted of %s open", f.Total.Weighted, f.Total.Amount)
	p.Y.Label.Text = "amount"
	p.Add(plotter.NewGrid())
	n := len(f.Periods)
	// Bars of a period not over are lighter, hatched and outlined dashed.
	amount, weighted := make(plotter.Values, n), make(plotter.Values, n)
	pAmount, pWeighted := make(plotter.Values, n), make(plotter.Values, n)
	spans := make([]metrics.Span, n)
	for i, fp := range f.Periods {
		spans[i] = fp.Span
		if fp.Partial {
			pAmount[i], pWeighted[i] = fp.Amount.Float(), fp.Weighted.Float()
		} else {
			amount[i], weighted[i] = fp.Amount.Float(), fp.Weighted.Float()
		}
	}
	w := vg.Points(10)
	amountColor := color.RGBA{R: 0xae, G: 0xc7, B: 0xe8, A: 0xff}
	bar := func(vals plotter.Values, c color.Color, offset vg.Length) (*plotter.BarChart, error) {
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color, b.LineStyle.Width, b.Offset = c, 0, offset
		return b, nil
	}
	a, err := bar(amount, amountColor, -w/2)
	if err != nil {
		return nil, err
	}
	b, err := bar(weighted, colors[0], w/2)
	if err != nil {
		return nil, err
	}
	p.Add(a, b)
	p.Legend.Add("open amount", a)
	p.Legend.Add("weighted", b)
	if anyPartial(spans) {
		pa, err := bar(pAmount, lighter(amountColor), -w/2)
		if err != nil {
			return nil, err
		}
		pw, err := bar(pWeighted, lighter(colors[0]), w/2)
		if err != nil {
			return nil, err
		}
		p.Add(pa, pw, hatched{outline: noteGray, rects: func(tx, ty func(float64) vg.Length) []vg.Rectangle {
			var out []vg.Rectangle
			for i, s := range spans {
				if !s.Partial {
					continue
				}
				top := max(pAmount[i], pWeighted[i])
				out = append(out, vg.Rectangle{Min: vg.Point{X: tx(float64(i)) - w, Y: ty(0)}, Max: vg.Point{X: tx(float64(i)) + w, Y: ty(top)}})
			}
			return out
		}})
		p.Legend.Add(partialNote, partialThumb())
	}
	p.Legend.Top = true
	if n > 0 {
		p.NominalX(periodLabels(spans)...)
	}
	return one(p), nil
}

// CLVFigure draws the top customers by historical lifetime value.
func CLVFigure(v *metrics.CLV) (*Figure, error) {
	p := plot.New()
	title := "Lifetime value"
	if v.HistoricalAverage != nil {
		title += fmt.Sprintf(": average %s", *v.HistoricalAverage)
	}
	if v.Predictive != nil {
		title += fmt.Sprintf(", predictive %s", *v.Predictive)
	}
	p.Title.Text = title
	n := len(v.Top)
	if n == 0 {
		return one(p), nil
	}
	vals := make(plotter.Values, n)
	names := make([]string, n)
	for i, c := range v.Top {
		y := n - 1 - i // highest on top
		vals[y] = c.Margin.Float()
		names[y] = c.Name
		if names[y] == "" {
			names[y] = string(c.ID)
		}
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(14))
	if err != nil {
		return nil, err
	}
	bars.Horizontal = true
	bars.Color = colors[0]
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalY(names...)
	p.X.Label.Text = "historical margin"
	return one(p), nil
}
