package automation

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// dispatchBatch is how many events one pass of Dispatch takes.
const dispatchBatch = 200

// runArgs is the job that works one automation run.
type runArgs struct {
	RunID pulid.ID `json:"run_id"`
}

// Kind implements river.JobArgs.
func (runArgs) Kind() string { return "rapport_automation_run" }

// InsertOpts makes the job unique per run: enqueueing a run twice (a
// dispatcher that died between enqueueing and recording it) is a no-op.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10_000, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// workspaceCtx acts in ws as its admin.
func workspaceCtx(ctx context.Context, ws pulid.ID) context.Context {
	return tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws, Role: tenancy.RoleAdmin})
}

// Dispatch matches the events not yet dispatched against the automations
// of their workspace, records a run for each automation an event fires,
// and enqueues the runs. It returns how many events it dispatched. The
// engine calls it every PollInterval; tests call it to step the engine.
func (e *Engine) Dispatch(ctx context.Context) (int, error) {
	sys := tenancy.System(ctx)
	total := 0
	for {
		evs, err := e.client.Event.Query().
			Where(event.DispatchedAtIsNil()).
			Order(event.ByOccurredAt(), event.ByID()).
			Limit(dispatchBatch).
			All(sys)
		if err != nil {
			return total, fmt.Errorf("reading events: %w", err)
		}
		if len(evs) > 0 {
			if err := e.dispatchEvents(sys, evs); err != nil {
				return total, err
			}
		}
		total += len(evs)
		if len(evs) < dispatchBatch || ctx.Err() != nil {
			break
		}
	}
	return total, e.enqueuePending(sys)
}

func (e *Engine) dispatchEvents(sys context.Context, evs []*ent.Event) error {
	var wss []pulid.ID
	var types []string
	for _, ev := range evs {
		if !slices.Contains(wss, ev.WorkspaceID) {
			wss = append(wss, ev.WorkspaceID)
		}
		if !slices.Contains(types, ev.Type) {
			types = append(types, ev.Type)
		}
	}
	autos, err := e.client.Automation.Query().
		Where(automation.Enabled(true), automation.WorkspaceIDIn(wss...), automation.EventIn(types...)).
		Order(automation.ByCreatedAt(), automation.ByID()).
		All(sys)
	if err != nil {
		return fmt.Errorf("reading automations: %w", err)
	}
	// Events no automation listens to are marked dispatched together.
	var idle []pulid.ID
	for _, ev := range evs {
		var fired []*ent.Automation
		for _, a := range autos {
			// The workspace check is what keeps one workspace's
			// automations blind to another's events. An automation
			// answers events recorded from its creation on, never a
			// backlog that was waiting in the outbox when it was saved.
			if a.WorkspaceID == ev.WorkspaceID && a.Event == ev.Type && !ev.CreatedAt.Before(a.CreatedAt) {
				fired = append(fired, a)
			}
		}
		if len(fired) == 0 {
			idle = append(idle, ev.ID)
			continue
		}
		if err := e.dispatchEvent(sys, ev, fired); err != nil {
			return fmt.Errorf("dispatching event %s: %w", ev.ID, err)
		}
		e.m.events.Inc()
	}
	if len(idle) > 0 {
		if err := e.client.Event.Update().Where(event.IDIn(idle...), event.DispatchedAtIsNil()).
			SetDispatchedAt(time.Now()).Exec(sys); err != nil {
			return fmt.Errorf("marking events dispatched: %w", err)
		}
		e.m.events.Add(float64(len(idle)))
	}
	return nil
}

// dispatchEvent records the runs ev fires and marks it dispatched, in one
// transaction. A run's key (automation, event) is unique, so dispatching
// an event twice (two dispatchers racing) fires nothing twice.
func (e *Engine) dispatchEvent(sys context.Context, ev *ent.Event, autos []*ent.Automation) error {
	var rec *record
	tx, err := e.client.Tx(sys)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, a := range autos {
		c, err := compile(Input{Name: a.Name, Event: a.Event, Condition: a.Condition, Actions: a.Actions})
		if err != nil {
			e.cfg.Logger.Warn("automation no longer valid", "automation", a.ID, "err", err)
			continue
		}
		if rec == nil {
			wctx := workspaceCtx(sys, ev.WorkspaceID)
			rec, err = loadRecord(wctx, e.client, ev.SubjectType, ev.SubjectID)
			if ent.IsNotFound(err) {
				rec, err = &record{Type: ev.SubjectType, ID: ev.SubjectID, Fields: map[string]any{}}, nil
			}
			if err != nil {
				return err
			}
			rec.setChanges(ev.Changes)
			rec.asOf(wctx, e.client, ev.Changes)
			rec.withSegment(wctx, e.client, ev)
		}
		if !c.cond.Eval(rec) {
			continue
		}
		key := string(a.ID) + ":" + string(ev.ID)
		b := tx.AutomationRun.Create().
			SetWorkspaceID(ev.WorkspaceID).
			SetAutomationID(a.ID).
			SetKey(key).
			SetTrigger(ev.Type).
			SetEventID(ev.ID).
			SetSubjectType(ev.SubjectType).
			SetSubjectID(ev.SubjectID).
			SetDepth(ev.Depth).
			SetActions(a.Actions).
			SetSteps(newSteps(a.Actions))
		if ev.Depth >= e.cfg.MaxDepth {
			now := time.Now()
			b.SetStatus(automationrun.StatusFailed).SetFinishedAt(now).
				SetError(fmt.Sprintf("automation loop: %d automation runs led to this event (the limit is %d); its actions did not run", ev.Depth, e.cfg.MaxDepth))
			e.m.runs.WithLabelValues("failed").Inc()
		}
		if err := fire(sys, tx.Client(), key, b); err != nil {
			return err
		}
	}
	if err := tx.Event.UpdateOneID(ev.ID).SetDispatchedAt(time.Now()).Exec(sys); err != nil {
		return err
	}
	return tx.Commit()
}

// fire creates a run unless one with its key exists.
func fire(ctx context.Context, client *ent.Client, key string, b *ent.AutomationRunCreate) error {
	n, err := client.AutomationRun.Query().Where(automationrun.Key(key)).Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	return b.Exec(ctx)
}

func newSteps(actions []map[string]any) []stepState {
	steps := make([]stepState, len(actions))
	for i, a := range actions {
		steps[i].Type, _ = a["type"].(string)
		steps[i].Status = stepPending
	}
	return steps
}

// enqueuePending puts the runs not yet enqueued on the job queue. A run
// enqueued twice is one job (the job is unique per run).
func (e *Engine) enqueuePending(sys context.Context) error {
	ids, err := e.client.AutomationRun.Query().
		Where(automationrun.StatusEQ(automationrun.StatusPending), automationrun.Queued(false)).
		Order(automationrun.ByFiredAt(), automationrun.ByID()).
		Limit(1000).
		IDs(sys)
	if err != nil {
		return fmt.Errorf("reading runs to enqueue: %w", err)
	}
	for _, id := range ids {
		if _, err := e.queue.Insert(sys, runArgs{RunID: id}, nil); err != nil {
			return fmt.Errorf("enqueueing run %s: %w", id, err)
		}
		if err := e.client.AutomationRun.UpdateOneID(id).SetQueued(true).Exec(sys); err != nil {
			return err
		}
		e.m.runs.WithLabelValues("fired").Inc()
	}
	return nil
}
