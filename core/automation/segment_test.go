package automation

import (
	"context"
	"sort"
	"strings"
	"testing"

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
