package automation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/internal/clip"
)

type stepState = crm.AutomationStep

// Step statuses.
const (
	stepPending   = "pending"
	stepSucceeded = "succeeded"
	stepFailed    = "failed"
)

// errPermanent marks an action error that no retry can fix (bad
// configuration, a record that is gone): the run fails at once.
var errPermanent = errors.New("permanent")

func permanent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errPermanent, fmt.Sprintf(format, args...))
}

func isPermanent(err error) bool {
	if errors.Is(err, errPermanent) {
		return true
	}
	switch errcode.Of(err) {
	case errcode.BadUserInput, errcode.NotFound, errcode.Forbidden:
		return true
	}
	return false
}

type runWorker struct {
	river.WorkerDefaults[runArgs]
	e *Engine
}

// Work runs one attempt of a run.
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	return w.e.work(ctx, job.Args)
}

// runState is a run being worked.
type runState struct {
	run   *ent.AutomationRun
	event *ent.Event
	rec   *record
	steps []stepState
	// ctx acts in the run's workspace, as the automation.
	ctx context.Context
}

// work runs the run's actions in order, skipping those already done. An
// action that fails is retried (the returned error makes the queue retry
// the job with backoff) until RetryFor has passed since its first attempt;
// then the run fails with the action's last error.
func (e *Engine) work(ctx context.Context, args runArgs) error {
	sys := tenancy.System(ctx)
	run, err := e.client.AutomationRun.Get(sys, args.RunID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if run.Status == automationrun.StatusSucceeded || run.Status == automationrun.StatusFailed {
		return nil
	}
	rs := &runState{run: run, steps: run.Steps}
	if len(rs.steps) != len(run.Actions) {
		rs.steps = newSteps(run.Actions)
	}
	rs.ctx = tenancy.WithAutomation(workspaceCtx(sys, run.WorkspaceID), string(run.AutomationID), run.Depth)
	if err := e.client.AutomationRun.UpdateOneID(run.ID).
		SetStatus(automationrun.StatusRunning).AddAttempts(1).Exec(sys); err != nil {
		return err
	}
	subject := run.SubjectType
	if isSegmentEvent(run.Trigger) {
		subject = segmentSubject // compiled as saved
	}
	actions, err := compileStored(subject, run.Actions)
	if err != nil {
		return e.finish(sys, rs, fmt.Errorf("invalid actions: %w", err))
	}
	if run.EventID != nil {
		if rs.event, err = e.client.Event.Get(sys, *run.EventID); err != nil && !ent.IsNotFound(err) {
			return err
		}
	}
	rs.rec, err = loadRecord(rs.ctx, e.client, run.SubjectType, run.SubjectID)
	if ent.IsNotFound(err) {
		rs.rec, err = &record{Type: run.SubjectType, ID: run.SubjectID, Fields: map[string]any{}}, nil
	}
	if err != nil {
		return err
	}
	if rs.event != nil {
		rs.rec.setChanges(rs.event.Changes)
		rs.rec.withSegment(rs.ctx, e.client, rs.event)
	}
	for i, a := range actions {
		st := &rs.steps[i]
		if st.Status == stepSucceeded {
			continue
		}
		now := time.Now()
		if st.FirstAttemptAt == nil {
			st.FirstAttemptAt = &now
		}
		st.Attempts++
		err := e.runAction(ctx, rs, i, a)
		if err == nil {
			e.m.actions.WithLabelValues(a.Type, "succeeded").Inc()
			if st.Status != stepSucceeded { // actions that write records commit their step themselves
				e.succeed(st)
				if err := e.saveSteps(sys, e.client, rs); err != nil {
					return err
				}
			}
			continue
		}
		st.Error = err.Error()
		if isPermanent(err) || time.Since(*st.FirstAttemptAt) >= e.cfg.RetryFor {
			e.m.actions.WithLabelValues(a.Type, "failed").Inc()
			st.Status = stepFailed
			st.FinishedAt = &now
			e.failDeliveries(sys, run.ID, i, err)
			return e.finish(sys, rs, fmt.Errorf("action %d (%s): %w", i, a.Type, err))
		}
		e.m.actions.WithLabelValues(a.Type, "retried").Inc()
		if serr := e.client.AutomationRun.UpdateOneID(run.ID).
			SetSteps(rs.steps).SetError(clip.String(st.Error, 2000, "...")).
			SetStatus(automationrun.StatusPending).Exec(sys); serr != nil {
			return serr
		}
		return err
	}
	return e.finish(sys, rs, nil)
}

func (e *Engine) succeed(st *stepState) {
	now := time.Now()
	st.Status = stepSucceeded
	st.Error = ""
	st.FinishedAt = &now
}

func (e *Engine) saveSteps(ctx context.Context, client *ent.Client, rs *runState) error {
	return client.AutomationRun.UpdateOneID(rs.run.ID).SetSteps(rs.steps).Exec(ctx)
}

// finish records the run's outcome: succeeded when err is nil, else failed
// with err. The job itself succeeds: there is nothing left to retry.
func (e *Engine) finish(sys context.Context, rs *runState, err error) error {
	u := e.client.AutomationRun.UpdateOneID(rs.run.ID).SetSteps(rs.steps).SetFinishedAt(time.Now())
	if err != nil {
		u.SetStatus(automationrun.StatusFailed).SetError(clip.String(err.Error(), 2000, "..."))
		e.m.runs.WithLabelValues("failed").Inc()
		e.cfg.Logger.Warn("automation run failed", "run", rs.run.ID, "err", err)
	} else {
		u.SetStatus(automationrun.StatusSucceeded).ClearError()
		e.m.runs.WithLabelValues("succeeded").Inc()
	}
	return u.Exec(sys)
}
