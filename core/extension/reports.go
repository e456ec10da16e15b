package extension

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/extensionbinding"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/lineitem"
	"github.com/rapportcrm/rapport/core/errcode"
	crmmetrics "github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/sdk"
)

// MaxReportSubjects bounds the subjects of one type a report reads: past
// it, RunReport refuses rather than build an unbounded request.
const MaxReportSubjects = 250_000

// ReportParams are the parameters of a report run, as JSON: the range and
// period of the metrics (defaults: the twelve months before now, by
// month) and the acquisition cost per new customer that CLV and
// acquisition economics use (currency units; none by default). Plugins
// receive the same JSON.
type ReportParams struct {
	From            string  `json:"from,omitempty"`
	To              string  `json:"to,omitempty"`
	Period          string  `json:"period,omitempty"`
	AcquisitionCost float64 `json:"acquisition_cost,omitempty"`
}

// ReportOptions names the report to run.
type ReportOptions struct {
	// Plugin is "name" (the workspace's bound version if the workspace's
	// report binding names it, else the newest loaded) or "name@version".
	Plugin string
	// Params is a JSON object of ReportParams; nil for the defaults.
	Params json.RawMessage
	// Now is the reference time (days since…); time.Now() when zero.
	Now time.Time
}

// RunReport runs a report plugin on the caller's workspace: it builds the
// batches of every subject type the manifest's inputs name (a page of
// subjects at a time), the record batches of its records and the metric
// series of its metrics, calls the plugin and checks its answer. The
// configuration is that of the workspace's report binding when it names
// the plugin, else the manifest's defaults.
func (r *Registry) RunReport(ctx context.Context, client *ent.Client, opts ReportOptions) (*sdk.Report, *Plugin, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	name, version, _ := strings.Cut(opts.Plugin, "@")
	var bound map[string]any
	b, err := client.ExtensionBinding.Query().
		Where(extensionbinding.PointEQ(extensionbinding.PointReport), extensionbinding.PluginEQ(name)).First(ctx)
	switch {
	case err == nil:
		if version == "" || version == b.Version {
			version, bound = b.Version, b.Config
		}
	case !ent.IsNotFound(err):
		return nil, nil, err
	}
	var p *Plugin
	if version == "" {
		p, err = r.latest(ctx, client, name)
	} else {
		p, err = r.lookup(ctx, client, name, version)
	}
	if err != nil {
		return nil, nil, err
	}
	m := p.Manifest
	if !m.Implements(sdk.PointReport) {
		return nil, p, errcode.Input("plugin", "plugin %s does not implement report", m.Ref())
	}
	params := ReportParams{}
	if len(opts.Params) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(opts.Params)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&params); err != nil {
			return nil, p, errcode.Input("params", "report parameters: %v", err)
		}
	}
	cfg, err := configFor(m.ConfigSchema, bound)
	if err != nil {
		return nil, p, err
	}
	raw, _ := json.Marshal(params)
	req := &sdk.ReportRequest{Params: raw, Config: cfg}
	subjects := make([]string, 0, len(m.Inputs))
	for s := range m.Inputs {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		batch, err := allSubjects(ctx, client, s, m.Inputs[s], opts.Now)
		if err != nil {
			return nil, p, err
		}
		req.Batches = append(req.Batches, batch)
	}
	records := make([]string, 0, len(m.Records))
	for rt := range m.Records {
		records = append(records, rt)
	}
	sort.Strings(records)
	for _, rt := range records {
		batch, err := recordBatch(ctx, client, rt, m.Records[rt], m.Name)
		if err != nil {
			return nil, p, err
		}
		req.Batches = append(req.Batches, batch)
	}
	if len(m.Metrics) > 0 {
		if req.Metrics, err = reportMetrics(ctx, client, m.Metrics, params, opts.Now); err != nil {
			return nil, p, err
		}
	}
	rep, err := r.Report(ctx, p, req)
	if err != nil {
		return nil, p, err
	}
	if err := CheckReport(rep); err != nil {
		return nil, p, pluginError(p, sdk.PointReport, err)
	}
	return rep, p, nil
}

