package rollup_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/metrics"
	"github.com/rapportcrm/rapport/core/metrics/rollup"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 10, 30, 15, 0, time.UTC) }

// dealWorld is a workspace whose deals a test writes through ent.
type dealWorld struct {
	t   *testing.T
	st  *store.Store
	ctx context.Context
	ws  pulid.ID
	svc *metrics.Service
	c   *ent.Client
}

// at returns the world's context with the clock at t: stage changes the
// hooks record are dated t.
func (w *dealWorld) at(t time.Time) context.Context { return tenancy.WithHistory(w.ctx, t) }

// queries are the ranges and filters every step compares: months,
// quarters and a year, ranges that cut the history, and a pipeline.
func (w *dealWorld) queries(pipeline pulid.ID) []metrics.Query {
	return []metrics.Query{
		{From: day(2024, 11, 1), To: day(2025, 10, 1)},
		{From: day(2025, 3, 1), To: day(2025, 5, 1)},
		{From: day(2025, 2, 1), To: day(2025, 3, 1)},
		{From: day(2024, 10, 1), To: day(2025, 12, 1), Period: metrics.Quarter},
		{From: day(2025, 4, 1), To: day(2025, 7, 1), Period: metrics.Quarter},
		{From: day(2024, 1, 1), To: day(2026, 1, 1), Period: metrics.Year},
		{From: day(2024, 11, 1), To: day(2025, 10, 1), Filter: metrics.Filter{PipelineID: pipeline}},
		{From: day(2025, 3, 1), To: day(2025, 6, 1), Period: metrics.Quarter, Filter: metrics.Filter{PipelineID: pipeline}},
	}
}

