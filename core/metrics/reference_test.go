package metrics_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/internal/synth"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/schema"
)

// TestAgreesWithRecomputation computes every metric of generated data
// twice: by the package (SQL aggregation) and by plain Go over every row
// loaded through ent (recompute, below, written from the definitions in
// the package documentation without reusing its code). The two must agree
// to the cent on money and to 1e-9 on rates.
func TestAgreesWithRecomputation(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		res, err := synth.Generate(context.Background(), st, "synth", synth.Small(end))
		if err != nil {
			t.Fatal(err)
		}
		ctx := adminContext(res.Workspace.ID)
		svc := metrics.New(st)
		svc.Now = func() time.Time { return end.AddDate(0, 0, -10) }
		for _, q := range []metrics.Query{
			{From: end.AddDate(0, -24, 0), To: end},
			{From: end.AddDate(0, -24, 0), To: end, Period: metrics.Quarter, ActiveWindow: 2},
			{From: end.AddDate(-2, 0, 0), To: end.AddDate(0, 3, 0), Period: metrics.Year},
			{From: end.AddDate(0, -12, 0), To: end, Filter: metrics.Filter{SegmentID: res.SegmentID}},
			{From: end.AddDate(0, -12, 0), To: end, Filter: metrics.Filter{OwnerID: res.Owners[0]}, ActiveWindow: 3},
			{From: end.AddDate(0, -18, 0), To: end, Filter: metrics.Filter{PipelineID: res.Pipelines[1]}, Period: metrics.Quarter},
		} {
			name := fmt.Sprintf("%s/w%d/%s/%s", q.Period, q.ActiveWindow, q.From.Format("2006-01"), strings.Trim(fmt.Sprint(q.Filter), "{ }"))
			got, err := svc.Report(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := recompute(t, st.Client, ctx, q, svc.Now())
			customers, deals, activities := 0, 0, 0
			for i := range got.Customers {
				customers += got.Customers[i].CustomersAtEnd
				deals += got.Deals[i].Won
				activities += got.Engagement.Periods[i].Activities
			}
			if customers == 0 || deals == 0 || (activities == 0 && q.Filter.PipelineID == "") {
				t.Fatalf("%s: too little data to compare: %d customers, %d deals won, %d activities", name, customers, deals, activities)
			}
			for _, diff := range diffValues("report", reflect.ValueOf(got), reflect.ValueOf(want)) {
				t.Errorf("%s: %s", name, diff)
			}
		}
	})
}

// TestAgreesOnDemoData is the same check on the demo workspace
// (core/demo), seeded through ent with its hooks: two years of a small
// company's history. Seeding takes seconds, so by default it runs on
// SQLite only, and on PostgreSQL too where RAPPORT_REQUIRE_POSTGRES=1 (as
// in CI); -short skips it.
func TestAgreesOnDemoData(t *testing.T) {
	if testing.Short() {
		t.Skip("seeding the demo takes seconds")
	}
	t.Parallel()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect != dialect.SQLite && !storetest.RequirePostgres() {
			t.Skip("set RAPPORT_REQUIRE_POSTGRES=1 to check the demo on PostgreSQL too")
		}
		res, err := demo.Seed(context.Background(), st.Client, demo.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := adminContext(res.Workspace.ID)
		svc := metrics.New(st)
		svc.Now = func() time.Time { return now }
		for _, q := range []metrics.Query{
			{From: now.AddDate(0, -24, 0), To: now},
			{From: now.AddDate(0, -24, 0), To: now, Period: metrics.Quarter, ActiveWindow: 2},
			{From: now.AddDate(0, -3, 0), To: now.AddDate(0, 9, 0)},
		} {
			got, err := svc.Report(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got.CLV.Customers == 0 || got.Forecast.Total.Deals == 0 || len(got.Conversion) == 0 {
				t.Fatalf("the demo has no customers or deals: %+v", got.CLV)
			}
			want := recompute(t, st.Client, ctx, q, now)
			for _, diff := range diffValues("report", reflect.ValueOf(got), reflect.ValueOf(want)) {
				t.Errorf("%s %s: %s", q.Period, q.From.Format("2006-01"), diff)
			}
		}
	})
}

