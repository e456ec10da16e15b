package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/pulid"
)

// DealPeriod is one period of the deal series: outcomes, win rate, cycle
// length and sales velocity. Deleted deals are not counted. A deal counts
// by its current status and close date: a deal lost and then reopened is
// open until it closes again, and then counts once, when it closed last.
type DealPeriod struct {
	Span
	// Created is the number of deals created in the period.
	Created int `json:"created"`
	// OpenAtStart is the number of deals created before the period and
	// not closed before it.
	OpenAtStart int `json:"openAtStart"`
	// Won and Lost count the deals closed in the period.
	Won  int `json:"won"`
	Lost int `json:"lost"`
	// WonAmount and LostAmount sum their amounts.
	WonAmount  crm.Money `json:"wonAmount"`
	LostAmount crm.Money `json:"lostAmount"`
	// WinRate is Won / (Won + Lost); nil when none closed.
	WinRate *float64 `json:"winRate"`
	// WinRateByAmount is WonAmount / (WonAmount + LostAmount).
	WinRateByAmount *float64 `json:"winRateByAmount"`
	// AverageWonAmount is WonAmount / Won; nil when none was won.
	AverageWonAmount *crm.Money `json:"averageWonAmount"`
	// AverageCycleDays is the mean of (closed_at − created_at) in days
	// over the deals won in the period.
	AverageCycleDays *float64 `json:"averageCycleDays"`
	// SalesVelocity is OpenAtStart × AverageWonAmount × WinRate /
	// AverageCycleDays: expected revenue per day. Nil when a factor is.
	SalesVelocity *crm.Money `json:"salesVelocity"`
}

// dealFilter returns the SQL conditions applying q's filter to the deals
// table under alias t ("" for none).
func dealFilter(a *args, p *plan, ws, t string) string {
	col := func(c string) string {
		if t == "" {
			return c
		}
		return t + "." + c
	}
	var b strings.Builder
	if seg := segmentMatch(a, p, ws); seg != "" {
		fmt.Fprintf(&b, " AND (%[1]s IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %[4]s AND %[5]s AND ended_at IS NULL AND subject_type = 'deal')"+
			" OR %[2]s IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %[4]s AND %[5]s AND ended_at IS NULL AND subject_type = 'organization')"+
			" OR %[3]s IN (SELECT subject_id FROM segment_memberships WHERE workspace_id = %[4]s AND %[5]s AND ended_at IS NULL AND subject_type = 'contact'))",
			col("id"), col("organization_id"), col("contact_id"), ws, seg)
	}
	if p.Filter.OwnerID != "" {
		fmt.Fprintf(&b, " AND %s = %s", col("owner_id"), a.add(string(p.Filter.OwnerID)))
	}
	if p.Filter.PipelineID != "" {
		fmt.Fprintf(&b, " AND %s = %s", col("pipeline_id"), a.add(string(p.Filter.PipelineID)))
	}
	return b.String()
}

// Deals returns the deal series of the range.
func (s *Service) Deals(ctx context.Context, q Query) ([]DealPeriod, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []DealPeriod
	err = s.read(ctx, p, func(p *plan) (err error) {
		out, err = s.deals(ctx, p)
		return err
	})
	return out, err
}

// dealsFromRollups tells whether the deal series is read from the deal
// rollups (rollup_deal_months): unless s computes from the raw rows, for
// the whole workspace or one pipeline. A segment or owner filter needs
// the deals' rows.
func (s *Service) dealsFromRollups(p *plan) bool {
	f := p.Filter
	f.PipelineID = ""
	return !s.raw && f == (Filter{})
}

// conversionFromRollups tells whether the funnels are read from the
// funnel rollups: unless s computes from the raw rows, only without a
// filter (the funnel rollups are not kept by owner, segment or the
// deal's own pipeline).
func (s *Service) conversionFromRollups(p *plan) bool {
	return !s.raw && p.Filter == (Filter{})
}

