package extension_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/predicate"
	"github.com/rapportcrm/rapport/core/ent/segment"
	"github.com/rapportcrm/rapport/core/ent/segmentmembership"
	"github.com/rapportcrm/rapport/core/ent/segmentrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/segments"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/sdk"
)

// expectedSegments is the test segmenter's rule, written out again: a lead
// with an estimated value is "known", and "big" from 10,000, else
// "small".
func expectedSegments(t *testing.T, ctx context.Context, client *ent.Client) map[pulid.ID][]string {
	t.Helper()
	leads, err := client.Lead.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[pulid.ID][]string{}
	for _, l := range leads {
		if l.EstimatedValue >= crm.Money(10000*100) {
			out[l.ID] = []string{"big", "known"}
		} else {
			out[l.ID] = []string{"known", "small"}
		}
	}
	return out
}

// openMemberships reads the open memberships of the plugin's segments as
// subject → sorted keys.
func openMemberships(t *testing.T, ctx context.Context, client *ent.Client) map[pulid.ID][]string {
	t.Helper()
	ms, err := client.SegmentMembership.Query().
		Where(segmentmembership.EndedAtIsNil(), segmentmembership.HasSegmentWith(segment.BindingIDNEQ(""))).
		WithSegment().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[pulid.ID][]string{}
	for _, m := range ms {
		out[m.SubjectID] = append(out[m.SubjectID], m.Edges.Segment.Key)
	}
	for _, keys := range out {
		sort.Strings(keys)
	}
	return out
}

func sameMembers(t *testing.T, what string, got, want map[pulid.ID][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d subjects with memberships, want %d", what, len(got), len(want))
	}
	for id, keys := range want {
		if strings.Join(got[id], ",") != strings.Join(keys, ",") {
			t.Fatalf("%s: %s is in %v, want %v", what, id, got[id], keys)
		}
	}
}

func segmentEvents(t *testing.T, ctx context.Context, client *ent.Client, run pulid.ID) (entered, left []*ent.Event) {
	t.Helper()
	evs, err := client.Event.Query().Where(event.TypeIn(extension.EventSegmentEntered, extension.EventSegmentLeft)).All(tenancy.System(ctx))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		var r string
		for _, c := range ev.Changes {
			if c.Field == "run" {
				r, _ = c.After.(string)
			}
		}
		if r != string(run) {
			continue
		}
		if ev.Type == extension.EventSegmentEntered {
			entered = append(entered, ev)
		} else {
			left = append(left, ev)
		}
	}
	return entered, left
}

// segWorkspace is a workspace with n leads of estimated values 0, 1,000,
// 2,000 … in ID order.
func segWorkspace(t *testing.T, st *store.Store, slug string, n int) context.Context {
	t.Helper()
	ctx := workspace(t, st, slug, n)
	for i, id := range st.Client.Lead.Query().Order(ent.Asc(lead.FieldID)).IDsX(ctx) {
		st.Client.Lead.UpdateOneID(id).SetEstimatedValue(crm.Money(i * 1000 * 100)).ExecX(ctx)
	}
	return ctx
}

