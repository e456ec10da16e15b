package automation

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/activity"
	"github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/ent/lead"
	"github.com/rapportcrm/rapport/core/ent/organization"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// scanBatch bounds the idle records one automation fires on per scan.
const scanBatch = 500

// scanArgs is the periodic job that checks time triggers.
type scanArgs struct{}

// Kind implements river.JobArgs.
func (scanArgs) Kind() string { return "rapport_automation_scan" }

// InsertOpts keeps one pending scan at a time.
func (scanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Minute}}
}

type scanWorker struct {
	river.WorkerDefaults[scanArgs]
	e *Engine
}

// Work checks the time triggers.
func (w *scanWorker) Work(ctx context.Context, _ *river.Job[scanArgs]) error {
	_, err := w.e.Scan(ctx, time.Now())
	return err
}

type idle struct {
	id      pulid.ID
	updated time.Time
}

// Scan fires the time-triggered automations: each enabled automation with
// a schedule fires once for every record of its subject unchanged for its
// idle days (as of now) and meeting its condition. A record that changes
// and goes idle again fires again. It also forgets dispatched events
// older than EventRetention. It returns the number of runs fired; the
// engine calls it every ScanInterval.
func (e *Engine) Scan(ctx context.Context, now time.Time) (int, error) {
	sys := tenancy.System(ctx)
	autos, err := e.client.Automation.Query().
		Where(automation.Enabled(true), automation.Or(automation.EventIsNil(), automation.EventEQ(""))).
		All(sys)
	if err != nil {
		return 0, err
	}
	fired := 0
	for _, a := range autos {
		c, err := compile(Input{Name: a.Name, Schedule: a.Schedule, Condition: a.Condition, Actions: a.Actions})
		if err != nil || c.schedule == nil {
			continue
		}
		wctx := workspaceCtx(sys, a.WorkspaceID)
		recs, err := idleRecords(wctx, e.client, c.schedule.Subject, now.AddDate(0, 0, -c.schedule.IdleDays))
		if err != nil {
			return fired, fmt.Errorf("automation %s: %w", a.ID, err)
		}
		for _, r := range recs {
			key := fmt.Sprintf("%s:idle:%s:%d", a.ID, r.id, r.updated.Unix())
			rec, err := loadRecord(wctx, e.client, c.schedule.Subject, r.id)
			if err != nil {
				return fired, err
			}
			if !c.cond.Eval(rec) {
				continue
			}
			b := e.client.AutomationRun.Create().
				SetWorkspaceID(a.WorkspaceID).
				SetAutomationID(a.ID).
				SetKey(key).
				SetTrigger("schedule").
				SetSubjectType(c.schedule.Subject).
				SetSubjectID(r.id).
				SetActions(a.Actions).
				SetSteps(newSteps(a.Actions))
			n, err := e.client.AutomationRun.Query().Where(automationrun.Key(key)).Count(sys)
			if err != nil {
				return fired, err
			}
			if n > 0 {
				continue
			}
			if err := b.Exec(sys); err != nil && !ent.IsConstraintError(err) {
				return fired, err
			}
			fired++
		}
	}
	if _, err := e.client.Event.Delete().
		Where(event.DispatchedAtLT(now.Add(-e.cfg.EventRetention))).Exec(sys); err != nil {
		return fired, fmt.Errorf("forgetting old events: %w", err)
	}
	return fired, e.enqueuePending(sys)
}

// idleRecords lists records of subject not updated since before.
func idleRecords(ctx context.Context, client *ent.Client, subject string, before time.Time) ([]idle, error) {
	var out []idle
	var err error
	switch subject {
	case "deal":
		var rows []*ent.Deal
		rows, err = client.Deal.Query().Where(deal.UpdatedAtLT(before)).Order(deal.ByUpdatedAt()).Limit(scanBatch).All(ctx)
		for _, r := range rows {
			out = append(out, idle{r.ID, r.UpdatedAt})
		}
	case "contact":
		var rows []*ent.Contact
		rows, err = client.Contact.Query().Where(contact.UpdatedAtLT(before)).Order(contact.ByUpdatedAt()).Limit(scanBatch).All(ctx)
		for _, r := range rows {
			out = append(out, idle{r.ID, r.UpdatedAt})
		}
	case "lead":
		var rows []*ent.Lead
		rows, err = client.Lead.Query().Where(lead.UpdatedAtLT(before)).Order(lead.ByUpdatedAt()).Limit(scanBatch).All(ctx)
		for _, r := range rows {
			out = append(out, idle{r.ID, r.UpdatedAt})
		}
	case "organization":
		var rows []*ent.Organization
		rows, err = client.Organization.Query().Where(organization.UpdatedAtLT(before)).Order(organization.ByUpdatedAt()).Limit(scanBatch).All(ctx)
		for _, r := range rows {
			out = append(out, idle{r.ID, r.UpdatedAt})
		}
	case "activity":
		var rows []*ent.Activity
		rows, err = client.Activity.Query().Where(activity.UpdatedAtLT(before)).Order(activity.ByUpdatedAt()).Limit(scanBatch).All(ctx)
		for _, r := range rows {
			out = append(out, idle{r.ID, r.UpdatedAt})
		}
	default:
		return nil, fmt.Errorf("no idle records of %s", subject)
	}
	return out, err
}
