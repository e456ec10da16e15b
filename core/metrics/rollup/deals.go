package rollup

// Deal rollups. A deal that is not deleted contributes
//
//   - to rollup_deal_months, by its pipeline: 1 created in the month it
//     was created; when it is won or lost with a close date, 1 won or
//     lost, its amount and (won) its cycle closed_at − created_at in
//     microseconds, in the month it closed;
//   - to rollup_funnel_entries: 1 per stage it entered, by the month it
//     was created and the month it first entered the stage;
//   - to rollup_funnel_reach, per pipeline whose stages it entered: its
//     furthest rank in the pipeline as a step function of time. Taking
//     the months in which it first entered a stage in order, the month in
//     which its furthest rank rises from a to b adds −1 at rank a (unless
//     it is the first) and +1 at rank b.
//
// so that for a range of months [F, T) core/metrics reads the series
// from the months, and the funnel by summing the entries and the reach
// of the deals created in [F, T) over the months before T: every deal
// adds 1 to the rank that is its furthest as of T, and entered counts
// what the stage changes before T entered. A stage's rank is what
// core/metrics ranks it by: its position when open, above every open
// stage when won (WonRank), −1 when lost.
//
// Each deal's share is kept in rollup_deals and rollup_deal_stages (with
// the rank each stage had when the row was written), so a refresh takes
// the old share away exactly as it was added, whatever changed since: a
// stage's position or kind, the deal's pipeline, its stage history, its
// status, amount or dates, its deletion.

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// WonRank is the funnel rank of a won stage: above every open stage.
const WonRank = 1 << 30

// stageRank is the funnel rank of a stage of the kind and position.
func stageRank(kind string, position int) int {
	switch kind {
	case "won":
		return WonRank
	case "lost":
		return -1
	}
	return position
}

// dealShare is one deal's rows: what it contributes.
type dealShare struct {
	id, pipeline string
	created      int
	closed       bool // won or lost with a close date
	closedMonth  int
	won          bool
	amount       int64
	cycle        int64 // closed_at − created_at, µs (seconds in SQLite)
	stages       []stageShare
	// orphan is set on stored stage rows found without their deal's row.
	orphan bool
}

// stageShare is a deal's entry into a stage.
type stageShare struct {
	stage, pipeline string
	rank, first     int
}

func (d *dealShare) String() string {
	closed := "open"
	if d.closed {
		closed = fmt.Sprintf("lost %d", d.closedMonth)
		if d.won {
			closed = fmt.Sprintf("won %d", d.closedMonth)
		}
	}
	return fmt.Sprintf("pipeline %s created %d %s amount %d cycle %d", d.pipeline, d.created, closed, d.amount, d.cycle)
}

func (s stageShare) String() string {
	return fmt.Sprintf("pipeline %s rank %d first %d", s.pipeline, s.rank, s.first)
}

// sortStages orders a deal's entries by stage.
func (d *dealShare) sortStages() {
	sort.Slice(d.stages, func(i, j int) bool { return d.stages[i].stage < d.stages[j].stage })
}

// enter records an entry into a stage at month m, keeping the first.
func (d *dealShare) enter(stage, pipeline string, rank, m int) {
	for i := range d.stages {
		if d.stages[i].stage == stage {
			d.stages[i].first = min(d.stages[i].first, m)
			return
		}
	}
	d.stages = append(d.stages, stageShare{stage: stage, pipeline: pipeline, rank: rank, first: m})
}

type (
	monthKey struct {
		pipeline string
		month    int
	}
	monthVal struct{ created, won, lost, wonAmount, lostAmount, wonCycle int64 }
	entryKey struct {
		stage          string
		created, month int
	}
	reachKey struct {
		pipeline             string
		created, month, rank int
	}
)

// dealAggs are deltas (or totals) of the deal aggregate tables.
type dealAggs struct {
	months  map[monthKey]*monthVal
	entries map[entryKey]int64
	reach   map[reachKey]int64
}

func newDealAggs() *dealAggs {
	return &dealAggs{months: map[monthKey]*monthVal{}, entries: map[entryKey]int64{}, reach: map[reachKey]int64{}}
}