// cycleMicros returns closed_at − created_at in whole microseconds as a
// 64-bit integer, as core/metrics/rollup measures it: SQLite reads the
// times to the second, PostgreSQL to the microsecond. Summed as integers
// the series is the same however the sum is taken.
func cycleMicros(d sqlDialect) string {
	if d.sqlite() {
		return "((CAST(strftime('%s', " + d.utc("closed_at") + ") AS INTEGER) - CAST(strftime('%s', " + d.utc("created_at") + ") AS INTEGER)) * 1000000)"
	}
	return "CAST(EXTRACT(EPOCH FROM (closed_at - created_at)) * 1000000 AS BIGINT)"
}

// dealQuery returns the statement the deal series is summed from: rows
// of (kind, period, count, won, won amount, amount, 0, won cycle µs),
// kind 0 for deals created in the period and 1 for deals closed in it.
func (s *Service) dealQuery(p *plan) (string, args) {
	var a args
	ws := a.add(string(p.ws))
	d := p.d
	last := a.add(p.last)
	if s.dealsFromRollups(p) {
		pipeline := ""
		if p.Filter.PipelineID != "" {
			pipeline = " AND pipeline_id = " + a.add(string(p.Filter.PipelineID))
		}
		// Months are numbered from year 0, so never negative: a
		// quarter or year is the month divided by its length.
		k := fmt.Sprintf("(month / %d)", p.Period.months())
		return `SELECT 0, ` + k + ` AS p, ` + d.sum("created") + `, 0, 0, 0, 0, 0
FROM rollup_deal_months
WHERE workspace_id = ` + ws + pipeline + `
GROUP BY ` + k + ` HAVING ` + k + ` <= ` + last + ` AND ` + d.sum("created") + ` <> 0
UNION ALL
SELECT 1, ` + k + ` AS p, ` + d.sum("won + lost") + `, ` + d.sum("won") + `, ` + d.sum("won_amount") + `, ` + d.sum("won_amount + lost_amount") + `, 0, ` + d.sum("won_cycle_micros") + `
FROM rollup_deal_months
WHERE workspace_id = ` + ws + pipeline + `
GROUP BY ` + k + ` HAVING ` + k + ` <= ` + last + ` AND ` + d.sum("won + lost") + ` <> 0`, a
	}
	filter := dealFilter(&a, p, ws, "")
	created := d.period("created_at", p.Period)
	closed := d.period("closed_at", p.Period)
	won := "CASE WHEN status = 'won' THEN 1 ELSE 0 END"
	return `SELECT 0, ` + created + ` AS p, COUNT(*), 0, 0, 0, 0, 0
FROM ` + d.scan("deals", "") + `
WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL` + filter + `
GROUP BY ` + created + ` HAVING ` + created + ` <= ` + last + `
UNION ALL
SELECT 1, ` + closed + ` AS p, COUNT(*), ` + d.sum(won) + `, ` + d.sum("CASE WHEN status = 'won' THEN amount ELSE 0 END") + `, ` + d.sum("amount") + `, 0,
  ` + d.sum("CASE WHEN status = 'won' THEN "+cycleMicros(d)+" ELSE 0 END") + `
FROM ` + d.scan("deals", "") + `
WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL AND status IN ('won', 'lost') AND closed_at IS NOT NULL` + filter + `
GROUP BY ` + closed + ` HAVING ` + closed + ` <= ` + last, a
}

