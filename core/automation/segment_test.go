package automation

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/sdk"
)

// registrySegmenter re-segments records with a plugin registry, as the
// server's adapter does.
type registrySegmenter struct{ r *extension.Registry }

func (s registrySegmenter) SegmentRecords(ctx context.Context, client *ent.Client, subjectType string, ids []pulid.ID) error {
	_, err := s.r.SegmentAll(ctx, client, extension.SegmentOptions{SubjectType: subjectType, IDs: ids, Trigger: "automation", Wait: true})
	return err
}

// TestSegmentEventsFireAutomations segments leads with the test segmenter
// (big from an estimated value of 10,000, else small; all known) and
// checks that an automation on segment.entered with a condition on the
// segment's key runs once per lead entering it, with the segment's fields
// in its templates, and that a later run that moves one lead fires once
// more; a run_plugin segment action re-segments its record.
func TestSegmentEventsFireAutomations(t *testing.T) {
	dir := extensiontest.Plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		reg := extensiontest.Registry(t, dir)
		w := f.a
		c := f.client
		for i, v := range []int{2_000, 12_000, 30_000, 500} {
			c.Lead.Create().SetTitle("L" + string(rune('A'+i))).SetEstimatedValue(crm.Money(v * 100)).ExecX(w.ctx)
		}
		if _, err := reg.Bind(w.ctx, c, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		// Saving checks the segment's fields and the run_plugin point.
		for _, bad := range []struct {
			in    Input
			field string
		}{
			{Input{Name: "x", Event: "segment.entered", Condition: map[string]any{"field": "segment.colour", "op": "eq", "value": "x"},
				Actions: []map[string]any{{"type": "create_activity", "subject": "x"}}}, "input.condition.field"},
			{Input{Name: "x", Event: "segment.entered", Actions: []map[string]any{{"type": "run_plugin", "point": "report"}}}, "input.actions.0.point"},
			{Input{Name: "x", Event: "segment.moved", Actions: []map[string]any{{"type": "create_activity", "subject": "x"}}}, "input.event"},
		} {
			_, err := Create(w.ctx, c, bad.in)
			var ce *errcode.Error
			if errcode.Of(err) != errcode.BadUserInput || !asError(err, &ce) || ce.Field != bad.field {
				t.Errorf("%v: %v, want BAD_USER_INPUT at %s", bad.in, err, bad.field)
			}
		}
		big := w.automation(t, c, Input{
			Name: "Big leads get a call", Event: "segment.entered",
			Condition: map[string]any{"and": []any{
				map[string]any{"field": "segment.key", "op": "eq", "value": "big"},
				map[string]any{"field": "lead.segments", "op": "contains", "value": "known"},
			}},
			Actions: []map[string]any{
				{"type": "create_activity", "kind": "call", "subject": "Call {{lead.title}}: {{segment.name}}"},
				{"type": "run_plugin", "point": "segment"},
			},
		})
		w.automation(t, c, Input{
			Name: "Left small", Event: "segment.left",
			Condition: map[string]any{"field": "segment.key", "op": "eq", "value": "small"},
			Actions:   []map[string]any{{"type": "create_activity", "subject": "{{lead.title}} left {{segment.key}}"}},
		})
		f.engine(t, func(cfg *Config) { cfg.Segmenter = registrySegmenter{reg} })

		run, err := reg.SegmentSubjects(w.ctx, c, extension.SegmentOptions{SubjectType: "lead"})
		if err != nil || run.Entered != 8 {
			t.Fatalf("segmenting: %+v %v", run, err)
		}
		eventually(t, "two runs of the big-lead automation", func() bool {
			return finished(runs(t, c, func(q *ent.AutomationRunQuery) { q.Where(automationrun.AutomationID(big.ID)) }), 2)
		})
		subjects := func(kind activity.Kind) []string {
			var out []string
			for _, a := range c.Activity.Query().Where(activity.KindEQ(kind)).AllX(w.ctx) {
				out = append(out, a.Subject)
			}
			sort.Strings(out)
			return out
		}
		if got := strings.Join(subjects(activity.KindCall), "|"); got != "Call LB: Big leads|Call LC: Big leads" {
			t.Fatalf("calls: %s", got)
		}
		for _, r := range runs(t, c) {
			if r.Status != automationrun.StatusSucceeded {
				t.Fatalf("run %s: %s %s", r.ID, r.Status, r.Error)
			}
		}
		// The re-segmenting action ran one narrowed run per big lead, which
		// moved nothing.
		segRuns := c.SegmentRun.Query().AllX(w.ctx)
		var narrowed int
		for _, r := range segRuns {
			if r.Trigger == "automation" {
				narrowed++
				if r.Subjects != 1 || r.Entered+r.Left != 0 {
					t.Errorf("automation's run: %+v", r)
				}
			}
		}
		if narrowed != 2 {
			t.Errorf("%d runs by automation, want 2", narrowed)
		}

		// LA grows: it leaves small and enters big; one more call, one "left".
		la := c.Lead.Query().Where(lead.Title("LA")).OnlyX(w.ctx)
		c.Lead.UpdateOneID(la.ID).SetEstimatedValue(crm.Money(15_000 * 100)).ExecX(w.ctx)
		run, err = reg.SegmentSubjects(w.ctx, c, extension.SegmentOptions{SubjectType: "lead"})
		if err != nil || run.Entered != 1 || run.Left != 1 {
			t.Fatalf("second segmenting: %+v %v", run, err)
		}
		eventually(t, "the third run", func() bool {
			return finished(runs(t, c, func(q *ent.AutomationRunQuery) { q.Where(automationrun.AutomationID(big.ID)) }), 3)
		})
		eventually(t, "the left-small activity", func() bool { return len(subjects(activity.KindTask)) == 1 })
		if got := strings.Join(subjects(activity.KindCall), "|"); got != "Call LA: Big leads|Call LB: Big leads|Call LC: Big leads" {
			t.Fatalf("calls: %s", got)
		}
		if got := subjects(activity.KindTask); got[0] != "LA left small" {
			t.Fatalf("tasks: %v", got)
		}
	})
}