func (a *dealAggs) month(pipeline string, m int) *monthVal {
	k := monthKey{pipeline, m}
	v := a.months[k]
	if v == nil {
		v = &monthVal{}
		a.months[k] = v
	}
	return v
}

// contribute adds (sign 1) or takes away (sign −1) the deal's share.
func (d *dealShare) contribute(a *dealAggs, sign int64) {
	if !d.orphan {
		a.month(d.pipeline, d.created).created += sign
	}
	if d.closed && !d.orphan {
		v := a.month(d.pipeline, d.closedMonth)
		if d.won {
			v.won += sign
			v.wonAmount += sign * d.amount
			v.wonCycle += sign * d.cycle
		} else {
			v.lost += sign
			v.lostAmount += sign * d.amount
		}
	}
	byPipeline := map[string][]stageShare{}
	for _, s := range d.stages {
		a.entries[entryKey{s.stage, d.created, s.first}] += sign
		byPipeline[s.pipeline] = append(byPipeline[s.pipeline], s)
	}
	for p, ss := range byPipeline {
		sort.Slice(ss, func(i, j int) bool {
			if ss[i].first != ss[j].first {
				return ss[i].first < ss[j].first
			}
			return ss[i].rank < ss[j].rank
		})
		have, furthest := false, 0
		for i := 0; i < len(ss); {
			m, top := ss[i].first, ss[i].rank
			for ; i < len(ss) && ss[i].first == m; i++ {
				top = max(top, ss[i].rank)
			}
			if have && top <= furthest {
				continue
			}
			if have {
				a.reach[reachKey{p, d.created, m, furthest}] -= sign
			}
			a.reach[reachKey{p, d.created, m, top}] += sign
			have, furthest = true, top
		}
	}
}

// cycleOf is closed − created as core/metrics measures it: in
// microseconds, from whole seconds in SQLite (whose time text it reads
// to the second).
func (r *refresher) cycleOf(created, closed time.Time) int64 {
	if r.postgres() {
		return closed.UnixMicro() - created.UnixMicro()
	}
	return (closed.Unix() - created.Unix()) * 1_000_000
}