// diffValues lists the differences between two values of the same type:
// floats may differ by 1e-9 (relative), everything else must be equal.
func diffValues(path string, a, b reflect.Value) []string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() != b.IsNil() {
			return []string{fmt.Sprintf("%s: %s vs %s", path, show(a), show(b))}
		}
		if a.IsNil() {
			return nil
		}
		return diffValues(path, a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == reflect.TypeOf(time.Time{}) {
			if !a.Interface().(time.Time).Equal(b.Interface().(time.Time)) {
				return []string{fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())}
			}
			return nil
		}
		var out []string
		for i := range a.NumField() {
			out = append(out, diffValues(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))...)
		}
		return out
	case reflect.Slice:
		if a.Len() != b.Len() {
			return []string{fmt.Sprintf("%s: %d items vs %d", path, a.Len(), b.Len())}
		}
		var out []string
		for i := range a.Len() {
			out = append(out, diffValues(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i))...)
		}
		return out
	case reflect.Float64:
		x, y := a.Float(), b.Float()
		if math.Abs(x-y) > 1e-9*math.Max(1, math.Abs(y)) {
			return []string{fmt.Sprintf("%s: %v vs %v", path, x, y)}
		}
		return nil
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return []string{fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())}
	}
	return nil
}

func show(v reflect.Value) string {
	if v.IsNil() {
		return "null"
	}
	return fmt.Sprint(v.Elem().Interface())
}

// ---- the recomputation ----

// refPeriod numbers calendar periods in UTC.
// refPeriod numbers periods; a period is partial when it ends after now.
type refPeriod struct {
	p   metrics.Period
	now time.Time
}

func (r refPeriod) of(t time.Time) int {
	t = t.UTC()
	switch r.p {
	case metrics.Quarter:
		return t.Year()*4 + (int(t.Month())-1)/3
	case metrics.Year:
		return t.Year()
	}
	return t.Year()*12 + int(t.Month()) - 1
}