// verify checks that the deal rollups agree with a recomputation and
// that the deal series and funnels read from them equal the raw path.
func (w *dealWorld) verify(step string, pipeline pulid.ID) {
	w.t.Helper()
	ms, err := rollup.Check(context.Background(), w.st.DB, w.st.Dialect, w.ws)
	if err != nil {
		w.t.Fatalf("%s: check: %v", step, err)
	}
	for _, m := range ms {
		w.t.Errorf("%s: %s %s: stored %q, computed %q", step, m.Table, m.Key, m.Stored, m.Computed)
	}
	raw := w.svc.Raw()
	for _, q := range w.queries(pipeline) {
		got, err := w.svc.Deals(w.ctx, q)
		if err != nil {
			w.t.Fatal(err)
		}
		want, err := raw.Deals(w.ctx, q)
		if err != nil {
			w.t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			w.t.Errorf("%s: deals %v %s–%s:\nrollups %s\nraw     %s", step, q.Period, q.From.Format("2006-01"), q.To.Format("2006-01"), js(got), js(want))
		}
		gotF, err := w.svc.Conversion(w.ctx, q)
		if err != nil {
			w.t.Fatal(err)
		}
		wantF, err := raw.Conversion(w.ctx, q)
		if err != nil {
			w.t.Fatal(err)
		}
		if !reflect.DeepEqual(gotF, wantF) {
			w.t.Errorf("%s: conversion %v %s–%s:\nrollups %s\nraw     %s", step, q.Period, q.From.Format("2006-01"), q.To.Format("2006-01"), js(gotF), js(wantF))
		}
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestDealRollups writes deals through ent, step by step, and after each
// step checks the deal rollups against a recomputation and the metrics
// read from them against the raw path.
func TestDealRollups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ws, err := access.CreateWorkspace(context.Background(), st.Client, "dealroll", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		svc := metrics.New(st)
		now := day(2025, 7, 15)
		svc.Now = func() time.Time { return now }
		w := &dealWorld{t: t, st: st, ctx: ctx, ws: ws.ID, svc: svc, c: st.Client}
		c := st.Client
		p := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Sales").Save(ctx))
		q := must[*ent.Pipeline](t)(c.Pipeline.Create().SetName("Renewals").Save(ctx))
		stg := func(pl *ent.Pipeline, name string, pos int, kind stage.Kind) *ent.Stage {
			return must[*ent.Stage](t)(c.Stage.Create().SetPipelineID(pl.ID).SetName(name).SetPosition(pos).SetKind(kind).SetProbability(0.5).Save(ctx))
		}
		lead, qual, prop := stg(p, "Lead", 0, stage.KindOpen), stg(p, "Qualified", 1, stage.KindOpen), stg(p, "Proposal", 2, stage.KindOpen)
		won, lost := stg(p, "Won", 3, stage.KindWon), stg(p, "Lost", 4, stage.KindLost)
		qOpen, qWon := stg(q, "Open", 0, stage.KindOpen), stg(q, "Renewed", 1, stage.KindWon)
		w.verify("empty", p.ID)

		mk := func(name string, amount int64, at time.Time, st *ent.Stage) *ent.Deal {
			return must[*ent.Deal](t)(c.Deal.Create().SetName(name).SetAmount(crm.Money(amount)).SetStageID(st.ID).SetCreatedAt(at).Save(w.at(at)))
		}
		d1 := mk("d1", 100_00, day(2025, 1, 5), lead)
		d2 := mk("d2", 250_00, day(2025, 1, 20), lead)
		d3 := mk("d3", 40_00, day(2025, 2, 3), lead)
		d4 := mk("d4", 900_00, day(2025, 3, 9), qual)
		d5 := mk("d5", 70_00, day(2025, 4, 1), lead)
		d6 := mk("d6", 10_00, day(2025, 2, 14), qOpen)
		w.verify("created", p.ID)

		move := func(d *ent.Deal, to *ent.Stage, at time.Time) *ent.Deal {
			return must[*ent.Deal](t)(c.Deal.UpdateOne(d).SetStageID(to.ID).Save(w.at(at)))
		}
		d1 = move(d1, qual, day(2025, 2, 2))
		d1 = move(d1, won, day(2025, 3, 30))
		d2 = move(d2, prop, day(2025, 2, 25)) // skips Qualified
		d2 = move(d2, lost, day(2025, 4, 2))
		d3 = move(d3, won, day(2025, 5, 17))
		d4 = move(d4, prop, day(2025, 4, 11))
		d6 = move(d6, qWon, day(2025, 3, 3))
		w.verify("moved and closed", p.ID)

		// Reopened: d2 goes back to Qualified (moving back undoes no
		// reach), then is won.
		d2 = move(d2, qual, day(2025, 5, 2))
		w.verify("reopened", p.ID)
		d2 = move(d2, won, day(2025, 6, 8))
		w.verify("won after reopening", p.ID)

		// Amounts and an explicit close date.
		d1 = must[*ent.Deal](t)(c.Deal.UpdateOne(d1).SetAmount(120_00).Save(ctx))
		d4 = must[*ent.Deal](t)(c.Deal.UpdateOne(d4).SetStageID(lost.ID).SetClosedAt(day(2025, 1, 31)).Save(w.at(day(2025, 6, 1))))
		w.verify("amount and close date", p.ID)

		// Back-dated history: a stage change recorded for an earlier
		// month, and a deal created in the past.
		must[*ent.StageChange](t)(c.StageChange.Create().SetDealID(d5.ID).SetFromStageID(lead.ID).SetToStageID(prop.ID).SetChangedAt(day(2025, 1, 2)).Save(ctx))
		d7 := mk("d7", 55_00, day(2024, 12, 12), prop)
		w.verify("back-dated", p.ID)

		// Moved to another pipeline: its history in Sales stays.
		d5 = must[*ent.Deal](t)(c.Deal.UpdateOne(d5).SetPipelineID(q.ID).SetStageID(qOpen.ID).Save(w.at(day(2025, 5, 5))))
		w.verify("moved pipeline", p.ID)
		w.verify("moved pipeline (Renewals)", q.ID)

		// Stages reordered and a kind changed.
		must[*ent.Stage](t)(c.Stage.UpdateOne(qual).SetPosition(2).Save(ctx))
		must[*ent.Stage](t)(c.Stage.UpdateOne(prop).SetPosition(1).Save(ctx))
		w.verify("reordered", p.ID)
		must[*ent.Stage](t)(c.Stage.UpdateOne(prop).SetKind(stage.KindLost).Save(ctx))
		w.verify("kind changed", p.ID)
		must[*ent.Stage](t)(c.Stage.UpdateOne(prop).SetKind(stage.KindOpen).SetName("Proposal again").Save(ctx))

		// Deleted and restored.
		if err := c.Deal.DeleteOne(d3).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		w.verify("deleted", p.ID)
		if err := c.Deal.DeleteOneID(d7.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		w.verify("deleted another", p.ID)
		if err := c.Deal.UpdateOneID(d3.ID).ClearDeletedAt().Exec(schema.IncludeDeleted(ctx)); err != nil {
			t.Fatal(err)
		}
		w.verify("restored", p.ID)

		// A bulk write under a Batch: the rollups catch up at Flush.
		bctx, b := schema.Batched(w.at(day(2025, 6, 20)))
		tx, err := c.Tx(bctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := tx.Deal.Create().SetName("bulk").SetAmount(crm.Money(i+1) * 10_00).SetStageID(won.ID).SetCreatedAt(day(2025, 6, 1+i)).Save(bctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Flush(bctx, tx.Client()); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		w.verify("batch", p.ID)
		_ = d6

		// The metrics do read the rollups: with the deal months emptied
		// they no longer match the raw path, and Check says which rows.
		if _, err := st.DB.Exec(`DELETE FROM rollup_deal_months WHERE workspace_id = `+map[bool]string{true: "$1", false: "?"}[st.Dialect == "postgres"], string(ws.ID)); err != nil {
			t.Fatal(err)
		}
		q0 := w.queries(p.ID)[0]
		got := must[[]metrics.DealPeriod](t)(svc.Deals(ctx, q0))
		want := must[[]metrics.DealPeriod](t)(svc.Raw().Deals(ctx, q0))
		if reflect.DeepEqual(got, want) || got[2].Created != 0 {
			t.Errorf("deals without rollups: %s", js(got))
		}
		ms := must[[]rollup.Mismatch](t)(rollup.Check(ctx, st.DB, st.Dialect, ws.ID))
		if len(ms) == 0 || ms[0].Table != "rollup_deal_months" || ms[0].Stored != "" {
			t.Errorf("check after emptying rollup_deal_months: %+v", ms)
		}
		// Rebuild puts them back.
		tx2, err := st.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rollup.Rebuild(ctx, tx2, st.Dialect, ws.ID); err != nil {
			t.Fatal(err)
		}
		if err := tx2.Commit(); err != nil {
			t.Fatal(err)
		}
		w.verify("rebuilt", p.ID)
	})
}