// CheckReport checks a plugin's report the way clients rely on: finite
// numbers, as many labels as values in every series, as many cells as
// columns in every row.
func CheckReport(r *sdk.Report) error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	for _, s := range r.Sections {
		for _, k := range s.KPIs {
			if bad(k.Value) || (k.Target != nil && bad(*k.Target)) {
				return &malformed{fmt.Sprintf("section %q: KPI %q is not a finite number", s.Key, k.Key)}
			}
		}
		for _, t := range s.Tables {
			for i, row := range t.Rows {
				if len(row) != len(t.Columns) {
					return &malformed{fmt.Sprintf("section %q: table %q row %d has %d cells for %d columns", s.Key, t.Key, i, len(row), len(t.Columns))}
				}
			}
		}
		for _, sr := range s.Series {
			if len(sr.Labels) != len(sr.Values) {
				return &malformed{fmt.Sprintf("section %q: series %q has %d labels for %d values", s.Key, sr.Name, len(sr.Labels), len(sr.Values))}
			}
			for _, v := range sr.Values {
				if bad(v) {
					return &malformed{fmt.Sprintf("section %q: series %q holds a value that is not finite", s.Key, sr.Name)}
				}
			}
		}
	}
	return nil
}

// malformed is a report that breaks CheckReport.
type malformed struct{ msg string }

func (m *malformed) Error() string { return "malformed report: " + m.msg }

// allSubjects builds one batch of every subject of the type in the
// caller's workspace, a page of 1,000 at a time.
func allSubjects(ctx context.Context, client *ent.Client, subjectType string, attrs []string, now time.Time) (sdk.Batch, error) {
	next, total, err := subjectPages(ctx, client, subjectType, nil, 1000)
	if err != nil {
		return sdk.Batch{}, err
	}
	if total > MaxReportSubjects {
		return sdk.Batch{}, errcode.Input("plugin", "the workspace has %d %s subjects; reports read at most %d", total, subjectType, MaxReportSubjects)
	}
	out := sdk.Batch{SubjectType: subjectType}
	plan, err := CompileInputs(ctx, client, subjectType, attrs)
	if err != nil {
		return out, err
	}
	for {
		ids, err := next()
		if err != nil {
			return out, err
		}
		if len(ids) == 0 {
			return out, nil
		}
		page, err := plan.Build(ctx, client, ids, now)
		if err != nil {
			return out, err
		}
		appendBatch(&out, page)
	}
}

// appendBatch appends src's subjects to dst, column by column, merging the
// dictionaries of categorical columns.
func appendBatch(dst *sdk.Batch, src sdk.Batch) {
	if dst.Count == 0 && len(dst.Columns) == 0 {
		*dst = src
		return
	}
	for _, sc := range src.Columns {
		dc := dst.Column(sc.Name)
		if dc == nil {
			continue
		}
		if sc.Numbers != nil {
			dc.Numbers = append(dc.Numbers, sc.Numbers...)
			continue
		}
		codes := make(map[string]uint32, len(dc.Dictionary))
		for i, s := range dc.Dictionary {
			codes[s] = uint32(i)
		}
		for _, c := range sc.Codes {
			if c == sdk.Missing || int(c) >= len(sc.Dictionary) {
				dc.Codes = append(dc.Codes, sdk.Missing)
				continue
			}
			s := sc.Dictionary[c]
			code, ok := codes[s]
			if !ok {
				code = uint32(len(dc.Dictionary))
				dc.Dictionary = append(dc.Dictionary, s)
				codes[s] = code
			}
			dc.Codes = append(dc.Codes, code)
		}
	}
	if dst.IDs != nil || src.IDs != nil {
		dst.IDs = append(dst.IDs, src.IDs...)
	}
	dst.Count += src.Count
}