func (s *Service) deals(ctx context.Context, p *plan) ([]DealPeriod, error) {
	query, a := s.dealQuery(p)
	type agg struct {
		created, closed, won    int64
		wonAmount, closedAmount int64
		cycleMicros             int64
	}
	lo := p.first
	byPeriod := map[int]*agg{}
	get := func(k int) *agg {
		if byPeriod[k] == nil {
			byPeriod[k] = &agg{}
		}
		return byPeriod[k]
	}
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			kind, k                      int
			n, nwon, wamt, amt, x, micro int64
		)
		if err := r.Scan(&kind, &k, &n, &nwon, &wamt, &amt, &x, &micro); err != nil {
			return err
		}
		g := get(k)
		if kind == 0 {
			g.created += n
		} else {
			g.closed += n
			g.won += nwon
			g.wonAmount += wamt
			g.closedAmount += amt
			g.cycleMicros += micro
		}
		lo = min(lo, k)
		return nil
	})
	if err != nil {
		return nil, wrap("deals", err)
	}
	var open int64 // created before k minus closed before k
	for k := lo; k < p.first; k++ {
		if g := byPeriod[k]; g != nil {
			open += g.created - g.closed
		}
	}
	out := make([]DealPeriod, 0, p.periods())
	for k := p.first; k <= p.last; k++ {
		g := get(k)
		dp := DealPeriod{
			Span:        p.span(k),
			Created:     int(g.created),
			OpenAtStart: int(open),
			Won:         int(g.won),
			Lost:        int(g.closed - g.won),
			WonAmount:   crm.Money(g.wonAmount),
			LostAmount:  crm.Money(g.closedAmount - g.wonAmount),
		}
		dp.WinRate = ratio(float64(g.won), float64(g.closed))
		dp.WinRateByAmount = ratio(float64(g.wonAmount), float64(g.closedAmount))
		dp.AverageWonAmount = moneyRatio(float64(g.wonAmount), float64(g.won))
		dp.AverageCycleDays = ratio(float64(g.cycleMicros)/microsPerDay, float64(g.won))
		if dp.AverageWonAmount != nil && dp.WinRate != nil && dp.AverageCycleDays != nil && *dp.AverageCycleDays > 0 {
			v := cents(float64(open) * float64(g.wonAmount) / float64(g.won) * *dp.WinRate / *dp.AverageCycleDays)
			dp.SalesVelocity = &v
		}
		out = append(out, dp)
		open += g.created - g.closed
	}
	return out, nil
}

// microsPerDay converts the cycle's microseconds to days.
const microsPerDay = 86400e6

// Funnel is stage-to-stage conversion in one pipeline, over the deals
// created in the range.
type Funnel struct {
	PipelineID pulid.ID `json:"pipelineID"`
	Pipeline   string   `json:"pipeline"`
	// Deals is the number of deals created in the range that entered a
	// stage of the pipeline.
	Deals int `json:"deals"`
	// Steps are the pipeline's open stages by position, then its won
	// stage(s) as one last step. Lost stages are not steps.
	Steps []FunnelStep `json:"steps"`
	// WinRate is the share of Deals that reached a won stage.
	WinRate *float64 `json:"winRate"`
}

// FunnelStep is one stage of a funnel.
type FunnelStep struct {
	StageID  pulid.ID `json:"stageID"`
	Stage    string   `json:"stage"`
	Position int      `json:"position"`
	// Kind is "open" or "won".
	Kind string `json:"kind"`
	// Entered counts deals with a StageChange into this stage.
	Entered int `json:"entered"`
	// Reached counts deals that entered this stage or any later step: a
	// deal that skips a stage still passed it. Moving back does not undo
	// having reached a stage, and a deal counts once however often it
	// re-enters.
	Reached int `json:"reached"`
	// Skipped is Reached − Entered.
	Skipped int `json:"skipped"`
	// Conversion is Reached / the previous step's Reached; nil for the
	// first step or when the previous step was reached by none.
	Conversion *float64 `json:"conversion"`
	// FromFirst is Reached / the first step's Reached.
	FromFirst *float64 `json:"fromFirst"`
}

// wonRank ranks won stages after every open stage.
const wonRank = 1 << 30

// Conversion returns one funnel per pipeline (or the filter's pipeline).
func (s *Service) Conversion(ctx context.Context, q Query) ([]Funnel, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []Funnel
	err = s.read(ctx, p, func(p *plan) (err error) {
		out, err = s.conversion(ctx, p)
		return err
	})
	return out, err
}

