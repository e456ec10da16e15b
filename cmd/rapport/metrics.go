package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/chart"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// metricsFlags are the flags every `rapport metrics` command takes.
type metricsFlags struct {
	workspace, from, to, period string
	segment, owner, pipeline    string
	window                      int
	output, file                string
	top                         int
	discount, retention         float64
	margin, acquisition         string
	replyDays                   int
}

func newMetricsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Churn, retention, lifetime value, conversion, forecast and cohorts of a workspace",
		Long: `Built-in metrics of a workspace, per period, as a table, JSON or CSV, or drawn
as a chart (--output svg|png). The formulas are documented in the core/metrics
package.

--from and --to are a year (2025), a month (2025-03), a day (2025-03-15) or an
RFC 3339 time; --to includes the year, month or day it names. Without them a
command covers the last 12 months (forecast: the next 12).`,
	}
	for _, sub := range []struct {
		use, short string
		kind       chart.Kind // "" when there is no chart
		run        func(*cobra.Command, *metricsFlags, *metrics.Service, metrics.Query) (table, error)
	}{
		{"churn", "Customers at start and end, new, churned, churn and revenue churn rates", chart.Churn, churnTable},
		{"retention", "Retention rate and net revenue retention", chart.Retention, retentionTable},
		{"clv", "Lifetime value: historical and predictive (--top N lists the top customers)", chart.CLV, clvTable},
		{"conversion", "Stage-to-stage conversion per pipeline", chart.Conversion, conversionTable},
		{"forecast", "Weighted pipeline by expected close period", chart.Forecast, forecastTable},
		{"cohorts", "Cohort retention matrix (% of each cohort active)", chart.Cohorts, cohortTable},
		{"deals", "Deals won and lost, win rate, cycle length and sales velocity", "", dealsTable},
		{"engagement", "Activities per contact, email reply rate", "", engagementTable},
	} {
		f := &metricsFlags{}
		c := &cobra.Command{
			Use:   sub.use + " --workspace SLUG",
			Short: sub.short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				return runMetrics(cmd, g, f, sub.use, sub.kind, sub.run)
			},
		}
		fl := c.Flags()
		fl.StringVarP(&f.workspace, "workspace", "w", "", "workspace slug (required)")
		fl.StringVar(&f.from, "from", "", "first period: 2025, 2025-03, 2025-03-15 or an RFC 3339 time")
		fl.StringVar(&f.to, "to", "", "last period (inclusive), same forms as --from")
		fl.StringVar(&f.period, "period", "month", "month, quarter or year")
		fl.StringVar(&f.segment, "segment", "", "only the members of this segment (ID), or of the segments with this key")
		fl.StringVar(&f.owner, "owner", "", "only records owned by this member (ID)")
		fl.StringVar(&f.pipeline, "pipeline", "", "only this pipeline's deals, and orders linked to them (ID)")
		fl.IntVar(&f.window, "window", 1, "periods an order keeps a customer active")
		out := "table, json, csv"
		if sub.kind != "" {
			out += ", svg or png"
		}
		fl.StringVarP(&f.output, "output", "o", "table", out)
		fl.StringVarP(&f.file, "file", "f", "", "write to this file instead of standard output")
		switch sub.use {
		case "clv":
			fl.IntVar(&f.top, "top", 0, "list the N customers of highest historical value instead of the summary")
			fl.Float64Var(&f.discount, "discount-rate", metrics.DefaultAnnualDiscountRate, "annual discount rate i")
			fl.StringVar(&f.acquisition, "acquisition-cost", "0", "acquisition cost per customer AC")
			fl.StringVar(&f.margin, "margin", "", "margin per customer per period m (default: measured)")
			fl.Float64Var(&f.retention, "retention", -1, "retention rate per period r, 0 to 1 (default: measured)")
		case "engagement":
			fl.IntVar(&f.replyDays, "reply-days", 7, "days within which an inbound email counts as a reply")
		}
		_ = c.MarkFlagRequired("workspace")
		cmd.AddCommand(c)
	}
	cmd.AddCommand(newMetricsRollupCmds(g)...)
	return cmd
}