// recordBatch builds the batch of a record type. The records' rows are
// aggregates: purchases per customer and product, answers per question.
func recordBatch(ctx context.Context, client *ent.Client, recordType string, attrs []string, plugin string) (sdk.Batch, error) {
	b := sdk.Batch{SubjectType: recordType}
	known := sdk.RecordTypes[recordType]
	cols := map[string]*column{}
	add := func(name, kind string, n int) {
		if contains(attrs, name) {
			cols[name] = newColumn(name, kind, n)
		}
	}
	switch recordType {
	case sdk.RecordPurchases:
		// A purchase is a line item of an order, or of a won deal that
		// no order carries: the customer is the order's (or deal's)
		// organization, else its contact.
		items, err := client.LineItem.Query().
			Where(lineitem.Or(lineitem.OrderIDNotNil(), lineitem.HasDealWith(deal.StatusEQ(deal.StatusWon)))).
			WithOrder().WithDeal().All(ctx)
		if err != nil {
			return b, err
		}
		type key struct{ customer, product string }
		type sums struct{ quantity, amount float64 }
		agg := map[key]*sums{}
		var keys []key
		for _, li := range items {
			var org, con *pulid.ID
			switch o, d := li.Edges.Order, li.Edges.Deal; {
			case o != nil:
				org, con = o.OrganizationID, o.ContactID
			case d != nil:
				org, con = d.OrganizationID, d.ContactID
			}
			var customer pulid.ID
			switch {
			case org != nil:
				customer = *org
			case con != nil:
				customer = *con
			default:
				continue
			}
			k := key{string(customer), li.Name}
			if agg[k] == nil {
				agg[k] = &sums{}
				keys = append(keys, k)
			}
			agg[k].quantity += float64(li.Quantity)
			agg[k].amount += li.Amount.Float()
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].customer != keys[j].customer {
				return keys[i].customer < keys[j].customer
			}
			return keys[i].product < keys[j].product
		})
		n := len(keys)
		add("customer_id", "category", n)
		add("product", "category", n)
		add("quantity", "number", n)
		add("amount", "number", n)
		for i, k := range keys {
			if c := cols["customer_id"]; c != nil {
				c.setText(i, k.customer)
			}
			if c := cols["product"]; c != nil {
				c.setText(i, k.product)
			}
			setNumber(cols["quantity"], i, agg[k].quantity)
			setNumber(cols["amount"], i, agg[k].amount)
		}
		b.Count = n
	case sdk.RecordAssessment:
		answers, err := assessmentAnswers(ctx, client, plugin)
		if err != nil {
			return b, err
		}
		n := len(answers)
		add("question", "category", n)
		add("answer", "number", n)
		for i, a := range answers {
			if c := cols["question"]; c != nil {
				c.setText(i, a.Question)
			}
			setNumber(cols["answer"], i, a.Answer)
		}
		b.Count = n
	default:
		return b, errcode.Input("plugin", "unknown record type %q", recordType)
	}
	for _, name := range known {
		if c := cols[name]; c != nil {
			b.Columns = append(b.Columns, c.Column)
		}
	}
	return b, nil
}