type stageInfo struct {
	id, pipeline pulid.ID
	name, kind   string
	position     int
	probability  float64
}

func (s *Service) stages(ctx context.Context, p *plan) (map[pulid.ID]string, []stageInfo, error) {
	var a args
	ws := a.add(string(p.ws))
	pipelines := map[pulid.ID]string{}
	var out []stageInfo
	query := `SELECT 0, p.id, p.name, '', '', 0, 0.0 FROM pipelines p WHERE p.workspace_id = ` + ws + `
UNION ALL
SELECT 1, s.pipeline_id, s.id, s.name, s.kind, s.position, s.probability FROM stages s WHERE s.workspace_id = ` + ws
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			kind                int
			a1, a2, name, skind string
			pos                 int
			prob                float64
		)
		if err := r.Scan(&kind, &a1, &a2, &name, &skind, &pos, &prob); err != nil {
			return err
		}
		if kind == 0 {
			pipelines[pulid.ID(a1)] = a2
			return nil
		}
		out = append(out, stageInfo{id: pulid.ID(a2), pipeline: pulid.ID(a1), name: name, kind: skind, position: pos, probability: prob})
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].pipeline != out[j].pipeline {
			return out[i].pipeline < out[j].pipeline
		}
		if out[i].position != out[j].position {
			return out[i].position < out[j].position
		}
		return out[i].id < out[j].id
	})
	return pipelines, out, wrap("stages", err)
}

// conversionQuery returns the statement the funnels are counted from:
// rows (0, stage, 0, deals that entered it) and (1, pipeline, rank,
// deals whose furthest rank in the pipeline it is).
func (s *Service) conversionQuery(p *plan) (string, args) {
	var a args
	if s.conversionFromRollups(p) {
		return s.funnelRollupQuery(p)
	}
	ws := a.add(string(p.ws))
	d := p.d
	from, to := a.add(d.at(p.From)), a.add(d.at(p.To))
	filter := dealFilter(&a, p, ws, "")
	rank := fmt.Sprintf("CASE s.kind WHEN 'won' THEN %d WHEN 'lost' THEN -1 ELSE s.position END", wonRank)
	// e: every (deal, stage entered) of the deals created in the range,
	// with changes up to the range's end.
	// d: the deals created in the range; e: every (deal, stage entered)
	// of them, with changes up to the range's end.
	query := `WITH d AS MATERIALIZED (
  SELECT id FROM ` + d.scan("deals", "") + `
  WHERE workspace_id = ` + ws + ` AND deleted_at IS NULL
    AND ` + d.utc("created_at") + ` >= ` + from + ` AND ` + d.utc("created_at") + ` < ` + to + filter + `
), e AS (
  SELECT DISTINCT sc.deal_id, sc.to_stage_id AS stage_id, s.pipeline_id, ` + rank + ` AS rnk
  FROM ` + d.scan("stage_changes", "sc") + `
  JOIN d ON d.id = sc.deal_id
  JOIN stages s ON s.id = sc.to_stage_id
  WHERE sc.workspace_id = ` + ws + ` AND s.workspace_id = ` + ws + ` AND ` + d.utc("sc.changed_at") + ` < ` + to + `
)
SELECT 0, stage_id, 0, COUNT(*) FROM e GROUP BY stage_id
UNION ALL
SELECT 1, pipeline_id, rnk, COUNT(*) FROM (
  SELECT deal_id, pipeline_id, MAX(rnk) AS rnk FROM e GROUP BY deal_id, pipeline_id
) AS f GROUP BY pipeline_id, rnk`
	return query, a
}