func (r refPeriod) start(i int) time.Time {
	switch r.p {
	case metrics.Quarter:
		return time.Date(i/4, time.Month(i%4*3+1), 1, 0, 0, 0, 0, time.UTC)
	case metrics.Year:
		return time.Date(i, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(i/12, time.Month(i%12+1), 1, 0, 0, 0, 0, time.UTC)
}

func (r refPeriod) span(i int) metrics.Span {
	s := r.start(i)
	label := s.Format("2006-01")
	switch r.p {
	case metrics.Quarter:
		label = fmt.Sprintf("%d-Q%d", s.Year(), (int(s.Month())-1)/3+1)
	case metrics.Year:
		label = s.Format("2006")
	}
	end := r.start(i + 1)
	return metrics.Span{Label: label, Start: s, End: end, Partial: end.After(r.now)}
}

func rate(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}

func money(f float64) crm.Money { return crm.Money(math.Round(f)) }

func moneyPtr(f float64) *crm.Money { m := money(f); return &m }

// recompute derives every metric of q from all rows of the workspace,
// loaded through the ent client (so workspace scoping and soft deletes
// are the data layer's).
func recompute(t *testing.T, c *ent.Client, ctx context.Context, q metrics.Query, now time.Time) *metrics.Report {
	t.Helper()
	if q.Period == "" {
		q.Period = metrics.Month
	}
	w := q.ActiveWindow
	if w == 0 {
		w = 1
	}
	rp := refPeriod{q.Period, now}
	first, last := rp.of(q.From), rp.of(q.To.Add(-time.Nanosecond))
	from, to := rp.start(first), rp.start(last+1)
	asOf := to
	if now.Before(asOf) {
		asOf = now
	}
	asOf = asOf.UTC().Truncate(time.Second)

	orders := must[[]*ent.Order](t)(c.Order.Query().All(ctx))
	deals := must[[]*ent.Deal](t)(c.Deal.Query().All(ctx)) // soft-deleted deals are hidden
	changes := must[[]*ent.StageChange](t)(c.StageChange.Query().All(ctx))
	stages := must[[]*ent.Stage](t)(c.Stage.Query().All(ctx))
	pipelines := must[[]*ent.Pipeline](t)(c.Pipeline.Query().All(ctx))
	contacts := must[[]*ent.Contact](t)(c.Contact.Query().All(ctx))
	// Orders keep naming customers and deals that were deleted since.
	everyContact := must[[]*ent.Contact](t)(c.Contact.Query().All(schema.IncludeDeleted(ctx)))
	everyOrg := must[[]*ent.Organization](t)(c.Organization.Query().All(schema.IncludeDeleted(ctx)))
	everyDeal := must[[]*ent.Deal](t)(c.Deal.Query().All(schema.IncludeDeleted(ctx)))
	acts := must[[]*ent.Activity](t)(c.Activity.Query().All(ctx))
	var members []*ent.SegmentMembership
	if q.Filter.SegmentID != "" {
		members = must[[]*ent.SegmentMembership](t)(c.SegmentMembership.Query().All(ctx))
	}
	inSegment := map[string]bool{} // "type:id"
	for _, m := range members {
		if m.SegmentID == q.Filter.SegmentID {
			inSegment[string(m.SubjectType)+":"+string(m.SubjectID)] = true
		}
	}
	owner := map[pulid.ID]pulid.ID{}
	names := map[pulid.ID]string{}
	for _, o := range everyOrg {
		owner[o.ID] = deref(o.OwnerID)
		names[o.ID] = o.Name
	}
	for _, ct := range everyContact {
		owner[ct.ID] = deref(ct.OwnerID)
		names[ct.ID] = strings.TrimSpace(ct.FirstName + " " + ct.LastName)
	}
	dealByID := map[pulid.ID]*ent.Deal{}
	for _, d := range deals {
		dealByID[d.ID] = d
	}
	pipelineOf := map[pulid.ID]pulid.ID{} // deleted deals included
	for _, d := range everyDeal {
		pipelineOf[d.ID] = d.PipelineID
	}
	stageByID := map[pulid.ID]*ent.Stage{}
	for _, s := range stages {
		stageByID[s.ID] = s
	}
	r := &metrics.Report{Period: q.Period, From: from, To: to, ActiveWindow: w}

	// Customers.
	type key struct {
		c pulid.ID
		p int
	}
	rev, mar := map[key]int64{}, map[key]int64{}
	nOrders := map[int]int{}
	periods := map[pulid.ID]map[int]bool{}
	firstAt, lastAt, count := map[pulid.ID]time.Time{}, map[pulid.ID]time.Time{}, map[pulid.ID]int{}
	for _, o := range orders {
		var cust pulid.ID
		kind := "organization"
		switch {
		case o.OrganizationID != nil:
			cust = *o.OrganizationID
		case o.ContactID != nil:
			cust, kind = *o.ContactID, "contact"
		default:
			continue
		}
		at := o.OrderedAt.UTC()
		if !at.Before(to) {
			continue
		}
		if q.Filter.SegmentID != "" && !inSegment[kind+":"+string(cust)] {
			continue
		}
		if q.Filter.OwnerID != "" && owner[cust] != q.Filter.OwnerID {
			continue
		}
		if q.Filter.PipelineID != "" && (o.DealID == nil || pipelineOf[*o.DealID] != q.Filter.PipelineID) {
			continue
		}
		p := rp.of(at)
		k := key{cust, p}
		rev[k] += int64(o.Amount)
		mar[k] += int64(o.Amount - o.Cost)
		nOrders[p]++
		if periods[cust] == nil {
			periods[cust] = map[int]bool{}
		}
		periods[cust][p] = true
		if count[cust] == 0 || at.Before(firstAt[cust]) {
			firstAt[cust] = at
		}
		if count[cust] == 0 || at.After(lastAt[cust]) {
			lastAt[cust] = at
		}
		count[cust]++
	}
	firstP := map[pulid.ID]int{}
	for cust, ps := range periods {
		f := math.MaxInt
		for p := range ps {
			f = min(f, p)
		}
		firstP[cust] = f
	}
	active := func(cust pulid.ID, k int) bool {
		for p := k - w + 1; p <= k; p++ {
			if periods[cust][p] {
				return true
			}
		}
		return false
	}
	var sumMargin, sumActive, sumRetained, sumStart int64
	for k := first; k <= last; k++ {
		cp := metrics.CustomerPeriod{Span: rp.span(k), Orders: nOrders[k]}
		var start, kept, lost int64
		for cust := range periods {
			was, is := active(cust, k-1), active(cust, k)
			if was {
				cp.CustomersAtStart++
			}
			if is {
				cp.CustomersAtEnd++
			}
			switch {
			case was && is:
				cp.Retained++
			case was && !is:
				cp.Churned++
			case !was && is && firstP[cust] == k:
				cp.NewCustomers++
			case !was && is:
				cp.Reactivated++
			}
			if periods[cust][k] {
				cp.Buyers++
			}
			cp.Revenue += crm.Money(rev[key{cust, k}])
			cp.Margin += crm.Money(mar[key{cust, k}])
			if periods[cust][k-1] {
				before, after := rev[key{cust, k - 1}], rev[key{cust, k}]
				start += before
				kept += after
				lost += max(0, before-after)
			}
		}
		cp.StartingRevenue, cp.RetainedRevenue, cp.LostRevenue = crm.Money(start), crm.Money(kept), crm.Money(lost)
		cp.ChurnRate = rate(float64(cp.Churned), float64(cp.CustomersAtStart))
		cp.RetentionRate = rate(float64(cp.Retained), float64(cp.CustomersAtStart))
		if start > 0 {
			cp.RevenueChurnRate = rate(float64(lost), float64(start))
			cp.NetRevenueRetention = rate(float64(kept), float64(start))
		}
		sumMargin += int64(cp.Margin)
		sumActive += int64(cp.CustomersAtEnd)
		sumRetained += int64(cp.Retained)
		sumStart += int64(cp.CustomersAtStart)
		r.Customers = append(r.Customers, cp)
	}

	// Cohorts.
	r.Cohorts = &metrics.CohortMatrix{Period: q.Period, ActiveWindow: w, Cohorts: []metrics.Cohort{}}
	for f := first; f <= last; f++ {
		co := metrics.Cohort{Span: rp.span(f)}
		var in []pulid.ID
		for cust, p := range firstP {
			if p == f {
				in = append(in, cust)
			}
		}
		co.Size = len(in)
		for k := f; k <= last; k++ {
			cell := metrics.CohortCell{Offset: k - f}
			for _, cust := range in {
				if active(cust, k) {
					cell.Active++
				}
				cell.Revenue += crm.Money(rev[key{cust, k}])
				cell.Margin += crm.Money(mar[key{cust, k}])
			}
			cell.Rate = rate(float64(cell.Active), float64(co.Size))
			co.Cells = append(co.Cells, cell)
		}
		r.Cohorts.Cohorts = append(r.Cohorts.Cohorts, co)
	}

	// CLV.
	clv := &metrics.CLV{Customers: len(periods)}
	var top []metrics.CustomerValue
	for cust := range periods {
		v := metrics.CustomerValue{ID: cust, Kind: "contact", Name: names[cust], Orders: count[cust], FirstOrder: firstAt[cust], LastOrder: lastAt[cust]}
		if cust.Prefix() == "org" {
			v.Kind = "organization"
		}
		for p := range periods[cust] {
			v.Revenue += crm.Money(rev[key{cust, p}])
			v.Margin += crm.Money(mar[key{cust, p}])
		}
		clv.HistoricalRevenue += v.Revenue
		clv.HistoricalMargin += v.Margin
		top = append(top, v)
	}
	if clv.Customers > 0 {
		clv.HistoricalAverage = moneyPtr(float64(clv.HistoricalMargin) / float64(clv.Customers))
	}
	var m *float64
	if sumActive > 0 {
		v := float64(sumMargin) / float64(sumActive)
		m = &v
		clv.Margin = moneyPtr(v)
		clv.MarginMeasured = true
	}
	if sumStart > 0 {
		clv.Retention = rate(float64(sumRetained), float64(sumStart))
		clv.RetentionMeasured = true
	}
	clv.DiscountRate = math.Pow(1.1, 1/float64(q.Period.PerYear())) - 1
	if m != nil && clv.Retention != nil && 1+clv.DiscountRate-*clv.Retention > 0 {
		clv.Predictive = moneyPtr(*m * *clv.Retention / (1 + clv.DiscountRate - *clv.Retention))
	}
	sort.Slice(top, func(i, j int) bool {
		if top[i].Margin != top[j].Margin {
			return top[i].Margin > top[j].Margin
		}
		return top[i].ID < top[j].ID
	})
	clv.Top = top[:min(10, len(top))]
	if clv.Top == nil {
		clv.Top = []metrics.CustomerValue{}
	}
	r.CLV = clv

	// Deals.
	dealIn := func(d *ent.Deal) bool {
		if q.Filter.PipelineID != "" && d.PipelineID != q.Filter.PipelineID {
			return false
		}
		if q.Filter.OwnerID != "" && deref(d.OwnerID) != q.Filter.OwnerID {
			return false
		}
		if q.Filter.SegmentID != "" && !inSegment["deal:"+string(d.ID)] &&
			!(d.OrganizationID != nil && inSegment["organization:"+string(*d.OrganizationID)]) &&
			!(d.ContactID != nil && inSegment["contact:"+string(*d.ContactID)]) {
			return false
		}
		return true
	}
	for k := first; k <= last; k++ {
		dp := metrics.DealPeriod{Span: rp.span(k)}
		start := rp.start(k)
		var cycle float64
		for _, d := range deals {
			if !dealIn(d) {
				continue
			}
			created := d.CreatedAt.UTC()
			closed := d.Status != deal.StatusOpen && d.ClosedAt != nil
			if rp.of(created) == k {
				dp.Created++
			}
			if created.Before(start) && !(closed && d.ClosedAt.Before(start)) {
				dp.OpenAtStart++
			}
			if closed && rp.of(*d.ClosedAt) == k {
				if d.Status == deal.StatusWon {
					dp.Won++
					dp.WonAmount += d.Amount
					cycle += d.ClosedAt.Sub(d.CreatedAt).Hours() / 24
				} else {
					dp.Lost++
					dp.LostAmount += d.Amount
				}
			}
		}
		dp.WinRate = rate(float64(dp.Won), float64(dp.Won+dp.Lost))
		dp.WinRateByAmount = rate(float64(dp.WonAmount), float64(dp.WonAmount+dp.LostAmount))
		if dp.Won > 0 {
			avg := float64(dp.WonAmount) / float64(dp.Won)
			dp.AverageWonAmount = moneyPtr(avg)
			days := cycle / float64(dp.Won)
			dp.AverageCycleDays = &days
			if days > 0 {
				dp.SalesVelocity = moneyPtr(float64(dp.OpenAtStart) * avg * *dp.WinRate / days)
			}
		}
		r.Deals = append(r.Deals, dp)
	}

	// Conversion.
	const wonRank = 1 << 30
	rank := func(s *ent.Stage) int {
		switch s.Kind {
		case "won":
			return wonRank
		case "lost":
			return -1
		}
		return s.Position
	}
	entered := map[pulid.ID]map[pulid.ID]bool{} // stage → deals
	furthest := map[pulid.ID]map[pulid.ID]int{} // pipeline → deal → rank
	for _, sc := range changes {
		d := dealByID[sc.DealID]
		if d == nil || !dealIn(d) || d.CreatedAt.Before(from) || !d.CreatedAt.Before(to) || !sc.ChangedAt.Before(to) {
			continue
		}
		s := stageByID[sc.ToStageID]
		if entered[s.ID] == nil {
			entered[s.ID] = map[pulid.ID]bool{}
		}
		entered[s.ID][d.ID] = true
		if furthest[s.PipelineID] == nil {
			furthest[s.PipelineID] = map[pulid.ID]int{}
		}
		if old, ok := furthest[s.PipelineID][d.ID]; !ok || rank(s) > old {
			furthest[s.PipelineID][d.ID] = rank(s)
		}
	}
	sort.Slice(pipelines, func(i, j int) bool {
		if pipelines[i].Name != pipelines[j].Name {
			return pipelines[i].Name < pipelines[j].Name
		}
		return pipelines[i].ID < pipelines[j].ID
	})
	sort.Slice(stages, func(i, j int) bool {
		if stages[i].Position != stages[j].Position {
			return stages[i].Position < stages[j].Position
		}
		return stages[i].ID < stages[j].ID
	})
	r.Conversion = []metrics.Funnel{}
	for _, pl := range pipelines {
		if q.Filter.PipelineID != "" && pl.ID != q.Filter.PipelineID {
			continue
		}
		f := metrics.Funnel{PipelineID: pl.ID, Pipeline: pl.Name, Deals: len(furthest[pl.ID]), Steps: []metrics.FunnelStep{}}
		reached := func(r int) int {
			n := 0
			for _, got := range furthest[pl.ID] {
				if got >= r {
					n++
				}
			}
			return n
		}
		var won *metrics.FunnelStep
		for _, s := range stages {
			if s.PipelineID != pl.ID || s.Kind == "lost" {
				continue
			}
			if s.Kind == "won" {
				if won == nil {
					won = &metrics.FunnelStep{StageID: s.ID, Stage: s.Name, Position: s.Position, Kind: "won", Reached: reached(wonRank)}
				}
				won.Entered += len(entered[s.ID])
				continue
			}
			f.Steps = append(f.Steps, metrics.FunnelStep{StageID: s.ID, Stage: s.Name, Position: s.Position, Kind: "open", Entered: len(entered[s.ID]), Reached: reached(s.Position)})
		}
		if won != nil {
			f.Steps = append(f.Steps, *won)
			f.WinRate = rate(float64(won.Reached), float64(f.Deals))
		}
		for i := range f.Steps {
			f.Steps[i].Skipped = f.Steps[i].Reached - f.Steps[i].Entered
			if i > 0 {
				f.Steps[i].Conversion = rate(float64(f.Steps[i].Reached), float64(f.Steps[i-1].Reached))
			}
			f.Steps[i].FromFirst = rate(float64(f.Steps[i].Reached), float64(f.Steps[0].Reached))
		}
		r.Conversion = append(r.Conversion, f)
	}

	// Forecast.
	fc := &metrics.Forecast{Period: q.Period}
	for k := first; k <= last; k++ {
		fc.Periods = append(fc.Periods, metrics.ForecastPeriod{Span: rp.span(k)})
	}
	weights := map[*metrics.ForecastBucket]float64{}
	var total float64
	for _, d := range deals {
		if d.Status != deal.StatusOpen || !dealIn(d) {
			continue
		}
		p := stageByID[d.StageID].Probability
		if d.Probability != nil {
			p = *d.Probability
		}
		var b *metrics.ForecastBucket
		switch {
		case d.ExpectedCloseDate == nil:
			b = &fc.Unscheduled
		case rp.of(*d.ExpectedCloseDate) < first:
			b = &fc.Overdue
		case rp.of(*d.ExpectedCloseDate) > last:
			b = &fc.Later
		default:
			b = &fc.Periods[rp.of(*d.ExpectedCloseDate)-first].ForecastBucket
		}
		b.Deals++
		b.Amount += d.Amount
		weights[b] += float64(d.Amount) * p
		fc.Total.Deals++
		fc.Total.Amount += d.Amount
		total += float64(d.Amount) * p
	}
	for b, v := range weights {
		b.Weighted = money(v)
	}
	fc.Total.Weighted = money(total)
	r.Forecast = fc

	// Engagement.
	contactIn := map[pulid.ID]*ent.Contact{}
	for _, ct := range contacts {
		if q.Filter.SegmentID != "" && !inSegment["contact:"+string(ct.ID)] {
			continue
		}
		if q.Filter.OwnerID != "" && deref(ct.OwnerID) != q.Filter.OwnerID {
			continue
		}
		contactIn[ct.ID] = ct
	}
	byContact := map[pulid.ID][]*ent.Activity{}
	for _, a := range acts {
		if a.ContactID != nil {
			byContact[*a.ContactID] = append(byContact[*a.ContactID], a)
		}
	}
	eng := &metrics.Engagement{}
	for k := first; k <= last; k++ {
		ep := metrics.EngagementPeriod{Span: rp.span(k)}
		for _, ct := range contactIn {
			if rp.of(ct.CreatedAt) <= k {
				ep.Contacts++
			}
		}
		counts := map[string]int{}
		for _, a := range acts {
			if a.ContactID == nil || contactIn[*a.ContactID] == nil || rp.of(a.OccurredAt) != k {
				continue
			}
			counts[string(a.Kind)]++
			ep.Activities++
			if a.Kind == "email" && a.Direction != nil && *a.Direction == "outbound" {
				ep.OutboundEmails++
				for _, b := range byContact[*a.ContactID] {
					if b.Kind == "email" && b.Direction != nil && *b.Direction == "inbound" &&
						b.OccurredAt.After(a.OccurredAt) && !b.OccurredAt.After(a.OccurredAt.Add(7*24*time.Hour)) {
						ep.Replied++
						break
					}
				}
			}
		}
		for _, kind := range metrics.ActivityKinds {
			ep.ByKind = append(ep.ByKind, metrics.KindCount{Kind: kind, Count: counts[kind], PerContact: rate(float64(counts[kind]), float64(ep.Contacts))})
		}
		ep.ReplyRate = rate(float64(ep.Replied), float64(ep.OutboundEmails))
		eng.Periods = append(eng.Periods, ep)
	}
	lt := metrics.LastTouch{AsOf: asOf}
	bounds := []struct{ lo, hi int }{{0, 7}, {8, 30}, {31, 90}, {91, 365}, {366, math.MaxInt}}
	counts := make([]int, len(bounds)+1)
	var sumDays float64
	for _, ct := range contactIn {
		if !ct.CreatedAt.Before(asOf) {
			continue
		}
		lt.Contacts++
		var latest time.Time
		for _, a := range byContact[ct.ID] {
			if !a.OccurredAt.After(asOf) && a.OccurredAt.After(latest) {
				latest = a.OccurredAt
			}
		}
		if latest.IsZero() {
			counts[len(bounds)]++
			continue
		}
		lt.Touched++
		days := asOf.Sub(latest).Hours() / 24
		sumDays += days
		for i, b := range bounds {
			if int(days) >= b.lo && int(days) <= b.hi {
				counts[i]++
				break
			}
		}
	}
	if lt.Touched > 0 {
		avg := math.Round(sumDays/float64(lt.Touched)*1e6) / 1e6
		lt.AverageDays = &avg
	}
	labels := []string{"0–7 days", "8–30 days", "31–90 days", "91–365 days", "over 365 days"}
	for i, b := range bounds {
		tb := metrics.TouchBucket{Label: labels[i], Contacts: counts[i]}
		lo := b.lo
		tb.MinDays = &lo
		if b.hi != math.MaxInt {
			hi := b.hi
			tb.MaxDays = &hi
		}
		lt.Buckets = append(lt.Buckets, tb)
	}
	lt.Buckets = append(lt.Buckets, metrics.TouchBucket{Label: "never", Contacts: counts[len(bounds)]})
	eng.LastTouch = lt
	r.Engagement = eng
	return r
}

func deref(id *pulid.ID) pulid.ID {
	if id == nil {
		return ""
	}
	return *id
}
