package schema_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/stage"
	"github.com/rapportcrm/rapport/core/ent/stagechange"
	"github.com/rapportcrm/rapport/core/ent/timelineevent"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// trail is what a change left behind it: its timeline entries, record
// events and stage changes.
type trail struct {
	timeline []*ent.TimelineEvent
	events   []*ent.Event
	stages   []*ent.StageChange
}

func trailOf(t *testing.T, ctx context.Context, c *ent.Client, id pulid.ID) trail {
	t.Helper()
	var tr trail
	var err error
	if tr.timeline, err = c.TimelineEvent.Query().Where(timelineevent.SubjectID(id)).Order(ent.Asc(timelineevent.FieldOccurredAt)).All(ctx); err != nil {
		t.Fatal(err)
	}
	if tr.events, err = c.Event.Query().Where(event.SubjectID(id)).All(tenancy.System(ctx)); err != nil {
		t.Fatal(err)
	}
	if tr.stages, err = c.StageChange.Query().Where(stagechange.DealID(id)).Order(ent.Asc(stagechange.FieldChangedAt)).All(ctx); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestTrailControls checks the context switches imports and archive
// restores use: WithHistory dates a change's trail in the past, Quiet
// writes its events already dispatched (no automation fires), Untrailed
// writes no trail at all.
func TestTrailControls(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		bg := context.Background()
		ws, err := access.CreateWorkspace(bg, st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		pipe, err := c.Pipeline.Create().SetName("Sales").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		open, err := c.Stage.Create().SetPipelineID(pipe.ID).SetName("New").SetPosition(0).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		won, err := c.Stage.Create().SetPipelineID(pipe.ID).SetName("Won").SetPosition(1).SetKind(stage.KindWon).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}

		// History: a contact created in 2019 and a deal won in 2020.
		created := time.Date(2019, 5, 17, 9, 30, 0, 0, time.UTC)
		closed := time.Date(2020, 2, 3, 14, 0, 0, 0, time.UTC)
		hctx := tenancy.WithHistory(ctx, created)
		con, err := c.Contact.Create().SetLastName("Ada").SetCreatedAt(created).Save(hctx)
		if err != nil {
			t.Fatal(err)
		}
		tr := trailOf(t, ctx, c, con.ID)
		if len(tr.timeline) != 1 || !tr.timeline[0].OccurredAt.Equal(created) {
			t.Fatalf("history: timeline %+v, want one entry at %v", tr.timeline, created)
		}
		if len(tr.events) != 1 || !tr.events[0].OccurredAt.Equal(created) || tr.events[0].DispatchedAt != nil {
			t.Fatalf("history: events %+v, want one undispatched event at %v", tr.events, created)
		}
		d, err := c.Deal.Create().SetName("Big").SetPipelineID(pipe.ID).SetStageID(open.ID).SetCreatedAt(created).Save(hctx)
		if err != nil {
			t.Fatal(err)
		}
		d, err = c.Deal.UpdateOneID(d.ID).SetStageID(won.ID).Save(tenancy.WithHistory(ctx, closed))
		if err != nil {
			t.Fatal(err)
		}
		if d.ClosedAt == nil || !d.ClosedAt.Equal(closed) {
			t.Errorf("history: deal closed at %v, want %v", d.ClosedAt, closed)
		}
		tr = trailOf(t, ctx, c, d.ID)
		if len(tr.stages) != 2 || !tr.stages[0].ChangedAt.Equal(created) || !tr.stages[1].ChangedAt.Equal(closed) {
			t.Errorf("history: stage changes %+v, want one at %v and one at %v", tr.stages, created, closed)
		}
		for _, e := range tr.timeline {
			if !e.OccurredAt.Equal(created) && !e.OccurredAt.Equal(closed) {
				t.Errorf("history: deal timeline entry at %v", e.OccurredAt)
			}
		}

		// Quiet: the events are there, already dispatched.
		qcon, err := c.Contact.Create().SetLastName("Quiet").Save(tenancy.Quiet(ctx))
		if err != nil {
			t.Fatal(err)
		}
		tr = trailOf(t, ctx, c, qcon.ID)
		if len(tr.timeline) != 1 || len(tr.events) != 1 || tr.events[0].DispatchedAt == nil {
			t.Errorf("quiet: timeline %d, events %+v, want one dispatched event", len(tr.timeline), tr.events)
		}

		// Untrailed: nothing.
		uctx := tenancy.Untrailed(ctx)
		ucon, err := c.Contact.Create().SetLastName("Restored").Save(uctx)
		if err != nil {
			t.Fatal(err)
		}
		ud, err := c.Deal.Create().SetName("Restored").SetPipelineID(pipe.ID).SetStageID(open.ID).Save(uctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Deal.UpdateOneID(ud.ID).SetStageID(won.ID).Save(uctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []pulid.ID{ucon.ID, ud.ID} {
			if tr := trailOf(t, ctx, c, id); len(tr.timeline)+len(tr.events)+len(tr.stages) != 0 {
				t.Errorf("untrailed %s: %d timeline entries, %d events, %d stage changes", id, len(tr.timeline), len(tr.events), len(tr.stages))
			}
		}
	})
}

// TestExternalIDUnique checks that a workspace holds one record of a type
// per (source, ID), that another workspace may hold the same pair, and
// that records without one are not constrained.
func TestExternalIDUnique(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		bg := context.Background()
		var ctxs []context.Context
		for _, slug := range []string{"acme", "globex"} {
			ws, err := access.CreateWorkspace(bg, st.Client, slug, slug)
			if err != nil {
				t.Fatal(err)
			}
			ctxs = append(ctxs, tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}))
		}
		c := st.Client
		mk := func(ctx context.Context, src, id string) error {
			cc := c.Contact.Create().SetLastName("X")
			if src != "" {
				cc.SetExternalSource(src).SetExternalID(id)
			}
			return cc.Exec(ctx)
		}
		steps := []struct {
			ws       int
			src, id  string
			conflict bool
		}{
			{0, "pipedrive", "17", false},
			{0, "pipedrive", "17", true},
			{0, "hubspot", "17", false},
			{0, "pipedrive", "18", false},
			{1, "pipedrive", "17", false},
			{0, "", "", false},
			{0, "", "", false},
		}
		for i, s := range steps {
			err := mk(ctxs[s.ws], s.src, s.id)
			if got := ent.IsConstraintError(err); got != s.conflict || (err != nil && !got) {
				t.Errorf("step %d (%+v): err %v, want conflict %v", i, s, err, s.conflict)
			}
		}
		if err := c.Contact.Create().SetLastName("X").SetExternalSource("Not A Source").SetExternalID("1").Exec(ctxs[0]); err == nil {
			t.Error("a source with spaces and capitals was taken")
		}
	})
}