func TestSegmentSubjects(t *testing.T) {
	dir := plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := registry(t, dir)
		ctx := segWorkspace(t, st, "seg", 12) // estimated values 0, 1,000 … 11,000
		c := st.Client
		if _, err := r.Bind(ctx, c, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		// A hand-made segment of the same key, which no run may touch.
		manual := c.Segment.Create().SetKey("big").SetName("Hand-picked").SaveX(ctx)
		first := c.Lead.Query().Order(ent.Asc(lead.FieldID)).FirstX(ctx)
		c.SegmentMembership.Create().SetSegmentID(manual.ID).SetSubjectType("lead").SetSubjectID(first.ID).ExecX(ctx)

		t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		var progress []int
		run1, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5, Now: t0,
			Progress: func(done, total int) { progress = append(progress, done, total) }})
		if err != nil {
			t.Fatal(err)
		}
		// 12 leads: 10 under 10,000 (small), 2 big, all known.
		if run1.Status != segmentrun.StatusSucceeded || run1.Subjects != 12 || run1.Segmented != 12 || run1.Batches != 3 ||
			run1.Entered != 24 || run1.Left != 0 || run1.Stayed != 0 || run1.FailedBatches != 0 || run1.FinishedAt == nil {
			t.Fatalf("first run: %+v", run1)
		}
		if fmt.Sprint(progress) != "[5 12 10 12 12 12]" {
			t.Fatalf("progress %v", progress)
		}
		if run1.Plugin != "faulty@0.1.0" || run1.Trigger != "api" {
			t.Fatalf("run names %s, trigger %s", run1.Plugin, run1.Trigger)
		}
		sameMembers(t, "after the first run", openMemberships(t, ctx, c), expectedSegments(t, ctx, c))
		segs := c.Segment.Query().Where(segment.BindingIDNEQ("")).Order(ent.Asc(segment.FieldKey)).AllX(ctx)
		var names []string
		for _, s := range segs {
			names = append(names, s.Key+"="+s.Name+"@"+s.Source)
		}
		// "big" is named by the manifest, the others from their keys.
		if strings.Join(names, " ") != "big=Big leads@faulty@0.1.0 known=Known@faulty@0.1.0 small=Small@faulty@0.1.0" {
			t.Fatalf("plugin segments: %v", names)
		}
		if n := c.SegmentMembership.Query().Where(segmentmembership.SegmentID(manual.ID)).CountX(ctx); n != 1 {
			t.Fatalf("the hand-made segment has %d members, want its 1", n)
		}
		entered, left := segmentEvents(t, ctx, c, run1.ID)
		if len(entered) != 24 || len(left) != 0 {
			t.Fatalf("first run wrote %d entered and %d left events", len(entered), len(left))
		}
		if ev := entered[0]; ev.SubjectType != "lead" || ev.Changes[0].Field != "segment" {
			t.Fatalf("event %+v", ev)
		}

		// Nothing changed: nothing enters or leaves.
		t1 := t0.Add(24 * time.Hour)
		run2, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5, Now: t1})
		if err != nil {
			t.Fatal(err)
		}
		if run2.Entered != 0 || run2.Left != 0 || run2.Stayed != 24 {
			t.Fatalf("second run: entered %d left %d stayed %d", run2.Entered, run2.Left, run2.Stayed)
		}
		if e, l := segmentEvents(t, ctx, c, run2.ID); len(e)+len(l) != 0 {
			t.Fatalf("second run wrote %d events", len(e)+len(l))
		}

		// The first lead grows: it leaves small and enters big, and nothing else moves.
		c.Lead.UpdateOneID(first.ID).SetEstimatedValue(crm.Money(50_000 * 100)).ExecX(ctx)
		t2 := t1.Add(24 * time.Hour)
		run3, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5, Now: t2})
		if err != nil {
			t.Fatal(err)
		}
		if run3.Entered != 1 || run3.Left != 1 || run3.Stayed != 23 {
			t.Fatalf("third run: entered %d left %d stayed %d", run3.Entered, run3.Left, run3.Stayed)
		}
		entered, left = segmentEvents(t, ctx, c, run3.ID)
		if len(entered) != 1 || len(left) != 1 || entered[0].SubjectID != first.ID || left[0].SubjectID != first.ID ||
			entered[0].Changes[0].After != "big" || left[0].Changes[0].After != "small" {
			t.Fatalf("third run's events: entered %v, left %v", entered, left)
		}
		sameMembers(t, "after the move", openMemberships(t, ctx, c), expectedSegments(t, ctx, c))
		// History: the ended membership is kept, and "members on a date"
		// answers as of that date.
		ended := c.SegmentMembership.Query().Where(segmentmembership.SubjectID(first.ID), segmentmembership.EndedAtNotNil()).OnlyX(ctx)
		if *ended.RunID != run1.ID || *ended.EndedRunID != run3.ID || !ended.StartedAt.Equal(t0) || !ended.EndedAt.Equal(t2) {
			t.Fatalf("ended membership %+v", ended)
		}
		ws := tenancy.FromContext(ctx).WorkspaceID
		small := c.Segment.Query().Where(segment.Key("small"), segment.BindingIDNEQ("")).OnlyX(ctx)
		for _, tc := range []struct {
			at   time.Time
			want int
		}{{t0.Add(-time.Hour), 0}, {t0, 10}, {t1.Add(time.Hour), 10}, {t2, 9}, {time.Time{}, 9}} {
			n := c.Lead.Query().Where(predicate.Lead(segments.InSegments(ws, "lead", []pulid.ID{small.ID}, tc.at))).CountX(ctx)
			if n != tc.want {
				t.Fatalf("small on %v: %d members, want %d", tc.at, n, tc.want)
			}
		}
		// By key, the hand-made "big" and the plugin's "big" both count.
		if n := c.Lead.Query().Where(predicate.Lead(segments.WithKeys(ws, "lead", []string{"big"}, time.Time{}))).CountX(ctx); n != 3 {
			t.Fatalf("leads in a segment keyed big: %d, want 3 (2 by value + the first lead, in both)", n)
		}
		// A run narrowed to some subjects touches only them.
		c.Lead.Update().Where(lead.IDNEQ(first.ID)).SetEstimatedValue(crm.Money(20_000 * 100)).ExecX(ctx)
		run4, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", IDs: []pulid.ID{first.ID}, Trigger: "automation"})
		if err != nil {
			t.Fatal(err)
		}
		if run4.Subjects != 1 || run4.Entered != 0 || run4.Left != 0 || run4.Stayed != 2 {
			t.Fatalf("narrowed run: %+v", run4)
		}
		// A full run ends the memberships of a lead deleted since: leads 1-9
		// move from small to big (9 leave, 9 enter), lead 11 is deleted (its
		// big and known end), the rest stay (lead 0: 2, lead 10: 2, 1-9: known).
		last := c.Lead.Query().Order(ent.Desc(lead.FieldID)).FirstX(ctx)
		c.Lead.DeleteOneID(last.ID).ExecX(ctx)
		run5, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", Where: (*ent.LeadWhereInput)(nil)})
		if err != nil {
			t.Fatal(err)
		}
		if run5.Subjects != 11 || run5.Entered != 9 || run5.Left != 11 || run5.Stayed != 13 {
			t.Fatalf("run after a deletion: %+v", run5)
		}
		if _, left := segmentEvents(t, ctx, c, run5.ID); len(left) != 11 {
			t.Fatalf("%d left events, want 11", len(left))
		}
		if n := c.SegmentMembership.Query().Where(segmentmembership.SubjectID(last.ID), segmentmembership.EndedAtIsNil()).CountX(ctx); n != 0 {
			t.Fatalf("the deleted lead keeps %d open memberships", n)
		}
	})
}