// funnelRollupQuery is conversionQuery from the funnel rollups: the
// entries and reach of the deals created in the range's months, over the
// months before its end (a month boundary; see Query.Normalized).
func (s *Service) funnelRollupQuery(p *plan) (string, args) {
	var a args
	d := p.d
	from, to := p.Period.months()*p.first, p.Period.months()*(p.last+1)
	ws1, f1, t1, e1 := a.add(string(p.ws)), a.add(from), a.add(to), a.add(to)
	ws2, f2, t2, e2 := a.add(string(p.ws)), a.add(from), a.add(to), a.add(to)
	return `SELECT 0, stage_id, 0, ` + d.sum("deals") + ` FROM rollup_funnel_entries
WHERE workspace_id = ` + ws1 + ` AND created_month >= ` + f1 + ` AND created_month < ` + t1 + ` AND month < ` + e1 + `
GROUP BY stage_id
UNION ALL
SELECT 1, pipeline_id, stage_rank, ` + d.sum("deals") + ` FROM rollup_funnel_reach
WHERE workspace_id = ` + ws2 + ` AND created_month >= ` + f2 + ` AND created_month < ` + t2 + ` AND month < ` + e2 + `
GROUP BY pipeline_id, stage_rank`, a
}

func (s *Service) conversion(ctx context.Context, p *plan) ([]Funnel, error) {
	pipelines, stages, err := s.stages(ctx, p)
	if err != nil {
		return nil, err
	}
	query, a := s.conversionQuery(p)
	entered := map[pulid.ID]int{}
	furthest := map[pulid.ID]map[int]int{} // pipeline → furthest rank → deals
	err = p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			kind, rnk, n int
			id           pulid.ID
		)
		if err := r.Scan(&kind, &id, &rnk, &n); err != nil {
			return err
		}
		if kind == 0 {
			entered[id] = n
			return nil
		}
		if furthest[id] == nil {
			furthest[id] = map[int]int{}
		}
		furthest[id][rnk] += n
		return nil
	})
	if err != nil {
		return nil, wrap("conversion", err)
	}
	byPipeline := map[pulid.ID][]stageInfo{}
	for _, st := range stages {
		byPipeline[st.pipeline] = append(byPipeline[st.pipeline], st)
	}
	ids := make([]pulid.ID, 0, len(pipelines))
	for id := range pipelines {
		if p.Filter.PipelineID == "" || id == p.Filter.PipelineID {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		if pipelines[ids[i]] != pipelines[ids[j]] {
			return pipelines[ids[i]] < pipelines[ids[j]]
		}
		return ids[i] < ids[j]
	})
	out := make([]Funnel, 0, len(ids))
	for _, pid := range ids {
		f := Funnel{PipelineID: pid, Pipeline: pipelines[pid], Steps: []FunnelStep{}}
		reachedAtLeast := func(r int) int {
			n := 0
			for rk, c := range furthest[pid] {
				if rk >= r {
					n += c
				}
			}
			return n
		}
		for _, c := range furthest[pid] {
			f.Deals += c
		}
		var won *FunnelStep
		for _, st := range byPipeline[pid] {
			switch st.kind {
			case "lost":
				continue
			case "won":
				if won == nil {
					won = &FunnelStep{StageID: st.id, Stage: st.name, Position: st.position, Kind: "won", Reached: reachedAtLeast(wonRank)}
				}
				won.Entered += entered[st.id]
				continue
			}
			f.Steps = append(f.Steps, FunnelStep{StageID: st.id, Stage: st.name, Position: st.position, Kind: "open",
				Entered: entered[st.id], Reached: reachedAtLeast(st.position)})
		}
		if won != nil {
			f.Steps = append(f.Steps, *won)
			f.WinRate = ratio(float64(won.Reached), float64(f.Deals))
		}
		for i := range f.Steps {
			st := &f.Steps[i]
			st.Skipped = st.Reached - st.Entered
			if i > 0 {
				st.Conversion = ratio(float64(st.Reached), float64(f.Steps[i-1].Reached))
			}
			st.FromFirst = ratio(float64(st.Reached), float64(f.Steps[0].Reached))
		}
		out = append(out, f)
	}
	return out, nil
}