func asError(err error, target **errcode.Error) bool {
	e, ok := err.(*errcode.Error)
	if ok {
		*target = e
	}
	return ok
}

// TestNightlyResegmentation: a cron schedule whose only action is
// run_plugin segment fires one run per tick for the whole workspace (not a
// run per record), and that run segments every lead; a schedule with a
// condition still fires per record.
func TestNightlyResegmentation(t *testing.T) {
	dir := extensiontest.Plugins(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		reg := extensiontest.Registry(t, dir)
		w := f.a
		c := f.client
		for i := 0; i < 7; i++ {
			c.Lead.Create().SetTitle("N").SetEstimatedValue(crm.Money(i * 3_000 * 100)).ExecX(w.ctx)
		}
		if _, err := reg.Bind(w.ctx, c, extension.BindInput{Point: sdk.PointSegment, SubjectType: "lead", Plugin: "faulty", Version: "0.1.0"}); err != nil {
			t.Fatal(err)
		}
		nightly := w.automation(t, c, Input{Name: "Nightly", Schedule: map[string]any{"subject": "lead", "cron": "0 2 * * *", "timezone": "Europe/Berlin"},
			Actions: []map[string]any{{"type": "run_plugin", "point": "segment"}}})
		perRecord := w.automation(t, c, Input{Name: "Big ones", Schedule: map[string]any{"subject": "lead", "cron": "0 2 * * *"},
			Condition: map[string]any{"field": "lead.estimated_value", "op": "gte", "value": 10000},
			Actions:   []map[string]any{{"type": "run_plugin", "point": "segment"}}})
		for _, a := range []*ent.Automation{nightly, perRecord} {
			f.startAt(t, a, time.Now().Add(-48*time.Hour))
		}
		f.engine(t, func(cfg *Config) {
			cfg.Segmenter = registrySegmenter{reg}
			cfg.TickInterval = 200 * time.Millisecond
		})
		// Values 0, 3,000 … 18,000: 3 of 10,000 or more.
		deadline := time.Now().Add(60 * time.Second)
		for !(finished(runsOf(t, c, nightly), 1) && finished(runsOf(t, c, perRecord), 3)) {
			if time.Now().After(deadline) {
				for _, r := range runs(t, c) {
					t.Logf("run %s %s %s attempts %d: %s", r.Trigger, r.SubjectID, r.Status, r.Attempts, r.Error)
				}
				t.Fatal("timed out waiting for one nightly run and 3 per-record runs")
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := runsOf(t, c, nightly)[0]
		if r.Status != automationrun.StatusSucceeded || r.SubjectID != w.id {
			t.Fatalf("nightly run: %+v", r)
		}
		var whole, single int
		for _, sr := range c.SegmentRun.Query().AllX(w.ctx) {
			switch sr.Subjects {
			case 7:
				whole++
			case 1:
				single++
			default:
				t.Errorf("a run over %d leads", sr.Subjects)
			}
		}
		if whole != 1 || single != 3 {
			t.Fatalf("segment runs: %d whole, %d single; want 1 and 3", whole, single)
		}
		if n := c.SegmentMembership.Query().CountX(w.ctx); n != 14 {
			t.Fatalf("%d memberships, want 14 (known and big or small for each of 7 leads)", n)
		}
	})
}