func TestSegmentFaults(t *testing.T) {
	dir := plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := registry(t, dir)
		ctx := segWorkspace(t, st, "segfault", 12)
		c := st.Client
		bind := func(cfg map[string]any) {
			t.Helper()
			if _, err := r.Bind(ctx, c, extension.BindInput{Point: sdk.PointSegment, Plugin: "faulty", Version: "0.1.0", Config: cfg}); err != nil {
				t.Fatal(err)
			}
		}
		bind(nil)
		if _, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5}); err != nil {
			t.Fatal(err)
		}
		before := openMemberships(t, ctx, c)
		events := func() int {
			return c.Event.Query().Where(event.TypeIn(extension.EventSegmentEntered, extension.EventSegmentLeft)).CountX(tenancy.System(ctx))
		}
		evBefore := events()
		// Every lead moves, if a run gets to store it.
		c.Lead.Update().SetEstimatedValue(crm.Money(30_000 * 100)).ExecX(ctx)

		for _, tc := range []struct {
			mode, want string
		}{
			{"error", "refusing on purpose"},
			{"badkey", `segment key "Bad Key!"`},
			{"longkey", "segment key \"kkkk"},
			{"emptykey", `segment key ""`},
			{"wrongcount", "offsets"},
			{"garbage", "key code 99"},
			{"loop", "deadline"},
		} {
			t.Run(tc.mode, func(t *testing.T) {
				bind(map[string]any{"Mode": tc.mode})
				run, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5})
				if errcode.Of(err) != errcode.PluginFailed || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want PLUGIN_FAILED naming %q", err, tc.want)
				}
				if run == nil || run.Status != segmentrun.StatusFailed || run.FailedBatches != 3 || run.Segmented != 0 ||
					len(run.Errors) != 3 || run.Entered+run.Left != 0 || run.Lock != nil {
					t.Fatalf("run %+v", run)
				}
				sameMembers(t, tc.mode, openMemberships(t, ctx, c), before)
				if n := events(); n != evBefore {
					t.Fatalf("%d segment events, want %d", n, evBefore)
				}
			})
		}
		// One batch fails, the others apply: the partial run says which.
		bind(map[string]any{"Mode": "failbig", "Threshold": 40_000})
		last := c.Lead.Query().Order(ent.Desc(lead.FieldID)).FirstX(ctx)
		c.Lead.UpdateOneID(last.ID).SetEstimatedValue(crm.Money(45_000 * 100)).ExecX(ctx)
		run, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", BatchSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		// Batches of 5, 5 and 2 leads by ID; the last holds the big lead.
		// The first two move from small to big (10 leave, 10 enter).
		if run.Status != segmentrun.StatusPartial || run.FailedBatches != 1 || run.Segmented != 10 || run.Entered != 10 || run.Left != 10 {
			t.Fatalf("partial run %+v", run)
		}
		got := openMemberships(t, ctx, c)
		ids := c.Lead.Query().Order(ent.Asc(lead.FieldID)).IDsX(ctx)
		for i, id := range ids {
			want := "big,known"
			if i >= 10 {
				want = strings.Join(before[id], ",") // the failed batch kept its memberships
			}
			if strings.Join(got[id], ",") != want {
				t.Fatalf("lead %d is in %v, want %s", i, got[id], want)
			}
		}
	})
}