// Forecast is the weighted pipeline: open deals by expected close period,
// each weighted by its win probability (the deal's own, else its stage's).
type Forecast struct {
	Period Period `json:"period"`
	// Periods are the range's periods of expected close.
	Periods []ForecastPeriod `json:"periods"`
	// Overdue are open deals expected to close before the range.
	Overdue ForecastBucket `json:"overdue"`
	// Later are open deals expected to close after the range.
	Later ForecastBucket `json:"later"`
	// Unscheduled are open deals with no expected close date.
	Unscheduled ForecastBucket `json:"unscheduled"`
	// Total is every open deal.
	Total ForecastBucket `json:"total"`
}

// ForecastPeriod is the open deals expected to close in one period.
type ForecastPeriod struct {
	Span
	ForecastBucket
}

// ForecastBucket sums a group of open deals.
type ForecastBucket struct {
	Deals int `json:"deals"`
	// Amount is Σ amount.
	Amount crm.Money `json:"amount"`
	// Weighted is Σ amount × probability, rounded to the cent.
	Weighted crm.Money `json:"weighted"`
}

// Forecast returns the weighted pipeline of the open deals (as they are
// now) by expected close period over the range.
func (s *Service) Forecast(ctx context.Context, q Query) (*Forecast, error) {
	p, err := s.prepare(ctx, q)
	if err != nil {
		return nil, err
	}
	var out *Forecast
	err = s.read(ctx, p, func(p *plan) (err error) {
		out, err = s.forecast(ctx, p)
		return err
	})
	return out, err
}

func (s *Service) forecast(ctx context.Context, p *plan) (*Forecast, error) {
	var a args
	ws := a.add(string(p.ws))
	d := p.d
	filter := dealFilter(&a, p, ws, "d")
	k := d.period("d.expected_close_date", p.Period)
	query := `SELECT CASE WHEN d.expected_close_date IS NULL THEN 1 ELSE 0 END, COALESCE(` + k + `, 0), COUNT(*), ` + d.sum("d.amount") + `,
  SUM(d.amount * COALESCE(d.probability, s.probability))
FROM deals d JOIN stages s ON s.id = d.stage_id
WHERE d.workspace_id = ` + ws + ` AND s.workspace_id = ` + ws + ` AND d.deleted_at IS NULL AND d.status = 'open'` + filter + `
GROUP BY 1, 2`
	out := &Forecast{Period: p.Period, Periods: make([]ForecastPeriod, 0, p.periods())}
	for k := p.first; k <= p.last; k++ {
		out.Periods = append(out.Periods, ForecastPeriod{Span: p.span(k)})
	}
	var wOverdue, wLater, wNone, wTotal float64
	weighted := make([]float64, p.periods())
	err := p.each(ctx, query, a, func(r *sql.Rows) error {
		var (
			unscheduled, k int
			n, amount      int64
			w              float64
		)
		if err := r.Scan(&unscheduled, &k, &n, &amount, &w); err != nil {
			return err
		}
		var b *ForecastBucket
		switch {
		case unscheduled == 1:
			b, wNone = &out.Unscheduled, wNone+w
		case k < p.first:
			b, wOverdue = &out.Overdue, wOverdue+w
		case k > p.last:
			b, wLater = &out.Later, wLater+w
		default:
			b = &out.Periods[k-p.first].ForecastBucket
			weighted[k-p.first] += w
		}
		b.Deals += int(n)
		b.Amount += crm.Money(amount)
		out.Total.Deals += int(n)
		out.Total.Amount += crm.Money(amount)
		wTotal += w
		return nil
	})
	if err != nil {
		return nil, wrap("forecast", err)
	}
	for i := range out.Periods {
		out.Periods[i].Weighted = cents(weighted[i])
	}
	out.Overdue.Weighted, out.Later.Weighted, out.Unscheduled.Weighted = cents(wOverdue), cents(wLater), cents(wNone)
	out.Total.Weighted = cents(wTotal)
	return out, nil
}