// reportMetrics computes the named metric series over the params' range.
func reportMetrics(ctx context.Context, client *ent.Client, names []string, params ReportParams, now time.Time) ([]sdk.Series, error) {
	period := crmmetrics.Month
	if params.Period != "" {
		p, err := crmmetrics.ParsePeriod(params.Period)
		if err != nil {
			return nil, errcode.Input("params.period", "%v", err)
		}
		period = p
	}
	from, to, err := crmmetrics.ParseRange(params.From, params.To, period, now, false)
	if err != nil {
		return nil, errcode.Input("params", "%v", err)
	}
	ac, err := crm.FromFloat(params.AcquisitionCost)
	if err != nil || ac < 0 {
		return nil, errcode.Input("params.acquisition_cost", "want a non-negative amount")
	}
	q := crmmetrics.Query{From: from, To: to, Period: period, CLV: crmmetrics.CLVConfig{AcquisitionCost: ac}}
	svc := crmmetrics.ForClient(client)
	svc.Now = func() time.Time { return now }
	rep, err := svc.Report(ctx, q)
	if err != nil {
		return nil, err
	}
	perPeriod := func(name string, n int, at func(i int) (string, *float64)) sdk.Series {
		s := sdk.Series{Name: name, Chart: "line"}
		for i := 0; i < n; i++ {
			label, v := at(i)
			if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
				s.Labels = append(s.Labels, label)
				s.Values = append(s.Values, *v)
			}
		}
		return s
	}
	f := func(v float64) *float64 { return &v }
	money := func(m interface{ Float() float64 }) *float64 { return f(m.Float()) }
	single := func(name string, v *float64) sdk.Series {
		s := sdk.Series{Name: name}
		if v != nil && !math.IsNaN(*v) {
			s.Labels, s.Values = []string{"all"}, []float64{*v}
		}
		return s
	}
	cs, ds := rep.Customers, rep.Deals
	var out []sdk.Series
	for _, name := range names {
		var s sdk.Series
		switch name {
		case "customers_at_end":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, f(float64(cs[i].CustomersAtEnd)) })
		case "new_customers":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, f(float64(cs[i].NewCustomers)) })
		case "churned_customers":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, f(float64(cs[i].Churned)) })
		case "churn_rate":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, cs[i].ChurnRate })
		case "retention_rate":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, cs[i].RetentionRate })
		case "revenue":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, money(cs[i].Revenue) })
		case "net_revenue_retention":
			s = perPeriod(name, len(cs), func(i int) (string, *float64) { return cs[i].Label, cs[i].NetRevenueRetention })
		case "win_rate":
			s = perPeriod(name, len(ds), func(i int) (string, *float64) { return ds[i].Label, ds[i].WinRate })
		case "average_cycle_days":
			s = perPeriod(name, len(ds), func(i int) (string, *float64) { return ds[i].Label, ds[i].AverageCycleDays })
		case "sales_velocity":
			s = perPeriod(name, len(ds), func(i int) (string, *float64) {
				if ds[i].SalesVelocity == nil {
					return ds[i].Label, nil
				}
				return ds[i].Label, money(*ds[i].SalesVelocity)
			})
		case "reply_rate":
			ep := rep.Engagement.Periods
			s = perPeriod(name, len(ep), func(i int) (string, *float64) { return ep[i].Label, ep[i].ReplyRate })
		case "clv_historical_average":
			if v := rep.CLV.HistoricalAverage; v != nil {
				s = single(name, money(*v))
			} else {
				s = single(name, nil)
			}
		case "clv_predictive":
			if v := rep.CLV.Predictive; v != nil {
				s = single(name, money(*v))
			} else {
				s = single(name, nil)
			}
		case "acquisition_cost":
			if params.AcquisitionCost > 0 {
				s = single(name, f(params.AcquisitionCost))
			} else {
				s = single(name, nil)
			}
		case "average_days_since_touch":
			s = single(name, rep.Engagement.LastTouch.AverageDays)
		case "median_reply_hours":
			v, err := medianReplyHours(ctx, client, from, to)
			if err != nil {
				return nil, err
			}
			s = single(name, v)
		case "activities_by_kind":
			s = sdk.Series{Name: name, Chart: "bar"}
			totals := map[string]float64{}
			var kinds []string
			for _, p := range rep.Engagement.Periods {
				for _, k := range p.ByKind {
					if _, ok := totals[k.Kind]; !ok {
						kinds = append(kinds, k.Kind)
					}
					totals[k.Kind] += float64(k.Count)
				}
			}
			for _, k := range kinds {
				s.Labels = append(s.Labels, k)
				s.Values = append(s.Values, totals[k])
			}
		case "leads_by_source", "converted_leads_by_source":
			q := client.Lead.Query().Where(lead.CreatedAtGTE(from), lead.CreatedAtLT(to))
			if name == "converted_leads_by_source" {
				q = q.Where(lead.StatusEQ(lead.StatusConverted))
			}
			var rows []struct {
				Source string `json:"source"`
				Count  int    `json:"count"`
			}
			if err := q.GroupBy(lead.FieldSource).Aggregate(ent.Count()).Scan(ctx, &rows); err != nil {
				return nil, err
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].Source < rows[j].Source })
			s = sdk.Series{Name: name, Chart: "bar"}
			for _, r := range rows {
				label := r.Source
				if label == "" {
					label = "unknown"
				}
				s.Labels = append(s.Labels, label)
				s.Values = append(s.Values, float64(r.Count))
			}
		default:
			return nil, errcode.Input("plugin", "unknown metric %q", name)
		}
		s.Name = name
		out = append(out, s)
	}
	return out, nil
}

// medianReplyHours is the median time from a contact's inbound email in
// [from, to) to the next outbound email to the contact, over the inbound
// emails that got one; nil when none did.
func medianReplyHours(ctx context.Context, client *ent.Client, from, to time.Time) (*float64, error) {
	emails, err := client.Activity.Query().
		Where(activity.KindEQ(activity.KindEmail), activity.ContactIDNotNil(), activity.DirectionNotNil(),
			activity.OccurredAtGTE(from)).
		Order(ent.Asc(activity.FieldOccurredAt), ent.Asc(activity.FieldID)).
		Select(activity.FieldContactID, activity.FieldDirection, activity.FieldOccurredAt).All(ctx)
	if err != nil {
		return nil, err
	}
	waiting := map[pulid.ID]time.Time{} // contact → first unanswered inbound
	var hours []float64
	for _, e := range emails {
		c := *e.ContactID
		switch *e.Direction {
		case activity.DirectionInbound:
			if _, ok := waiting[c]; !ok && e.OccurredAt.Before(to) {
				waiting[c] = e.OccurredAt
			}
		case activity.DirectionOutbound:
			if t, ok := waiting[c]; ok {
				hours = append(hours, e.OccurredAt.Sub(t).Hours())
				delete(waiting, c)
			}
		}
	}
	if len(hours) == 0 {
		return nil, nil
	}
	sort.Float64s(hours)
	n := len(hours)
	m := hours[n/2]
	if n%2 == 0 {
		m = (hours[n/2-1] + hours[n/2]) / 2
	}
	return &m, nil
}