func TestSegmentRunsExclusive(t *testing.T) {
	dir := plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := registry(t, dir)
		ctx := segWorkspace(t, st, "segx", 3)
		c := st.Client
		b, err := r.Bind(ctx, c, extension.BindInput{Point: sdk.PointSegment, Plugin: "faulty", Version: "0.1.0"})
		if err != nil {
			t.Fatal(err)
		}
		// Another process is running the binding over leads.
		other := c.SegmentRun.Create().SetBindingID(b.ID).SetPlugin("faulty@0.1.0").SetSubjectType("lead").
			SetLock(string(b.ID) + ":lead").SaveX(ctx)
		_, err = r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead"})
		if errcode.Of(err) != errcode.Conflict || !strings.Contains(err.Error(), string(other.ID)) {
			t.Fatalf("a second run: %v, want CONFLICT naming the first", err)
		}
		// A waiting run goes once the other ends.
		done := make(chan error, 1)
		go func() {
			_, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead", Wait: true})
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		select {
		case err := <-done:
			t.Fatalf("the waiting run did not wait: %v", err)
		default:
		}
		c.SegmentRun.UpdateOneID(other.ID).ClearLock().SetStatus(segmentrun.StatusSucceeded).ExecX(ctx)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// A run whose process died (no heartbeat for long) is taken over.
		dead := c.SegmentRun.Create().SetBindingID(b.ID).SetPlugin("faulty@0.1.0").SetSubjectType("lead").
			SetLock(string(b.ID) + ":lead").SetHeartbeatAt(time.Now().Add(-time.Hour)).SaveX(ctx)
		run, err := r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "lead"})
		if err != nil {
			t.Fatal(err)
		}
		if run.Stayed != 6 {
			t.Fatalf("the run after a takeover: %+v", run)
		}
		if d := c.SegmentRun.GetX(ctx, dead.ID); d.Status != segmentrun.StatusInterrupted || d.Lock != nil {
			t.Fatalf("the dead run: %+v", d)
		}
		// Input and permission errors come before anything runs.
		_, err = r.SegmentSubjects(ctx, c, extension.SegmentOptions{SubjectType: "contact"})
		if errcode.Of(err) != errcode.BadUserInput || !strings.Contains(err.Error(), "does not segment contact") {
			t.Fatalf("an undeclared subject type: %v", err)
		}
		viewer := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: tenancy.FromContext(ctx).WorkspaceID, Role: tenancy.RoleViewer})
		runs := c.SegmentRun.Query().CountX(ctx)
		if _, err := r.SegmentSubjects(viewer, c, extension.SegmentOptions{SubjectType: "lead"}); errcode.Of(err) != errcode.Forbidden {
			t.Fatalf("a viewer's run: %v", err)
		}
		if n := c.SegmentRun.Query().CountX(ctx); n != runs {
			t.Fatalf("refused runs were recorded: %d runs, want %d", n, runs)
		}
		// People do not edit a plugin's segments.
		sg := c.Segment.Query().Where(segment.Key("known")).OnlyX(ctx)
		lead0 := c.Lead.Query().FirstX(ctx)
		_, removeErr := c.SegmentMembership.Delete().Where(segmentmembership.SegmentID(sg.ID)).Exec(ctx)
		for name, err := range map[string]error{
			"add a member":    c.SegmentMembership.Create().SetSegmentID(sg.ID).SetSubjectType("lead").SetSubjectID(lead0.ID).Exec(ctx),
			"remove members":  removeErr,
			"change its key":  c.Segment.UpdateOneID(sg.ID).SetKey("other").Exec(ctx),
			"delete it":       c.Segment.DeleteOneID(sg.ID).Exec(ctx),
			"make one":        c.Segment.Create().SetKey("mine").SetName("Mine").SetBindingID(b.ID).Exec(ctx),
			"rename it (ok)":  nil,
			"describe it(ok)": c.Segment.UpdateOneID(sg.ID).SetName("Known leads").SetDescription("Any lead with a value").Exec(ctx),
		} {
			if strings.HasSuffix(name, "ok)") {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				continue
			}
			if errcode.Of(err) != errcode.BadUserInput {
				t.Fatalf("%s: %v, want BAD_USER_INPUT", name, err)
			}
		}
	})
}