func runMetrics(cmd *cobra.Command, g *globals, f *metricsFlags, name string, kind chart.Kind,
	run func(*cobra.Command, *metricsFlags, *metrics.Service, metrics.Query) (table, error)) error {
	var format chart.Format
	switch f.output {
	case "", "table", "json", "csv":
	case "svg", "png":
		if kind == "" {
			return errcode.Input("output", "%s has no chart: use table, json or csv", name)
		}
		format = chart.Format(f.output)
	default:
		return errcode.Input("output", "unknown output %q: use table, json, csv, svg or png", f.output)
	}
	q, err := f.query(name == "forecast")
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := access.WorkspaceBySlug(ctx, st.Client, f.workspace)
	if err != nil {
		return err
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleViewer})
	cmd.SetContext(ctx)
	svc := metrics.New(st)

	// Compute first, then write: a failure leaves no half-written file.
	var write func(io.Writer) error
	if format != "" {
		fig, err := chart.Draw(ctx, svc, kind, q)
		if err != nil {
			return err
		}
		write = func(w io.Writer) error { return fig.WriteTo(w, format) }
	} else {
		t, err := run(cmd, f, svc, q)
		if err != nil {
			return err
		}
		write = func(w io.Writer) error { return t.write(w, f.output) }
	}
	if f.file == "" {
		return write(cmd.OutOrStdout())
	}
	file, err := os.Create(f.file)
	if err != nil {
		return err
	}
	err = write(file)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "wrote", f.file)
	}
	return err
}

// query builds the metrics query from the flags.
func (f *metricsFlags) query(forward bool) (metrics.Query, error) {
	period, err := metrics.ParsePeriod(f.period)
	if err != nil {
		return metrics.Query{}, err
	}
	from, to, err := metrics.ParseRange(f.from, f.to, period, time.Now(), forward)
	if err != nil {
		return metrics.Query{}, err
	}
	q := metrics.Query{From: from, To: to, Period: period, ActiveWindow: f.window, TopCustomers: -1}
	for _, id := range []struct {
		flag, value string
		dst         *pulid.ID
	}{{"owner", f.owner, &q.Filter.OwnerID}, {"pipeline", f.pipeline, &q.Filter.PipelineID}} {
		if id.value == "" {
			continue
		}
		if *id.dst, err = pulid.Parse(id.value); err != nil {
			return q, errcode.Input(id.flag, "%v", err)
		}
	}
	if err := metrics.ParseSegment(f.segment, &q.Filter); err != nil {
		return q, errcode.Input("segment", "%v", err)
	}
	if f.top > 0 {
		q.TopCustomers = f.top
	}
	d := f.discount
	q.CLV.AnnualDiscountRate = &d
	if f.acquisition != "" {
		if q.CLV.AcquisitionCost, err = crm.ParseMoney(f.acquisition); err != nil {
			return q, errcode.Input("acquisition-cost", "%v", err)
		}
	}
	if f.margin != "" {
		m, err := crm.ParseMoney(f.margin)
		if err != nil {
			return q, errcode.Input("margin", "%v", err)
		}
		q.CLV.Margin = &m
	}
	if f.retention >= 0 {
		r := f.retention
		q.CLV.Retention = &r
	}
	if f.replyDays > 0 {
		q.ReplyWithin = time.Duration(f.replyDays) * 24 * time.Hour
	}
	return q.Normalized()
}

func churnTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	series, err := svc.Customers(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"period", "customers_start", "customers_end", "new", "reactivated", "churned", "churn_rate", "revenue", "starting_revenue", "lost_revenue", "revenue_churn_rate"}}
	for _, s := range series {
		t.Rows = append(t.Rows, []any{spanLabel(s.Span), s.CustomersAtStart, s.CustomersAtEnd, s.NewCustomers, s.Reactivated, s.Churned,
			s.ChurnRate, s.Revenue, s.StartingRevenue, s.LostRevenue, s.RevenueChurnRate})
	}
	return t, nil
}

func retentionTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	series, err := svc.Customers(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"period", "customers_start", "customers_end", "new", "reactivated", "retained", "retention_rate", "starting_revenue", "retained_revenue", "net_revenue_retention"}}
	for _, s := range series {
		t.Rows = append(t.Rows, []any{spanLabel(s.Span), s.CustomersAtStart, s.CustomersAtEnd, s.NewCustomers, s.Reactivated, s.Retained,
			s.RetentionRate, s.StartingRevenue, s.RetainedRevenue, s.NetRevenueRetention})
	}
	return t, nil
}