// recomputeDeals reads the deals (not deleted) of the workspace, all or
// those named by ids, with their stage history, from the raw rows.
func (r *refresher) recomputeDeals(ctx context.Context, ids []string) (map[string]*dealShare, error) {
	out := map[string]*dealShare{}
	args := []any{r.ws}
	where := ""
	if ids != nil {
		where = ` AND id IN (` + r.phs(2, len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	err := r.each(ctx, `SELECT id, pipeline_id, created_at, status, closed_at, amount FROM deals
WHERE workspace_id = `+r.ph(1)+` AND deleted_at IS NULL`+where, args, func(rows *sql.Rows) error {
		var (
			d       dealShare
			created time.Time
			status  string
			closed  sql.NullTime
		)
		if err := rows.Scan(&d.id, &d.pipeline, &created, &status, &closed, &d.amount); err != nil {
			return err
		}
		d.created = MonthIndex(created)
		if (status == "won" || status == "lost") && closed.Valid {
			d.closed, d.won, d.closedMonth = true, status == "won", MonthIndex(closed.Time)
			d.cycle = r.cycleOf(created, closed.Time)
		}
		out[d.id] = &d
		return nil
	})
	if err != nil {
		return nil, err
	}
	args = []any{r.ws, r.ws}
	where = ""
	if ids != nil {
		where = ` AND sc.deal_id IN (` + r.phs(3, len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	err = r.each(ctx, `SELECT sc.deal_id, sc.to_stage_id, s.pipeline_id, s.kind, s.position, sc.changed_at
FROM stage_changes sc JOIN stages s ON s.id = sc.to_stage_id
WHERE sc.workspace_id = `+r.ph(1)+` AND s.workspace_id = `+r.ph(2)+where, args, func(rows *sql.Rows) error {
		var (
			deal, stage, pipeline, kind string
			position                    int
			at                          time.Time
		)
		if err := rows.Scan(&deal, &stage, &pipeline, &kind, &position, &at); err != nil {
			return err
		}
		if d := out[deal]; d != nil {
			d.enter(stage, pipeline, stageRank(kind, position), MonthIndex(at))
		}
		return nil
	})
	for _, d := range out {
		d.sortStages()
	}
	return out, err
}

// storedDeals reads the deals' rows of rollup_deals and
// rollup_deal_stages, all or those named by ids.
func (r *refresher) storedDeals(ctx context.Context, ids []string) (map[string]*dealShare, error) {
	out := map[string]*dealShare{}
	args := []any{r.ws}
	where := ""
	if ids != nil {
		where = ` AND deal_id IN (` + r.phs(2, len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	err := r.each(ctx, `SELECT deal_id, pipeline_id, created_month, closed_month, won, amount, cycle_micros FROM rollup_deals WHERE workspace_id = `+r.ph(1)+where, args,
		func(rows *sql.Rows) error {
			var (
				d      dealShare
				closed sql.NullInt64
				won    int
			)
			if err := rows.Scan(&d.id, &d.pipeline, &d.created, &closed, &won, &d.amount, &d.cycle); err != nil {
				return err
			}
			d.closed, d.closedMonth, d.won = closed.Valid, int(closed.Int64), won == 1
			out[d.id] = &d
			return nil
		})
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, `SELECT deal_id, stage_id, pipeline_id, stage_rank, first_month FROM rollup_deal_stages WHERE workspace_id = `+r.ph(1)+where, args,
		func(rows *sql.Rows) error {
			var (
				deal string
				s    stageShare
			)
			if err := rows.Scan(&deal, &s.stage, &s.pipeline, &s.rank, &s.first); err != nil {
				return err
			}
			d := out[deal]
			if d == nil {
				// A stage row without its deal row: count it as the
				// rows say, so that it is taken away.
				d = &dealShare{id: deal, orphan: true}
				out[deal] = d
			}
			d.stages = append(d.stages, s)
			return nil
		})
	for _, d := range out {
		d.sortStages()
	}
	return out, err
}

var (
	dealCols      = []string{"workspace_id", "deal_id", "pipeline_id", "created_month", "closed_month", "won", "amount", "cycle_micros"}
	dealStageCols = []string{"workspace_id", "deal_id", "stage_id", "pipeline_id", "stage_rank", "first_month"}
)

// shareRows returns the deal's rows of rollup_deals and
// rollup_deal_stages.
func (r *refresher) shareRows(d *dealShare) (deal []any, stages [][]any) {
	var closed any
	won := 0
	if d.closed {
		closed = d.closedMonth
		if d.won {
			won = 1
		}
	}
	deal = []any{r.ws, d.id, d.pipeline, d.created, closed, won, d.amount, d.cycle}
	for _, s := range d.stages {
		stages = append(stages, []any{r.ws, d.id, s.stage, s.pipeline, s.rank, s.first})
	}
	return deal, stages
}

// deals refreshes the deal rollups of the deals ids (sorted).
func (r *refresher) deals(ctx context.Context, ids []string) error {
	return inChunks(ids, chunk/2, func(ids []string) error { return r.dealChunk(ctx, ids) })
}

func (r *refresher) dealChunk(ctx context.Context, ids []string) error {
	if err := r.lockAll(ctx, "deal", ids); err != nil {
		return err
	}
	old, err := r.storedDeals(ctx, ids)
	if err != nil {
		return err
	}
	fresh, err := r.recomputeDeals(ctx, ids)
	if err != nil {
		return err
	}
	aggs := newDealAggs()
	for _, d := range old {
		d.contribute(aggs, -1)
	}
	var deals, stages [][]any
	for _, id := range ids {
		d := fresh[id]
		if d == nil {
			continue
		}
		d.contribute(aggs, 1)
		row, st := r.shareRows(d)
		deals = append(deals, row)
		stages = append(stages, st...)
	}
	idArgs := r.wsAnd(ids)
	for _, table := range []string{"rollup_deals", "rollup_deal_stages"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1)+` AND deal_id IN (`+r.phs(2, len(ids))+`)`, idArgs...); err != nil {
			return err
		}
	}
	if err := r.insertRows(ctx, "rollup_deals", dealCols, deals, ""); err != nil {
		return err
	}
	if err := r.insertRows(ctx, "rollup_deal_stages", dealStageCols, stages, ""); err != nil {
		return err
	}
	return r.moveDealAggs(ctx, aggs)
}

// moveDealAggs adds the deltas to the aggregate tables, each in key
// order.
func (r *refresher) moveDealAggs(ctx context.Context, a *dealAggs) error {
	mk := make([]monthKey, 0, len(a.months))
	for k, v := range a.months {
		if *v != (monthVal{}) {
			mk = append(mk, k)
		}
	}
	sort.Slice(mk, func(i, j int) bool {
		if mk[i].pipeline != mk[j].pipeline {
			return mk[i].pipeline < mk[j].pipeline
		}
		return mk[i].month < mk[j].month
	})
	rows := make([][]any, 0, len(mk))
	for _, k := range mk {
		v := a.months[k]
		rows = append(rows, []any{r.ws, k.pipeline, k.month, v.created, v.won, v.lost, v.wonAmount, v.lostAmount, v.wonCycle})
	}
	if err := r.insertRows(ctx, "rollup_deal_months", dealMonthCols, rows, upsert("rollup_deal_months", "workspace_id, pipeline_id, month", dealMonthCols[3:])); err != nil {
		return err
	}
	ek := make([]entryKey, 0, len(a.entries))
	for k, v := range a.entries {
		if v != 0 {
			ek = append(ek, k)
		}
	}
	sort.Slice(ek, func(i, j int) bool {
		x, y := ek[i], ek[j]
		if x.stage != y.stage {
			return x.stage < y.stage
		}
		if x.created != y.created {
			return x.created < y.created
		}
		return x.month < y.month
	})
	rows = rows[:0]
	for _, k := range ek {
		rows = append(rows, []any{r.ws, k.stage, k.created, k.month, a.entries[k]})
	}
	if err := r.insertRows(ctx, "rollup_funnel_entries", entryCols, rows, upsert("rollup_funnel_entries", "workspace_id, stage_id, created_month, month", entryCols[4:])); err != nil {
		return err
	}
	rk := make([]reachKey, 0, len(a.reach))
	for k, v := range a.reach {
		if v != 0 {
			rk = append(rk, k)
		}
	}
	sort.Slice(rk, func(i, j int) bool {
		x, y := rk[i], rk[j]
		if x.pipeline != y.pipeline {
			return x.pipeline < y.pipeline
		}
		if x.created != y.created {
			return x.created < y.created
		}
		if x.month != y.month {
			return x.month < y.month
		}
		return x.rank < y.rank
	})
	rows = rows[:0]
	for _, k := range rk {
		rows = append(rows, []any{r.ws, k.pipeline, k.created, k.month, k.rank, a.reach[k]})
	}
	return r.insertRows(ctx, "rollup_funnel_reach", reachCols, rows, upsert("rollup_funnel_reach", "workspace_id, pipeline_id, created_month, month, stage_rank", reachCols[5:]))
}

var (
	dealMonthCols = []string{"workspace_id", "pipeline_id", "month", "created", "won", "lost", "won_amount", "lost_amount", "won_cycle_micros"}
	entryCols     = []string{"workspace_id", "stage_id", "created_month", "month", "deals"}
	reachCols     = []string{"workspace_id", "pipeline_id", "created_month", "month", "stage_rank", "deals"}
)

// upsert is the ON CONFLICT clause adding a row's values to the stored
// row's.
func upsert(table, key string, cols []string) string {
	s := " ON CONFLICT (" + key + ") DO UPDATE SET "
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += c + " = " + table + "." + c + " + excluded." + c
	}
	return s
}

// rebuildDeals recomputes the workspace's deal rollups.
func (r *refresher) rebuildDeals(ctx context.Context) error {
	all, err := r.recomputeDeals(ctx, nil)
	if err != nil {
		return err
	}
	for _, table := range []string{"rollup_deals", "rollup_deal_stages", "rollup_deal_months", "rollup_funnel_entries", "rollup_funnel_reach"} {
		if _, err := r.db.ExecContext(ctx, `DELETE FROM `+table+` WHERE workspace_id = `+r.ph(1), r.ws); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	aggs := newDealAggs()
	var deals, stages [][]any
	flush := func(force bool) error {
		if len(stages) < 20*chunk && len(deals) < 20*chunk && !force {
			return nil
		}
		if err := r.insertRows(ctx, "rollup_deals", dealCols, deals, ""); err != nil {
			return err
		}
		if err := r.insertRows(ctx, "rollup_deal_stages", dealStageCols, stages, ""); err != nil {
			return err
		}
		deals, stages = deals[:0], stages[:0]
		return nil
	}
	for _, id := range ids {
		d := all[id]
		d.contribute(aggs, 1)
		row, st := r.shareRows(d)
		deals = append(deals, row)
		stages = append(stages, st...)
		if err := flush(false); err != nil {
			return err
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	return r.moveDealAggs(ctx, aggs)
}

// checkDeals compares the workspace's deal rollups with a recomputation.
func (r *refresher) checkDeals(ctx context.Context) ([]Mismatch, error) {
	want, err := r.recomputeDeals(ctx, nil)
	if err != nil {
		return nil, err
	}
	got, err := r.storedDeals(ctx, nil)
	if err != nil {
		return nil, err
	}
	flat := func(m map[string]*dealShare) (deals, stages map[string]string) {
		deals, stages = map[string]string{}, map[string]string{}
		for id, d := range m {
			if !d.orphan {
				deals[id] = d.String()
			}
			for _, s := range d.stages {
				stages[id+" "+s.stage] = s.String()
			}
		}
		return deals, stages
	}
	gotD, gotS := flat(got)
	wantD, wantS := flat(want)
	out := compare("rollup_deals", gotD, wantD)
	out = append(out, compare("rollup_deal_stages", gotS, wantS)...)

	aggs := newDealAggs()
	for _, d := range want {
		d.contribute(aggs, 1)
	}
	wantM, wantE, wantR := map[string]string{}, map[string]string{}, map[string]string{}
	for k, v := range aggs.months {
		if *v != (monthVal{}) {
			wantM[fmt.Sprint(k)] = fmt.Sprint(*v)
		}
	}
	for k, v := range aggs.entries {
		if v != 0 {
			wantE[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	}
	for k, v := range aggs.reach {
		if v != 0 {
			wantR[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	}
	gotM, gotE, gotR := map[string]string{}, map[string]string{}, map[string]string{}
	err = r.each(ctx, `SELECT pipeline_id, month, created, won, lost, won_amount, lost_amount, won_cycle_micros FROM rollup_deal_months WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			k monthKey
			v monthVal
		)
		if err := rows.Scan(&k.pipeline, &k.month, &v.created, &v.won, &v.lost, &v.wonAmount, &v.lostAmount, &v.wonCycle); err != nil {
			return err
		}
		if v != (monthVal{}) {
			gotM[fmt.Sprint(k)] = fmt.Sprint(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, `SELECT stage_id, created_month, month, deals FROM rollup_funnel_entries WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			k entryKey
			v int64
		)
		if err := rows.Scan(&k.stage, &k.created, &k.month, &v); err != nil {
			return err
		}
		if v != 0 {
			gotE[fmt.Sprint(k)] = fmt.Sprint(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = r.each(ctx, `SELECT pipeline_id, created_month, month, stage_rank, deals FROM rollup_funnel_reach WHERE workspace_id = `+r.ph(1), []any{r.ws}, func(rows *sql.Rows) error {
		var (
			k reachKey
			v int64
		)
		if err := rows.Scan(&k.pipeline, &k.created, &k.month, &k.rank, &v); err != nil {
			return err
		}
		if v != 0 {
			gotR[fmt.Sprint(k)] = fmt.Sprint(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, compare("rollup_deal_months", gotM, wantM)...)
	out = append(out, compare("rollup_funnel_entries", gotE, wantE)...)
	out = append(out, compare("rollup_funnel_reach", gotR, wantR)...)
	return out, nil
}