// TestBatchedTrail writes the same records twice, once plainly and once
// under schema.Batched, and finds the same trail: the batch holds the
// timeline entries and events back until Flush and then writes them
// all. A link to another workspace's record is refused under
// a batch as without one, even after a good link was cached.
func TestBatchedTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		bg := context.Background()
		c := st.Client
		shape := func(ctx context.Context, batched bool) []string {
			t.Helper()
			tx, err := c.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wctx, b := ctx, (*schema.Batch)(nil)
			if batched {
				wctx, b = schema.Batched(ctx)
			}
			org := tx.Organization.Create().SetName("Org").SaveX(wctx)
			for i := 0; i < 3; i++ {
				tx.Contact.Create().SetLastName(fmt.Sprint("P", i)).SetOrganizationID(org.ID).ExecX(wctx)
			}
			tx.Organization.UpdateOneID(org.ID).SetIndustry("Rail").ExecX(wctx)
			if batched {
				if n := tx.TimelineEvent.Query().CountX(ctx); n != 0 || b.Pending() != 10 {
					t.Errorf("before the flush: %d timeline entries written, %d pending; want 0 and 10", n, b.Pending())
				}
				if err := b.Flush(wctx, tx.Client()); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range c.TimelineEvent.Query().Order(ent.Asc(timelineevent.FieldID)).AllX(ctx) {
				out = append(out, fmt.Sprint(e.Action, e.SubjectType, len(e.Changes)))
			}
			for _, e := range c.Event.Query().Order(ent.Asc(event.FieldID)).AllX(tenancy.System(ctx)) {
				if e.WorkspaceID == tenancy.FromContext(ctx).WorkspaceID {
					out = append(out, e.Type)
				}
			}
			// Entries made in one millisecond have IDs in no order: the
			// outbox orders events by time, then ID.
			sort.Strings(out)
			return out
		}
		var got [2][]string
		var other *ent.Organization
		for i, batched := range []bool{false, true} {
			ws, err := access.CreateWorkspace(bg, c, fmt.Sprint("w", i), "W")
			if err != nil {
				t.Fatal(err)
			}
			ctx := tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
			got[i] = shape(ctx, batched)
			if i == 0 {
				other = c.Organization.Query().FirstX(ctx)
			}
		}
		if fmt.Sprint(got[0]) != fmt.Sprint(got[1]) || len(got[0]) != 10 {
			t.Errorf("plain trail %v\nbatched trail %v", got[0], got[1])
		}
		ws, err := access.CreateWorkspace(bg, c, "w3", "W")
		if err != nil {
			t.Fatal(err)
		}
		ctx, _ := schema.Batched(tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin}))
		own := c.Organization.Create().SetName("Own").SaveX(ctx)
		c.Contact.Create().SetLastName("A").SetOrganizationID(own.ID).ExecX(ctx)
		if err := c.Contact.Create().SetLastName("B").SetOrganizationID(other.ID).Exec(ctx); err == nil {
			t.Error("a batched write linked another workspace's organization")
		}
	})
}

// TestScoreEventTrail: a new score writes a score_changed event, held
// back by a Batch until its flush, and none under Untrailed.
func TestScoreEventTrail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		bg := context.Background()
		ws, err := access.CreateWorkspace(bg, st.Client, "acme", "Acme")
		if err != nil {
			t.Fatal(err)
		}
		ctx := tenancy.NewContext(bg, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
		c := st.Client
		who := c.Contact.Create().SetLastName("Scored").SaveX(ctx)
		score := func(ctx context.Context) {
			c.Score.Create().SetSubjectType("contact").SetSubjectID(who.ID).SetPlugin("p").SetPluginVersion("1").SetValue(1).ExecX(ctx)
		}
		events := func() int {
			return c.Event.Query().Where(event.SubjectID(who.ID), event.Type("contact.score_changed")).CountX(tenancy.System(ctx))
		}
		score(ctx)
		if n := events(); n != 1 {
			t.Fatalf("%d score events, want 1", n)
		}
		score(tenancy.Untrailed(ctx))
		if n := events(); n != 1 {
			t.Errorf("an untrailed score wrote an event: %d", n)
		}
		bctx, b := schema.Batched(ctx)
		score(bctx)
		if n := events(); n != 1 || b.Pending() != 1 {
			t.Errorf("a batched score: %d events written, %d pending; want 1 and 1", n, b.Pending())
		}
		if err := b.Flush(bctx, c); err != nil {
			t.Fatal(err)
		}
		if n := events(); n != 2 {
			t.Errorf("after the flush: %d score events, want 2", n)
		}
	})
}