func clvTable(cmd *cobra.Command, f *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	v, err := svc.CLV(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	if f.top > 0 {
		t := table{Columns: []string{"rank", "id", "kind", "name", "orders", "revenue", "margin", "first_order", "last_order"}}
		for i, c := range v.Top {
			t.Rows = append(t.Rows, []any{i + 1, c.ID, c.Kind, c.Name, c.Orders, c.Revenue, c.Margin, c.FirstOrder, c.LastOrder})
		}
		return t, nil
	}
	source := func(measured bool) string {
		if measured {
			return "measured"
		}
		return "configured"
	}
	t := table{Columns: []string{"measure", "value", "note"}}
	t.Rows = [][]any{
		{"customers", v.Customers, "with an order before " + q.To.Format("2006-01-02")},
		{"historical_revenue", v.HistoricalRevenue, nil},
		{"historical_margin", v.HistoricalMargin, "Σ (amount − cost)"},
		{"historical_clv", v.HistoricalAverage, "historical margin per customer"},
		{"margin_per_period", v.Margin, "m, " + source(v.MarginMeasured)},
		{"retention", v.Retention, "r per " + string(q.Period) + ", " + source(v.RetentionMeasured)},
		{"discount_rate", v.DiscountRate, "i per " + string(q.Period)},
		{"acquisition_cost", v.AcquisitionCost, "AC"},
		{"predictive_clv", v.Predictive, "m·r/(1+i−r) − AC"},
	}
	return t, nil
}

func conversionTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	funnels, err := svc.Conversion(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"pipeline", "step", "stage", "kind", "entered", "reached", "skipped", "conversion", "from_first"}}
	for _, fu := range funnels {
		for i, s := range fu.Steps {
			t.Rows = append(t.Rows, []any{fu.Pipeline, i + 1, s.Stage, s.Kind, s.Entered, s.Reached, s.Skipped, s.Conversion, s.FromFirst})
		}
	}
	return t, nil
}

func forecastTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	fc, err := svc.Forecast(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"expected_close", "deals", "amount", "weighted"}}
	row := func(label string, b metrics.ForecastBucket) {
		t.Rows = append(t.Rows, []any{label, b.Deals, b.Amount, b.Weighted})
	}
	row("overdue", fc.Overdue)
	for _, p := range fc.Periods {
		row(spanLabel(p.Span), p.ForecastBucket)
	}
	row("later", fc.Later)
	row("unscheduled", fc.Unscheduled)
	row("total", fc.Total)
	return t, nil
}

func cohortTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	m, err := svc.Cohorts(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	width := 0
	for _, c := range m.Cohorts {
		width = max(width, len(c.Cells))
	}
	t := table{Columns: []string{"cohort", "size"}}
	for i := range width {
		t.Columns = append(t.Columns, fmt.Sprintf("%s_%d", q.Period, i))
	}
	for _, c := range m.Cohorts {
		r := []any{spanLabel(c.Span), c.Size}
		for i := range width {
			var cell any // missing
			if i < len(c.Cells) && c.Cells[i].Rate != nil {
				cell = *c.Cells[i].Rate * 100
			}
			r = append(r, cell)
		}
		t.Rows = append(t.Rows, r)
	}
	return t, nil
}

func dealsTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	series, err := svc.Deals(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"period", "created", "open_at_start", "won", "lost", "win_rate", "won_amount", "average_won", "average_cycle_days", "sales_velocity_per_day"}}
	for _, d := range series {
		t.Rows = append(t.Rows, []any{spanLabel(d.Span), d.Created, d.OpenAtStart, d.Won, d.Lost, d.WinRate, d.WonAmount,
			d.AverageWonAmount, d.AverageCycleDays, d.SalesVelocity})
	}
	return t, nil
}

func engagementTable(cmd *cobra.Command, _ *metricsFlags, svc *metrics.Service, q metrics.Query) (table, error) {
	e, err := svc.Engagement(cmd.Context(), q)
	if err != nil {
		return table{}, err
	}
	t := table{Columns: []string{"period", "contacts", "activities"}}
	for _, k := range metrics.ActivityKinds {
		t.Columns = append(t.Columns, k+"_per_contact")
	}
	t.Columns = append(t.Columns, "outbound_emails", "replied", "reply_rate")
	for _, p := range e.Periods {
		r := []any{spanLabel(p.Span), p.Contacts, p.Activities}
		for _, k := range p.ByKind {
			r = append(r, k.PerContact)
		}
		t.Rows = append(t.Rows, append(r, p.OutboundEmails, p.Replied, p.ReplyRate))
	}
	return t, nil
}

// spanLabel is a period's label in tables and CSV, marked "(partial)"
// when the period had not ended: its figures are so far.
func spanLabel(s metrics.Span) string {
	if s.Partial {
		return s.Label + " (partial)"
	}
	return s.Label
}
